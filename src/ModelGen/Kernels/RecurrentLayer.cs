using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// One direction of one recurrent layer over a whole batch of sequences. Shapes (batch first):
/// source <c>[B, T, K]</c>, destination <c>[B, T, D*Hout]</c> of which this direction writes the columns
/// <c>[column, column + Hout)</c>; states <c>[B, Hout]</c> (h) and <c>[B, H]</c> (c).
/// </summary>
internal ref struct DirectionPass
{
    public ReadOnlySpan<float> Parameters;
    public LayerOffsets Offsets;
    public int InputSize;      // K: I for layer 0, D*Hout above it
    public int HiddenSize;     // H
    public int StateSize;      // Hout: P with a projection, else H
    public bool Relu;
    public int Batch;          // B
    public int Steps;          // T
    public bool Reverse;
    public ReadOnlySpan<float> Source;       // [B, T, K]
    public Span<float> Destination;          // [B, T, D*Hout]
    public int DestinationColumn;            // d * Hout
    public ReadOnlySpan<float> InitialH;     // [B, Hout] or empty for zeros
    public ReadOnlySpan<float> InitialC;     // [B, H] or empty for zeros
    public Span<float> FinalH;               // [B, Hout] or empty
    public Span<float> FinalC;               // [B, H] or empty
    // Workspace, sized by the caller.
    public Span<float> InputGates;           // [B, T, G*H]
    public Span<float> HiddenGates;          // [B, G*H]
    public Span<float> H;                    // [B, Hout]
    public Span<float> C;                    // [B, H]
    public Span<float> HFull;                // [B, H], LSTM with projection only
}

/// <summary>The time loop shared by the three cells; only <see cref="ICell.Step"/> differs between them.</summary>
internal static class RecurrentLayer
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TCell>(scoped ref DirectionPass p) where TCell : struct, ICell
    {
        int gateRows = TCell.GateCount * p.HiddenSize;
        int batch = p.Batch, steps = p.Steps, hidden = p.HiddenSize, state = p.StateSize;
        int outFeatures = p.Destination.Length / (batch * steps);
        bool projected = p.Offsets.WeightHr >= 0;
        ReadOnlySpan<float> weights = p.Parameters;
        LayerOffsets o = p.Offsets;
        ReadOnlySpan<float> biasIh = o.BiasIh >= 0 ? weights.Slice(o.BiasIh, gateRows) : default;
        ReadOnlySpan<float> biasHh = o.BiasHh >= 0 ? weights.Slice(o.BiasHh, gateRows) : default;
        ReadOnlySpan<float> weightIh = weights.Slice(o.WeightIh, gateRows * p.InputSize);
        ReadOnlySpan<float> weightHh = weights.Slice(o.WeightHh, gateRows * state);

        // The input half of every gate for all steps at once: xg[b, t] = W_ih x[b, t] + b_ih.
        Linear.Forward(p.Source, p.InputSize, batch * steps, weightIh, gateRows, p.InputSize, biasIh,
            p.InputGates, gateRows);

        Span<float> h = p.H[..(batch * state)];
        Span<float> c = p.C[..(batch * hidden)];
        Span<float> cellOut = projected ? p.HFull[..(batch * hidden)] : h;
        CopyOrZero(p.InitialH, h);
        CopyOrZero(p.InitialC, c);

        ref float xg0 = ref MemoryMarshal.GetReference(p.InputGates);
        ref float hg0 = ref MemoryMarshal.GetReference(p.HiddenGates);
        ref float cell0 = ref MemoryMarshal.GetReference(cellOut);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        for (int s = 0; s < steps; s++)
        {
            int t = p.Reverse ? steps - 1 - s : s;
            // The hidden half: hg[b] = W_hh h[b] + b_hh, all gates in one pass over W_hh.
            Linear.Forward(h, state, batch, weightHh, gateRows, state, biasHh, p.HiddenGates, gateRows);
            for (int b = 0; b < batch; b++)
            {
                TCell.Step(ref Unsafe.Add(ref xg0, (b * steps + t) * gateRows), ref Unsafe.Add(ref hg0, b * gateRows),
                    ref Unsafe.Add(ref cell0, b * hidden), ref Unsafe.Add(ref c0, b * hidden), hidden, p.Relu);
            }
            if (projected)
            {
                // h = W_hr (o ⊙ tanh(c)): LSTM with proj_size.
                Linear.Forward(cellOut, hidden, batch, weights.Slice(o.WeightHr, state * hidden), state, hidden,
                    default, h, state);
            }
            for (int b = 0; b < batch; b++)
            {
                h.Slice(b * state, state).CopyTo(
                    p.Destination.Slice((b * steps + t) * outFeatures + p.DestinationColumn, state));
            }
        }
        if (!p.FinalH.IsEmpty) h.CopyTo(p.FinalH);
        if (!p.FinalC.IsEmpty) c.CopyTo(p.FinalC);
    }

    private static void CopyOrZero(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.IsEmpty) destination.Clear();
        else source.CopyTo(destination);
    }
}
