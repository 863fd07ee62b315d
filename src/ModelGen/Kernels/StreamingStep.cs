using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// One streaming step of a unidirectional stack for one sequence (B = 1): every layer's <c>W_ih x</c>,
/// <c>W_hh h</c>, cell and projection straight into a padded scratch, without the general forward's per-call
/// pass set-up, arena layout, or <c>[B, T, …]</c> sequence buffers.
/// </summary>
/// <remarks>
/// It runs the very arithmetic of <see cref="RecurrentKernel{TSpec}.Forward"/> for T = 1 (the same
/// <see cref="Packed.MatVec"/> calls, cells and subnormal flushes, in the same order), so a step gives the bits
/// of a one-step forward from the same state. The streaming state stays in the caller's <c>[L, 1, Hout]</c> and
/// <c>[L, 1, H]</c> arrays (the models expose them as writable spans); each layer reads it flushed into the
/// padded scratch, whose padding units stay zero, and writes it back once.
/// </remarks>
internal static class StreamingStep<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    private const int Alignment = 16;

    // Where each layer's tensors start in the packed weights (unidirectional: one entry per layer).
    private static readonly LayerOffsets[] Offsets = RecurrentKernel<TSpec>.PackedOffsets.ToArray();

    // Sizes as static readonly fields: Layer is compiled after they are set, so the JIT reads them as
    // constants (the Sizes getters they come from are too deep for its inlining budget there).
    private static readonly int GateStride = Sizes<TSpec>.GateStride;
    private static readonly int Tiles = Packed.Tiles(Sizes<TSpec>.Gates, TSpec.HiddenSize);
    private static readonly int Blocks = Packed.Blocks(TSpec.HiddenSize);
    private static readonly int ProjectionTiles = Packed.Tiles(1, Sizes<TSpec>.State);
    private static readonly int ProjectionStride = Packed.VectorLength(1, Sizes<TSpec>.State);
    // Scratch: input gates, hidden gates, padded h, padded c, the cell's h before a projection, the layer's input.
    private static readonly int HiddenGatesAt = Round(GateStride);
    private static readonly int HAt = 2 * HiddenGatesAt;
    private static readonly int CAt = HAt + Round(Sizes<TSpec>.HStride);
    private static readonly int HFullAt = CAt + Round(Sizes<TSpec>.CStride);
    private static readonly int SourceAt = HFullAt + Round(Sizes<TSpec>.CStride);

    /// <summary>Floats of the scratch <see cref="Step"/> takes; zero when allocated, and its padding stays zero.</summary>
    public static readonly int ScratchLength = SourceAt + Round(Math.Max(TSpec.InputSize, Sizes<TSpec>.OutputFeatures));

    /// <summary>
    /// Advances <paramref name="h"/> <c>[L, Hout]</c> and <paramref name="c"/> <c>[L, H]</c> (LSTM; else empty)
    /// by one step on <paramref name="input"/> <c>[I]</c>, and copies the top layer's h into
    /// <paramref name="output"/> unless it is empty. The caller has checked every length and the aliasing rules.
    /// </summary>
    public static void Step(ReadOnlySpan<float> packed, ReadOnlySpan<float> input, float[] h, float[] c, Span<float> scratch, Span<float> output)
    {
        switch (TSpec.Cell)
        {
            case CellKind.Lstm: Stack<LstmCell>(packed, input, h, c, scratch); break;
            case CellKind.Gru: Stack<GruCell>(packed, input, h, c, scratch); break;
            default: Stack<RnnCell>(packed, input, h, c, scratch); break;
        }
        if (!output.IsEmpty) h.AsSpan((TSpec.NumLayers - 1) * Sizes<TSpec>.State, Sizes<TSpec>.State).CopyTo(output);
    }

    private static void Stack<TCell>(ReadOnlySpan<float> packed, ReadOnlySpan<float> input, float[] h, float[] c, Span<float> scratch)
        where TCell : struct, ICell
    {
        int state = Sizes<TSpec>.State;
        Layer<TCell, FirstLayerInput<TSpec>>(packed, Offsets[0], input, h, c, 0, scratch);
        for (int layer = 1; layer < TSpec.NumLayers; layer++)
        {
            Layer<TCell, UpperLayerInput<TSpec>>(packed, Offsets[layer], h.AsSpan((layer - 1) * state, state), h, c, layer, scratch);
        }
    }

    // A method of its own (never inlined into its tiered callers), so that the JIT's inlining budget covers its
    // kernels: inlined into Step, it left the activations as calls.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Layer<TCell, TInput>(ReadOnlySpan<float> packed, LayerOffsets o, ReadOnlySpan<float> source, float[] hState, float[] cState,
        int layer, Span<float> scratch)
        where TCell : struct, ICell
        where TInput : struct, IDim
    {
        int inputSize = TInput.Value, hidden = TSpec.HiddenSize, state = TSpec.ProjSize > 0 ? TSpec.ProjSize : hidden;
        int gates = TCell.GateCount, tiles = Tiles, tileVectors = Packed.MaxTileVectors / gates * gates;
        int gateStride = GateStride;
        bool projected = TSpec.ProjSize > 0, lstm = TSpec.Cell == CellKind.Lstm;
        ReadOnlySpan<float> weights = packed;
        ref float s = ref MemoryMarshal.GetReference(scratch[..ScratchLength]);
        Span<float> h = scratch.Slice(HAt, state), c = lstm ? scratch.Slice(CAt, hidden) : default;
        Span<float> sourceRow = scratch.Slice(SourceAt, inputSize);
        Span<float> hOut = hState.AsSpan(layer * state, state), cOut = lstm ? cState.AsSpan(layer * hidden, hidden) : default;

        // Flushed copies, as the forward reads its input rows and initial state.
        Subnormals.FlushCopy(source[..inputSize], sourceRow);
        Subnormals.FlushCopy(hOut, h);
        if (lstm) Subnormals.FlushCopy(cOut, c);

        ReadOnlySpan<float> biasIh = o.BiasIh >= 0 ? weights.Slice(o.BiasIh, gateStride) : default;
        ReadOnlySpan<float> biasHh = o.BiasHh >= 0 ? weights.Slice(o.BiasHh, gateStride) : default;
        Packed.MatVec(weights.Slice(o.WeightIh, gateStride * inputSize), tiles, tileVectors, inputSize,
            ref Mem.At(ref s, SourceAt), biasIh, ref s);
        Packed.MatVec(weights.Slice(o.WeightHh, gateStride * state), tiles, tileVectors, state,
            ref Mem.At(ref s, HAt), biasHh, ref Mem.At(ref s, HiddenGatesAt));
        ref float cellH = ref Mem.At(ref s, projected ? HFullAt : HAt);
        TCell.Step<NoCache>(ref s, ref Mem.At(ref s, HiddenGatesAt), ref cellH, ref Mem.At(ref s, CAt), Blocks,
            TSpec.Nonlinearity == RnnNonlinearity.Relu, ref Unsafe.NullRef<float>(), ref Unsafe.NullRef<float>());
        if (projected)
        {
            Packed.MatVec(weights.Slice(o.WeightHr, ProjectionStride * hidden), ProjectionTiles, Packed.MaxTileVectors,
                hidden, ref cellH, default, ref Mem.At(ref s, HAt));
        }
        h.CopyTo(hOut);
        if (lstm) c.CopyTo(cOut);
    }

    private static int Round(int floats) => (floats + Alignment - 1) & ~(Alignment - 1);
}
