using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// One direction of one recurrent layer over a whole batch of sequences. Shapes (batch first):
/// source <c>[B, T, K]</c>, destination <c>[B, T, D*Hout]</c> of which this direction writes the columns
/// <c>[column, column + Hout)</c>; states <c>[B, Hout]</c> (h) and <c>[B, H]</c> (c).
/// </summary>
/// <remarks>
/// With <see cref="Lengths"/> (PyTorch's packed sequences), row b runs its first <c>len_b</c> steps only: the
/// forward direction t = 0 … len_b − 1, the reverse direction t = len_b − 1 … 0, both from the initial state;
/// the destination at t ≥ len_b is zero and the final state is the one after the row's last real step.
/// </remarks>
internal ref struct DirectionPass
{
    public ReadOnlySpan<float> Packed;       // every layer's packed weights
    public LayerOffsets Offsets;             // this layer and direction's, in Packed
    public int Batch;                        // B
    public int Steps;                        // T
    public bool Reverse;
    public ReadOnlySpan<int> Lengths;        // [B] steps of each row, or empty for T each
    public ReadOnlySpan<float> Source;       // [B, T, K]
    public Span<float> SourceRows;           // [SourceChunkRows, K]: rows of Source, flushed of subnormals
    public Span<float> Destination;          // [B, T, D*Hout]
    public int Column;                       // d * Hout
    public ReadOnlySpan<float> InitialH;     // [B, Hout] or empty for zeros
    public ReadOnlySpan<float> InitialC;     // [B, H] or empty for zeros
    public Span<float> FinalH;               // [B, Hout] or empty
    public Span<float> FinalC;               // [B, H] or empty
    // Workspace, sized by the caller with the strides of Sizes.
    public Span<float> InputGates;           // [B, T, gate-packed]
    public Span<float> HiddenGates;          // [B, gate-packed]
    public Span<float> H;                    // [B, HStride]
    public Span<float> C;                    // [B, CStride]
    public Span<float> HFull;                // [B, CStride], LSTM with projection only
    // Training records, written only by Forward<RecordCache>.
    public Span<float> GateCache;            // [B, T, G*CStride] gate activations, gate-major
    public Span<float> CellCache;            // [B, T, CStride] LSTM c, GRU W_hn h + b_hn

    /// <summary>Rows of Source flushed and projected together: enough to reuse each tile of W_ih from L1.</summary>
    public const int SourceChunkRows = 64;
}

/// <summary>The steps of each row of a packed batch (PyTorch's <c>lengths</c>).</summary>
internal static class RowLengths
{
    /// <summary>
    /// Steps of row <paramref name="row"/>: T when <paramref name="lengths"/> is empty. The callers have checked
    /// the values are in [1, T]; the clamp only keeps a wrong value from indexing outside the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Of(ReadOnlySpan<int> lengths, int row, int steps) =>
        lengths.IsEmpty ? steps : Math.Clamp(lengths[row], 0, steps);

    /// <summary>
    /// The end of the run of consecutive rows from <paramref name="start"/> that have step <paramref name="t"/>
    /// (<paramref name="start"/> itself when that row does not), so that a step's rows are batched in runs.
    /// </summary>
    public static int RunEnd(ReadOnlySpan<int> lengths, int start, int batch, int t, int steps)
    {
        if (lengths.IsEmpty) return batch;
        int end = start;
        while (end < batch && t < Of(lengths, end, steps)) end++;
        return end;
    }
}

/// <summary>
/// The time loop shared by the three cells; only <see cref="ICell.Step"/> differs between them. Every size is
/// a static member of <typeparamref name="TSpec"/> or <typeparamref name="TInput"/>, so each specialisation
/// runs its loops with constant bounds.
/// </summary>
internal static class RecurrentLayer<TSpec, TCell, TInput>
    where TSpec : struct, IRecurrentModelSpec
    where TCell : struct, ICell
    where TInput : struct, IDim
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TCache>(scoped ref DirectionPass p) where TCache : struct, ICacheMode
    {
        int inputSize = TInput.Value, hidden = TSpec.HiddenSize, state = Sizes<TSpec>.State;
        int gates = TCell.GateCount, tiles = Packed.Tiles(gates, hidden), tileVectors = Packed.TileVectors(gates);
        int blocks = Packed.Blocks(hidden);
        int gateStride = Sizes<TSpec>.GateStride, hStride = Sizes<TSpec>.HStride, cStride = Sizes<TSpec>.CStride;
        int outFeatures = Sizes<TSpec>.OutputFeatures;
        bool relu = TSpec.Nonlinearity == RnnNonlinearity.Relu;
        bool projected = TSpec.ProjSize > 0;
        int batch = p.Batch, steps = p.Steps;

        LayerOffsets o = p.Offsets;
        ReadOnlySpan<float> weightIh = p.Packed.Slice(o.WeightIh, Packed.MatrixLength(gates, hidden, inputSize));
        ReadOnlySpan<float> weightHh = p.Packed.Slice(o.WeightHh, Packed.MatrixLength(gates, hidden, state));
        ReadOnlySpan<float> weightHr = projected ? p.Packed.Slice(o.WeightHr, Packed.MatrixLength(1, state, hidden)) : default;
        ReadOnlySpan<float> biasIh = o.BiasIh >= 0 ? p.Packed.Slice(o.BiasIh, gateStride) : default;
        ReadOnlySpan<float> biasHh = o.BiasHh >= 0 ? p.Packed.Slice(o.BiasHh, gateStride) : default;

        Span<float> inputGates = p.InputGates[..(batch * steps * gateStride)];
        Span<float> hiddenGates = p.HiddenGates[..(batch * gateStride)];
        Span<float> h = p.H[..(batch * hStride)];
        Span<float> c = p.C[..(batch * cStride)];
        Span<float> hFull = projected ? p.HFull[..(batch * cStride)] : h;
        ref float xg = ref MemoryMarshal.GetReference(inputGates);
        ref float hg = ref MemoryMarshal.GetReference(hiddenGates);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        ref float cell0 = ref MemoryMarshal.GetReference(hFull);
        int cellStride = projected ? cStride : hStride;
        int gateCacheStride = gates * cStride;
        if (TCache.Enabled && (p.GateCache.Length < batch * steps * gateCacheStride || p.CellCache.Length < batch * steps * cStride))
        {
            ThrowTooShort(nameof(p.GateCache));
        }
        ref float gateCache = ref TCache.Enabled ? ref MemoryMarshal.GetReference(p.GateCache) : ref Unsafe.NullRef<float>();
        ref float cellCache = ref TCache.Enabled ? ref MemoryMarshal.GetReference(p.CellCache) : ref Unsafe.NullRef<float>();

        // The input half of every gate for all steps at once: xg[b, t] = W_ih x[b, t] + b_ih, rows read in chunks
        // through a copy flushed of subnormals (the input is the caller's). Padded steps (t >= len_b) are skipped,
        // here and in the time loop, so a ragged batch costs its real steps.
        if (p.Source.Length < batch * steps * inputSize) ThrowTooShort(nameof(p.Source));
        if (p.Destination.Length < batch * steps * outFeatures) ThrowTooShort(nameof(p.Destination));
        ReadOnlySpan<int> lengths = p.Lengths;
        bool ragged = !lengths.IsEmpty;
        if (ragged && lengths.Length < batch) ThrowTooShort(nameof(p.Lengths));
        int chunkRows = DirectionPass.SourceChunkRows;
        Span<float> sourceRows = p.SourceRows[..(chunkRows * inputSize)];
        for (int b = 0; b < batch; b++)
        {
            int length = RowLengths.Of(lengths, b, steps);
            // Without lengths, the rows of every sequence follow each other: one run over the whole batch.
            int first = b * steps, end = ragged ? first + length : batch * steps;
            for (int row = first; row < end; row += chunkRows)
            {
                int count = Math.Min(chunkRows, end - row);
                Subnormals.FlushCopy(p.Source.Slice(row * inputSize, count * inputSize), sourceRows);
                RowProduct.MultiplyPacked(weightIh, tiles, tileVectors, inputSize, count, sourceRows, inputSize, biasIh,
                    inputGates[(row * gateStride)..], gateStride);
            }
            // pad_packed_sequence: the output past a row's length is zero.
            for (int t = length; t < steps; t++) p.Destination.Slice((b * steps + t) * outFeatures + p.Column, state).Clear();
            if (!ragged) break;
        }

        // Padding units start (and stay) at zero.
        h.Clear();
        c.Clear();
        if (projected) hFull.Clear();
        for (int b = 0; b < batch; b++)
        {
            if (!p.InitialH.IsEmpty) Subnormals.FlushCopy(p.InitialH.Slice(b * state, state), h.Slice(b * hStride));
            if (!p.InitialC.IsEmpty) Subnormals.FlushCopy(p.InitialC.Slice(b * hidden, hidden), c.Slice(b * cStride));
        }

        for (int s = 0; s < steps; s++)
        {
            int t = p.Reverse ? steps - 1 - s : s;
            for (int first = 0; first < batch;)
            {
                int end = RowLengths.RunEnd(lengths, first, batch, t, steps);
                if (end == first)
                {
                    first++;
                    continue;
                }
                // The hidden half for the run's rows together: hg[b] = W_hh h[b] + b_hh, one pass over W_hh per group of rows;
                // a row alone (a batch of one) through the product with this layer's sizes as constants.
                if (end - first == 1)
                {
                    HiddenGatesOfOneRow(weightHh, ref h[first * hStride], biasHh, ref hiddenGates[first * gateStride]);
                }
                else
                {
                    RowProduct.MultiplyPacked(weightHh, tiles, tileVectors, state, end - first, h[(first * hStride)..], hStride, biasHh,
                        hiddenGates[(first * gateStride)..], gateStride);
                }
                for (int b = first; b < end; b++)
                {
                    int row = b * steps + t;
                    if (b + 1 < end)
                    {
                        // The next row's input gates and records are a sequence (T rows) further on, past what the
                        // hardware prefetches.
                        Mem.Prefetch(inputGates.Slice((row + steps) * gateStride, gateStride));
                        if (TCache.Enabled)
                        {
                            Mem.Prefetch(p.GateCache.Slice((row + steps) * gateCacheStride, gateCacheStride));
                            Mem.Prefetch(p.CellCache.Slice((row + steps) * cStride, cStride));
                        }
                    }
                    TCell.Step<TCache>(ref Unsafe.Add(ref xg, row * gateStride), ref Unsafe.Add(ref hg, b * gateStride),
                        ref Unsafe.Add(ref cell0, b * cellStride), ref Unsafe.Add(ref c0, b * cStride), blocks, relu,
                        ref Unsafe.Add(ref gateCache, row * gateCacheStride), ref Unsafe.Add(ref cellCache, row * cStride));
                }
                if (projected)
                {
                    // h = W_hr (o ⊙ tanh(c)): LSTM with proj_size.
                    RowProduct.MultiplyPacked(weightHr, Packed.Tiles(1, state), Packed.TileVectors(1), hidden, end - first,
                        hFull[(first * cStride)..], cStride, default, h[(first * hStride)..], hStride);
                }
                for (int b = first; b < end; b++)
                {
                    h.Slice(b * hStride, state).CopyTo(p.Destination.Slice((b * steps + t) * outFeatures + p.Column, state));
                }
                first = end;
            }
        }
        for (int b = 0; b < batch; b++)
        {
            if (!p.FinalH.IsEmpty) h.Slice(b * hStride, state).CopyTo(p.FinalH.Slice(b * state));
            if (!p.FinalC.IsEmpty) c.Slice(b * cStride, hidden).CopyTo(p.FinalC.Slice(b * hidden));
        }
    }

    /// <summary>
    /// <c>hg = W_hh h + b_hh</c> of one row: <see cref="Packed.MatVec"/>, as <see cref="RowProduct.MultiplyPacked"/> runs it
    /// for a row, but compiled for this layer's tiles and columns. The caller's h has Hout floats and hg a gate-packed row.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void HiddenGatesOfOneRow(ReadOnlySpan<float> weightHh, ref float h, ReadOnlySpan<float> biasHh, ref float hg) =>
        Packed.MatVec(weightHh, Packed.Tiles(TCell.GateCount, TSpec.HiddenSize), Packed.TileVectors(TCell.GateCount), Sizes<TSpec>.State,
            ref h, biasHh, ref hg);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooShort(string name) => throw new ArgumentException($"{name} is shorter than its sizes imply.", name);
}
