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
/// of a one-step forward from the same state. The state stays in the caller's <c>[L, 1, Hout]</c> and
/// <c>[L, 1, H]</c> spans (a model's streaming state, or a forward's hN and cN); each layer reads it flushed into the
/// padded scratch, whose padding units stay zero, and writes it back once. The models' own <c>Step</c> of batch 1
/// calls it with a scratch of their own; <see cref="RecurrentKernel{TSpec}.Forward"/> calls it for every other
/// forward of one sequence and one step (a graph's <c>Step</c>, a decoder's next token).
/// </remarks>
internal static class StreamingStep<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    private const int Alignment = 16;

    // Sizes as static readonly ints, the only static fields of this class: the JIT compiles the kernels below after
    // they are set and reads them as constants, and NativeAOT, whose compiler runs a static constructor of nothing
    // but arithmetic at build time, folds them the same way (with an array among them it ran the constructor at
    // run time, and every size in the kernels was a load; StreamingStepTests checks the fields).
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
    /// Zeros what <see cref="Step"/> reads of <paramref name="scratch"/> before it writes it, the padding units of h
    /// and c past H and Hout: for a scratch carved from an arena that other calls use. Every other float of the
    /// scratch a step writes before it reads it.
    /// </summary>
    public static void ClearPadding(Span<float> scratch)
    {
        scratch[(HAt + Sizes<TSpec>.State)..CAt].Clear();
        scratch[(CAt + TSpec.HiddenSize)..HFullAt].Clear();
        scratch[(HFullAt + TSpec.HiddenSize)..SourceAt].Clear();
    }

    /// <summary>
    /// Advances <paramref name="h"/> <c>[L, Hout]</c> and <paramref name="c"/> <c>[L, H]</c> (LSTM; else empty) in
    /// place by one step on <paramref name="input"/> <c>[I]</c>, and copies the top layer's h into
    /// <paramref name="output"/> unless it is empty. The caller has checked every length and the aliasing rules; the
    /// padding of <paramref name="scratch"/> is zero.
    /// </summary>
    public static void Step(ReadOnlySpan<float> packed, ReadOnlySpan<float> input, Span<float> h, Span<float> c, Span<float> scratch, Span<float> output)
    {
        switch (TSpec.Cell)
        {
            case CellKind.Lstm: Stack<LstmCell>(packed, input, h, c, scratch); break;
            case CellKind.Gru: Stack<GruCell>(packed, input, h, c, scratch); break;
            default: Stack<RnnCell>(packed, input, h, c, scratch); break;
        }
        if (!output.IsEmpty) h.Slice((TSpec.NumLayers - 1) * Sizes<TSpec>.State, Sizes<TSpec>.State).CopyTo(output);
    }

    /// <summary>The top layer's new h as <paramref name="scratch"/> holds it after a <see cref="Step"/>.</summary>
    public static ReadOnlySpan<float> TopLayerH(ReadOnlySpan<float> scratch) => scratch.Slice(HAt, Sizes<TSpec>.State);

    private static void Stack<TCell>(ReadOnlySpan<float> packed, ReadOnlySpan<float> input, Span<float> h, Span<float> c, Span<float> scratch)
        where TCell : struct, ICell
    {
        int state = Sizes<TSpec>.State;
        ReadOnlySpan<LayerOffsets> offsets = RecurrentKernel<TSpec>.PackedOffsets;
        Layer<TCell, FirstLayerInput<TSpec>>(packed, offsets[0], input, h, c, 0, scratch);
        for (int layer = 1; layer < TSpec.NumLayers; layer++)
        {
            Layer<TCell, UpperLayerInput<TSpec>>(packed, offsets[layer], h.Slice((layer - 1) * state, state), h, c, layer, scratch);
        }
    }

    // One layer's schedule. Each kernel is a method of its own (never inlined, its sizes constants): inlined into one
    // method, the matrix-vector products and the cell's activations outgrew the JIT's inlining budget for it, and
    // the activations, loads and multiply-adds were left as calls (with 4-float vectors, or under NativeAOT).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Layer<TCell, TInput>(ReadOnlySpan<float> packed, LayerOffsets o, ReadOnlySpan<float> source, Span<float> hState, Span<float> cState,
        int layer, Span<float> scratch)
        where TCell : struct, ICell
        where TInput : struct, IDim
    {
        int inputSize = TInput.Value, hidden = TSpec.HiddenSize, state = Sizes<TSpec>.State;
        bool lstm = TSpec.Cell == CellKind.Lstm;
        ReadOnlySpan<float> weights = packed;
        ref float s = ref MemoryMarshal.GetReference(scratch[..ScratchLength]);
        Span<float> h = scratch.Slice(HAt, state), c = lstm ? scratch.Slice(CAt, hidden) : default;
        Span<float> sourceRow = scratch.Slice(SourceAt, inputSize);
        Span<float> hOut = hState.Slice(layer * state, state), cOut = lstm ? cState.Slice(layer * hidden, hidden) : default;

        // Flushed copies, as the forward reads its input rows and initial state.
        Subnormals.FlushCopy(source[..inputSize], sourceRow);
        Subnormals.FlushCopy(hOut, h);
        if (lstm) Subnormals.FlushCopy(cOut, c);

        ReadOnlySpan<float> biasIh = o.BiasIh >= 0 ? weights.Slice(o.BiasIh, GateStride) : default;
        ReadOnlySpan<float> biasHh = o.BiasHh >= 0 ? weights.Slice(o.BiasHh, GateStride) : default;
        ReadOnlySpan<float> weightIh = weights.Slice(o.WeightIh, GateStride * inputSize), weightHh = weights.Slice(o.WeightHh, GateStride * state);
        // One tile (up to 16 LSTM or GRU units): the products together, else each product's own 8 or 6 chains.
        if (Tiles == 1 && Packed.BothWide(Packed.TileVectors(TCell.GateCount)))
        {
            BothGates<TCell, TInput>(weightIh, biasIh, weightHh, biasHh, ref s);
        }
        else
        {
            Gates<TCell, TInput>(weightIh, ref Mem.At(ref s, SourceAt), biasIh, ref s);
            Gates<TCell, LayerState<TSpec>>(weightHh, ref Mem.At(ref s, HAt), biasHh, ref Mem.At(ref s, HiddenGatesAt));
        }
        Cell<TCell>(ref s);
        if (TSpec.ProjSize > 0) Projection(weights.Slice(o.WeightHr, ProjectionStride * hidden), ref s);
        h.CopyTo(hOut);
        if (lstm) c.CopyTo(cOut);
    }

    /// <summary><c>y = W x + b</c> into gates, of a layer's input (<typeparamref name="TCols"/> I or D·Hout) or its h (Hout).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Gates<TCell, TCols>(ReadOnlySpan<float> weights, ref float x, ReadOnlySpan<float> bias, ref float y)
        where TCell : struct, ICell
        where TCols : struct, IDim =>
        Packed.MatVec(weights, Tiles, Packed.TileVectors(TCell.GateCount), TCols.Value, ref x, bias, ref y);

    /// <summary>Both products of a layer in one pass (<see cref="Packed.MatVecBoth"/>): the input's into the input gates, h's into the hidden gates.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void BothGates<TCell, TInput>(ReadOnlySpan<float> weightIh, ReadOnlySpan<float> biasIh,
        ReadOnlySpan<float> weightHh, ReadOnlySpan<float> biasHh, ref float s)
        where TCell : struct, ICell
        where TInput : struct, IDim =>
        Packed.MatVecBoth(Tiles, Packed.TileVectors(TCell.GateCount),
            weightIh, TInput.Value, ref Mem.At(ref s, SourceAt), biasIh, ref s,
            weightHh, LayerState<TSpec>.Value, ref Mem.At(ref s, HAt), biasHh, ref Mem.At(ref s, HiddenGatesAt));

    /// <summary>The cell on the scratch's input and hidden gates: its h (before a projection) and c in place.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Cell<TCell>(ref float s) where TCell : struct, ICell =>
        TCell.Step<NoCache>(ref s, ref Mem.At(ref s, HiddenGatesAt), ref Mem.At(ref s, TSpec.ProjSize > 0 ? HFullAt : HAt),
            ref Mem.At(ref s, CAt), Blocks, TSpec.Nonlinearity == RnnNonlinearity.Relu, ref Unsafe.NullRef<float>(), ref Unsafe.NullRef<float>());

    /// <summary>LSTM's <c>h = W_hr h_cell</c> (proj_size): from the cell's h into the layer's h.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Projection(ReadOnlySpan<float> weights, ref float s) =>
        Packed.MatVec(weights, ProjectionTiles, Packed.MaxTileVectors, TSpec.HiddenSize, ref Mem.At(ref s, HFullAt), default, ref Mem.At(ref s, HAt));

    private static int Round(int floats) => (floats + Alignment - 1) & ~(Alignment - 1);
}
