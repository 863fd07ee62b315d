using System.Numerics;

namespace ModelGen.Kernels;

/// <summary>
/// Backpropagation through time for one direction of one layer, reading what
/// <see cref="RecurrentLayer{TSpec, TCell, TInput}"/> recorded in its training forward. Shapes as in
/// <see cref="DirectionPass"/>; weights and gradients in PyTorch's row-major layout.
/// </summary>
/// <remarks>
/// With <see cref="Lengths"/>, row b backpropagates through its real steps only: padded steps (t ≥ len_b) get
/// no gradient and add none to <see cref="DSource"/>, and the step before the reverse direction's first,
/// t = len_b − 1, is the initial state. <see cref="DFinalH"/> and <see cref="DFinalC"/> flow into each row's
/// last real step (forward direction: t = len_b − 1; reverse: t = 0).
/// </remarks>
internal ref struct BackwardPass
{
    public ReadOnlySpan<float> Parameters;   // the module's parameter buffer
    public Span<float> Gradients;            // the module's gradient buffer, accumulated with +=
    public LayerOffsets Offsets;             // this layer and direction's, in Parameters and Gradients
    public int Batch;
    public int Steps;
    public bool Reverse;
    public ReadOnlySpan<int> Lengths;        // [B] steps of each row, or empty for T each
    public ReadOnlySpan<float> Source;       // [B, T, K] the layer's input in the training forward
    public ReadOnlySpan<float> Output;       // [B, T, D*Hout] the layer's output in the training forward
    public int Column;                       // d * Hout
    public ReadOnlySpan<float> InitialH;     // [B, Hout] or empty for zeros
    public ReadOnlySpan<float> InitialC;     // [B, H] or empty for zeros
    public ReadOnlySpan<float> GateCache;    // [B, T, G*CStride]
    public ReadOnlySpan<float> CellCache;    // [B, T, CStride]
    public ReadOnlySpan<float> DOutput;      // [B, T, D*Hout] dL/d(output), or empty for zero
    public ReadOnlySpan<float> DFinalH;      // [B, Hout] dL/dh_n, or empty for zero
    public ReadOnlySpan<float> DFinalC;      // [B, H] dL/dc_n (LSTM), or empty for zero
    public Span<float> DSource;              // [B, T, K] dL/d(source), accumulated; empty to skip
    public Span<float> DInitialH;            // [B, Hout] written; empty to skip
    public Span<float> DInitialC;            // [B, H] written; empty to skip
    // Workspace.
    public Span<float> DH;                   // [B, Hout] dL/dh_t from the steps after t
    public Span<float> DC;                   // [B, CStride] dL/dc_t from the steps after t
    public Span<float> Scratch;              // Sizes.BackwardScratch floats
}

internal static class RecurrentLayerBackward<TSpec, TCell, TInput>
    where TSpec : struct, IRecurrentModelSpec
    where TCell : struct, ICell
    where TInput : struct, IDim
{

    /// <summary>
    /// Walks the steps in the reverse of the forward order. At each step: dh = dL/d(output) + dL/dh from the step
    /// after; through the projection (LSTM with proj_size); through the cell; then
    /// <c>dW_ih += dzx ⊗ x</c>, <c>db_ih += dzx</c>, <c>dW_hh += dzh ⊗ h_prev</c>, <c>db_hh += dzh</c>,
    /// <c>dx += W_ihᵀ dzx</c> and <c>dh_prev = W_hhᵀ dzh + direct</c>.
    /// </summary>
    public static void Backward(scoped ref BackwardPass p)
    {
        int inputSize = TInput.Value, hidden = TSpec.HiddenSize, state = Sizes<TSpec>.State;
        int gates = TCell.GateCount, cStride = Sizes<TSpec>.CStride, outFeatures = Sizes<TSpec>.OutputFeatures;
        int gateRows = gates * hidden;
        bool projected = TSpec.ProjSize > 0;
        int batch = p.Batch, steps = p.Steps;
        LayerOffsets o = p.Offsets;
        ReadOnlySpan<float> weightIh = p.Parameters.Slice(o.WeightIh, gateRows * inputSize);
        ReadOnlySpan<float> weightHh = p.Parameters.Slice(o.WeightHh, gateRows * state);
        Span<float> dWeightIh = p.Gradients.Slice(o.WeightIh, gateRows * inputSize);
        Span<float> dWeightHh = p.Gradients.Slice(o.WeightHh, gateRows * state);
        Span<float> dBiasIh = o.BiasIh >= 0 ? p.Gradients.Slice(o.BiasIh, gateRows) : default;
        Span<float> dBiasHh = o.BiasHh >= 0 ? p.Gradients.Slice(o.BiasHh, gateRows) : default;

        int gateSpan = gates * cStride;
        Span<float> scratch = p.Scratch;
        Span<float> dzInput = Take(ref scratch, gateSpan);
        Span<float> dzHidden = Take(ref scratch, gateSpan);
        Span<float> rows = Take(ref scratch, gateSpan)[..gateRows];   // dz in PyTorch's row order, without padding
        Span<float> dState = Take(ref scratch, cStride);              // dL/dh_t, Hout used
        Span<float> dCell = Take(ref scratch, cStride);               // dL/dh of the cell (before W_hr)
        Span<float> hCell = Take(ref scratch, cStride);               // o ⊙ tanh(c), LSTM with projection
        Span<float> direct = Take(ref scratch, cStride);
        Span<float> hPrevious = Take(ref scratch, cStride);
        Span<float> cPrevious = Take(ref scratch, cStride);
        Span<float> dh = p.DH[..(batch * state)];
        Span<float> dc = p.DC[..(batch * cStride)];
        // The carried dL/dh and dL/dc start as the gradient of the final state: each row's first step here is
        // its last real step, whose h and c are h_n and c_n.
        if (p.DFinalH.IsEmpty) dh.Clear();
        else p.DFinalH[..(batch * state)].CopyTo(dh);
        dc.Clear();
        if (!p.DFinalC.IsEmpty)
        {
            for (int b = 0; b < batch; b++) p.DFinalC.Slice(b * hidden, hidden).CopyTo(dc.Slice(b * cStride));
        }
        hPrevious.Clear();
        cPrevious.Clear();
        dState.Clear();
        ReadOnlySpan<int> lengths = p.Lengths;
        if (!lengths.IsEmpty && lengths.Length < batch) throw new ArgumentException("Lengths is shorter than the batch.", nameof(p));

        for (int s = 0; s < steps; s++)
        {
            int t = p.Reverse ? s : steps - 1 - s;
            int tPrevious = p.Reverse ? t + 1 : t - 1;
            for (int b = 0; b < batch; b++)
            {
                int length = RowLengths.Of(lengths, b, steps);
                if (t >= length) continue;
                bool hasPrevious = tPrevious >= 0 && tPrevious < length;
                int row = b * steps + t;
                ReadOnlySpan<float> gateRecord = p.GateCache.Slice(row * gateSpan, gateSpan);
                ReadOnlySpan<float> cellRecord = p.CellCache.Slice(row * cStride, cStride);

                // dL/dh_t: from the output at t and from the step after t.
                Span<float> dhState = dh.Slice(b * state, state);
                if (p.DOutput.IsEmpty) dState[..state].Clear();
                else p.DOutput.Slice(row * outFeatures + p.Column, state).CopyTo(dState);
                Backprop.Add(dState[..state], dhState);

                dCell.Clear();
                if (projected)
                {
                    // h = W_hr h_cell with h_cell = o ⊙ tanh(c): dW_hr += dh ⊗ h_cell, dh_cell = W_hrᵀ dh.
                    RecomputeProjectedCell(gateRecord, cellRecord, hCell);
                    Backprop.AddOuter(p.Gradients.Slice(o.WeightHr, state * hidden), dState[..state], hCell[..hidden]);
                    Backprop.AddTransposedProduct(dCell[..hidden], p.Parameters.Slice(o.WeightHr, state * hidden), dState[..state]);
                }
                else
                {
                    dState[..state].CopyTo(dCell);
                }

                if (hasPrevious) p.Output.Slice((b * steps + tPrevious) * outFeatures + p.Column, state).CopyTo(hPrevious);
                else if (p.InitialH.IsEmpty) hPrevious[..state].Clear();
                else p.InitialH.Slice(b * state, state).CopyTo(hPrevious);
                if (TSpec.Cell == CellKind.Lstm)
                {
                    if (hasPrevious) p.CellCache.Slice((b * steps + tPrevious) * cStride, hidden).CopyTo(cPrevious);
                    else if (p.InitialC.IsEmpty) cPrevious[..hidden].Clear();
                    else p.InitialC.Slice(b * hidden, hidden).CopyTo(cPrevious);
                }

                TCell.Backward(new CellBackward
                {
                    Padded = cStride,
                    Relu = TSpec.Nonlinearity == RnnNonlinearity.Relu,
                    Gates = gateRecord,
                    Cell = cellRecord,
                    CellPrevious = cPrevious,
                    HPrevious = hPrevious,
                    DH = dCell,
                    DC = dc.Slice(b * cStride, cStride),
                    DZInput = dzInput,
                    DZHidden = dzHidden,
                    DHPreviousDirect = direct,
                });

                // Input side: dW_ih += dzx ⊗ x, db_ih += dzx, dx += W_ihᵀ dzx.
                Unpad(dzInput, rows);
                Backprop.AddOuter(dWeightIh, rows, p.Source.Slice(row * inputSize, inputSize));
                if (!dBiasIh.IsEmpty) Backprop.Add(dBiasIh, rows);
                if (!p.DSource.IsEmpty) Backprop.AddTransposedProduct(p.DSource.Slice(row * inputSize, inputSize), weightIh, rows);

                // Hidden side: dW_hh += dzh ⊗ h_prev, db_hh += dzh, dh_prev = W_hhᵀ dzh + direct.
                Unpad(dzHidden, rows);
                Backprop.AddOuter(dWeightHh, rows, hPrevious[..state]);
                if (!dBiasHh.IsEmpty) Backprop.Add(dBiasHh, rows);
                direct[..state].CopyTo(dhState);
                Backprop.AddTransposedProduct(dhState, weightHh, rows);
            }
        }
        for (int b = 0; b < batch; b++)
        {
            if (!p.DInitialH.IsEmpty) dh.Slice(b * state, state).CopyTo(p.DInitialH.Slice(b * state, state));
            if (!p.DInitialC.IsEmpty) dc.Slice(b * cStride, hidden).CopyTo(p.DInitialC.Slice(b * hidden, hidden));
        }
    }

    private static Span<float> Take(ref Span<float> scratch, int length)
    {
        Span<float> part = scratch[..length];
        scratch = scratch[length..];
        return part;
    }

    /// <summary>Gate-major padded (g·Hp + j) to PyTorch's rows (g·H + j).</summary>
    private static void Unpad(ReadOnlySpan<float> padded, Span<float> rows)
    {
        int hidden = TSpec.HiddenSize, cStride = Sizes<TSpec>.CStride;
        for (int g = 0; g < TCell.GateCount; g++) padded.Slice(g * cStride, hidden).CopyTo(rows.Slice(g * hidden, hidden));
    }

    /// <summary>The LSTM cell's output before the projection, <c>o ⊙ tanh(c)</c>, from the step's records.</summary>
    private static void RecomputeProjectedCell(ReadOnlySpan<float> gateRecord, ReadOnlySpan<float> cellRecord, Span<float> hCell)
    {
        int cStride = Sizes<TSpec>.CStride;
        ReadOnlySpan<Vector<float>> o = Mem.Vectors(gateRecord.Slice(3 * cStride, cStride)), c = Mem.Vectors(cellRecord);
        Span<Vector<float>> h = Mem.Vectors(hCell[..cStride]);
        for (int u = 0; u < h.Length; u++) h[u] = o[u] * Activations.Tanh(c[u]);
    }
}
