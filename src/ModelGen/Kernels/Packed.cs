using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// The column ("outer-product") layout the forward kernels read, made from PyTorch's row-major weights.
/// </summary>
/// <remarks>
/// <para>A matrix with <c>gates × units</c> rows (gate g of unit j is row <c>g·units + j</c>, PyTorch's
/// stacking) and <c>cols</c> columns is cut into blocks of V = <see cref="Vector{T}.Count"/> units and tiles of
/// <c>BlocksPerTile</c> blocks. A tile holds <c>TileVectors = BlocksPerTile · gates</c> vectors per column, all
/// gates of the same units side by side, and its columns follow each other:</para>
/// <code>packed[((tile · cols + k) · TileVectors + blockInTile · gates + g) · V + lane] = W[g · units + unit, k]</code>
/// <para>so that <c>y = W x</c> is, per tile, one forward stream over the weights: broadcast x[k], FMA it into
/// TileVectors accumulators that stay in registers (8 of the 16 vector registers), store once. No horizontal
/// sums. The result is "gate-packed": gate g of block u at <c>(u · gates + g) · V</c>, so the cell update reads
/// its gates of V units side by side. Units past the end pad with zero weights and zero biases, which keeps the
/// padded units of h and c at exactly zero through every cell.</para>
/// </remarks>
internal static class Packed
{
    /// <summary>Accumulators per tile: 8 vectors keeps the step within the 16 vector registers.</summary>
    public const int MaxTileVectors = 8;

    public static int BlocksPerTile(int gates) => MaxTileVectors / gates;

    public static int TileVectors(int gates) => BlocksPerTile(gates) * gates;

    public static int Blocks(int units) => (units + Vector<float>.Count - 1) / Vector<float>.Count;

    public static int Tiles(int gates, int units) => (Blocks(units) + BlocksPerTile(gates) - 1) / BlocksPerTile(gates);

    /// <summary>Floats of a gate-packed vector (the output of <see cref="MatVec"/>), padding included.</summary>
    public static int VectorLength(int gates, int units) => Tiles(gates, units) * TileVectors(gates) * Vector<float>.Count;

    /// <summary>Floats of a packed matrix.</summary>
    public static int MatrixLength(int gates, int units, int cols) => VectorLength(gates, units) * cols;

    /// <summary>Packs a row-major <c>[gates·units, cols]</c> matrix, its subnormals flushed (see <see cref="Subnormals"/>).</summary>
    public static void PackMatrix(ReadOnlySpan<float> w, int gates, int units, int cols, Span<float> packed)
    {
        int v = Vector<float>.Count, perTile = BlocksPerTile(gates), tileVectors = TileVectors(gates);
        packed[..MatrixLength(gates, units, cols)].Clear();
        for (int tile = 0; tile < Tiles(gates, units); tile++)
        {
            for (int k = 0; k < cols; k++)
            {
                for (int blockInTile = 0; blockInTile < perTile; blockInTile++)
                {
                    for (int g = 0; g < gates; g++)
                    {
                        for (int lane = 0; lane < v; lane++)
                        {
                            int unit = ((tile * perTile) + blockInTile) * v + lane;
                            if (unit >= units) continue;
                            packed[(((tile * cols) + k) * tileVectors + blockInTile * gates + g) * v + lane] =
                                Subnormals.Flush(w[((g * units) + unit) * cols + k]);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Packs a <c>[gates·units]</c> vector (a bias) into the gate-packed order, its subnormals flushed.</summary>
    public static void PackVector(ReadOnlySpan<float> b, int gates, int units, Span<float> packed)
    {
        int v = Vector<float>.Count;
        packed[..VectorLength(gates, units)].Clear();
        for (int g = 0; g < gates; g++)
        {
            for (int unit = 0; unit < units; unit++)
            {
                packed[((unit / v) * gates + g) * v + unit % v] = Subnormals.Flush(b[g * units + unit]);
            }
        }
    }

    /// <summary>
    /// <c>y = W x (+ bias)</c> for a packed W of <paramref name="tiles"/> tiles and <paramref name="cols"/>
    /// columns; y and bias gate-packed. Inlined into callers whose sizes are constants.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MatVec(ReadOnlySpan<float> packed, int tiles, int tileVectors, int cols,
        ref float x, ReadOnlySpan<float> bias, ref float y)
    {
        int v = Vector<float>.Count;
        int tile = 0, tileWide = tileVectors * v / Vector512<float>.Count;
        // Whole pairs of tiles of 4 or 3 512-bit vectors (8-float Vector<T>); the kernel below takes the rest. (The
        // intrinsic first, see IsWider.)
        if (Vector512.IsHardwareAccelerated && Vector512Lanes.IsWider && tiles >= 2 && tileVectors * v % Vector512<float>.Count == 0 && tileWide is 3 or 4)
        {
            tile = tiles / 2 * 2;
            MatVecWide(packed, tile, tileWide, cols, ref x, bias, ref y);
        }
        ref float w = ref MemoryMarshal.GetReference(packed);
        ref float b = ref MemoryMarshal.GetReference(bias);
        bool hasBias = !bias.IsEmpty;
        for (; tile < tiles; tile++)
        {
            int tileStart = tile * tileVectors * v;
            Vector<float> a0 = default, a1 = default, a2 = default, a3 = default,
                a4 = default, a5 = default, a6 = default, a7 = default;
            if (hasBias)
            {
                ref float bt = ref Unsafe.Add(ref b, tileStart);
                a0 = Mem.Load(ref bt, 0); a1 = Mem.Load(ref bt, v); a2 = Mem.Load(ref bt, 2 * v); a3 = Mem.Load(ref bt, 3 * v);
                a4 = Mem.Load(ref bt, 4 * v); a5 = Mem.Load(ref bt, 5 * v);
                if (tileVectors == 8) { a6 = Mem.Load(ref bt, 6 * v); a7 = Mem.Load(ref bt, 7 * v); }
            }
            ref float wt = ref Unsafe.Add(ref w, tileStart * cols);
            for (int k = 0; k < cols; k++)
            {
                var xk = new Vector<float>(Unsafe.Add(ref x, k));
                ref float wk = ref Unsafe.Add(ref wt, k * tileVectors * v);
                a0 = MultiplyAdd.Of(Mem.Load(ref wk, 0), xk, a0);
                a1 = MultiplyAdd.Of(Mem.Load(ref wk, v), xk, a1);
                a2 = MultiplyAdd.Of(Mem.Load(ref wk, 2 * v), xk, a2);
                a3 = MultiplyAdd.Of(Mem.Load(ref wk, 3 * v), xk, a3);
                a4 = MultiplyAdd.Of(Mem.Load(ref wk, 4 * v), xk, a4);
                a5 = MultiplyAdd.Of(Mem.Load(ref wk, 5 * v), xk, a5);
                if (tileVectors == 8)
                {
                    a6 = MultiplyAdd.Of(Mem.Load(ref wk, 6 * v), xk, a6);
                    a7 = MultiplyAdd.Of(Mem.Load(ref wk, 7 * v), xk, a7);
                }
            }
            ref float yt = ref Unsafe.Add(ref y, tileStart);
            a0.StoreUnsafe(ref yt, 0); a1.StoreUnsafe(ref yt, (nuint)v); a2.StoreUnsafe(ref yt, (nuint)(2 * v));
            a3.StoreUnsafe(ref yt, (nuint)(3 * v)); a4.StoreUnsafe(ref yt, (nuint)(4 * v)); a5.StoreUnsafe(ref yt, (nuint)(5 * v));
            if (tileVectors == 8) { a6.StoreUnsafe(ref yt, (nuint)(6 * v)); a7.StoreUnsafe(ref yt, (nuint)(7 * v)); }
        }
    }

    /// <summary>
    /// Whether <see cref="MatVecBoth"/> runs for tiles of <paramref name="tileVectors"/> vectors: the core has
    /// 512-bit registers beside 8-float <see cref="Vector{T}"/>, and a tile is 4 (LSTM, RNN) or 3 (GRU) of them.
    /// </summary>
    public static bool BothWide(int tileVectors) =>
        Vector512.IsHardwareAccelerated && Vector512Lanes.IsWider && tileVectors * Vector<float>.Count % Vector512<float>.Count == 0
        && tileVectors * Vector<float>.Count / Vector512<float>.Count is 3 or 4;

    /// <summary>
    /// A streaming step's two products, <c>xg = W_ih x + b_ih</c> and <c>hg = W_hh h + b_hh</c>, in one pass over
    /// both packed matrices (the same tiles; <paramref name="inputCols"/> and <paramref name="hiddenCols"/> columns)
    /// in 512-bit registers, where <see cref="BothWide"/>: a tile's 4 (3) vectors of each product make 8 (6)
    /// independent chains, where one product alone on one tile (up to 16 LSTM units) had 4 (3) and waited on their
    /// latency. From two tiles on, <see cref="MatVec"/> has as many chains per product, and measured faster. Every
    /// lane runs the chain <see cref="MatVec"/> runs for it, in the same order: the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MatVecBoth(int tiles, int tileVectors,
        ReadOnlySpan<float> inputWeights, int inputCols, ref float x, ReadOnlySpan<float> inputBias, ref float xg,
        ReadOnlySpan<float> hiddenWeights, int hiddenCols, ref float h, ReadOnlySpan<float> hiddenBias, ref float hg)
    {
        const int v = 16;
        int tileFloats = tileVectors * Vector<float>.Count, common = Math.Min(inputCols, hiddenCols);
        bool four = tileFloats == 4 * v;
        ref float wx = ref MemoryMarshal.GetReference(inputWeights);
        ref float wh = ref MemoryMarshal.GetReference(hiddenWeights);
        for (int tile = 0; tile < tiles; tile++)
        {
            int tileStart = tile * tileFloats;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default,
                b0 = default, b1 = default, b2 = default, b3 = default;
            if (!inputBias.IsEmpty)
            {
                ref float bt = ref Unsafe.Add(ref MemoryMarshal.GetReference(inputBias), tileStart);
                a0 = Vector512.LoadUnsafe(ref bt); a1 = Vector512.LoadUnsafe(ref bt, v); a2 = Vector512.LoadUnsafe(ref bt, 2 * v);
                if (four) a3 = Vector512.LoadUnsafe(ref bt, 3 * v);
            }
            if (!hiddenBias.IsEmpty)
            {
                ref float bt = ref Unsafe.Add(ref MemoryMarshal.GetReference(hiddenBias), tileStart);
                b0 = Vector512.LoadUnsafe(ref bt); b1 = Vector512.LoadUnsafe(ref bt, v); b2 = Vector512.LoadUnsafe(ref bt, 2 * v);
                if (four) b3 = Vector512.LoadUnsafe(ref bt, 3 * v);
            }
            ref float wxt = ref Unsafe.Add(ref wx, tileStart * inputCols);
            ref float wht = ref Unsafe.Add(ref wh, tileStart * hiddenCols);
            int k = 0;
            for (; k < common; k++)
            {
                var xk = Vector512.Create(Unsafe.Add(ref x, k));
                var hk = Vector512.Create(Unsafe.Add(ref h, k));
                ref float wk = ref Unsafe.Add(ref wxt, k * tileFloats);
                ref float uk = ref Unsafe.Add(ref wht, k * tileFloats);
                a0 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk), xk, a0);
                b0 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref uk), hk, b0);
                a1 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk, v), xk, a1);
                b1 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref uk, v), hk, b1);
                a2 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk, 2 * v), xk, a2);
                b2 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref uk, 2 * v), hk, b2);
                if (four)
                {
                    a3 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk, 3 * v), xk, a3);
                    b3 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref uk, 3 * v), hk, b3);
                }
            }
            // The longer product's remaining columns.
            Columns(ref wxt, ref x, k, inputCols, tileFloats, four, ref a0, ref a1, ref a2, ref a3);
            Columns(ref wht, ref h, k, hiddenCols, tileFloats, four, ref b0, ref b1, ref b2, ref b3);
            ref float yt = ref Unsafe.Add(ref xg, tileStart);
            ref float zt = ref Unsafe.Add(ref hg, tileStart);
            a0.StoreUnsafe(ref yt); a1.StoreUnsafe(ref yt, v); a2.StoreUnsafe(ref yt, 2 * v);
            b0.StoreUnsafe(ref zt); b1.StoreUnsafe(ref zt, v); b2.StoreUnsafe(ref zt, 2 * v);
            if (four) { a3.StoreUnsafe(ref yt, 3 * v); b3.StoreUnsafe(ref zt, 3 * v); }
        }
    }

    /// <summary>Columns [<paramref name="from"/>, <paramref name="to"/>) of one packed tile into its 3 or 4 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(ref float tile, ref float x, int from, int to, int tileFloats, bool four,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        const int v = 16;
        for (int k = from; k < to; k++)
        {
            var xk = Vector512.Create(Unsafe.Add(ref x, k));
            ref float wk = ref Unsafe.Add(ref tile, k * tileFloats);
            a0 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk), xk, a0);
            a1 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk, v), xk, a1);
            a2 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk, 2 * v), xk, a2);
            if (four) a3 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk, 3 * v), xk, a3);
        }
    }

    /// <summary>
    /// <see cref="MatVec"/> in 512-bit registers over the same layout for an even number of tiles: a tile's vectors
    /// taken two at a time (<paramref name="tileWide"/> = 4, or GRU's 3, per tile), two tiles per pass so that 8
    /// (6) independent chains keep the FMA units busy as one tile's 8 (6) do at <see cref="Vector{T}"/>'s 8
    /// floats. Every lane runs the same chain as there: the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MatVecWide(ReadOnlySpan<float> packed, int tiles, int tileWide, int cols,
        ref float x, ReadOnlySpan<float> bias, ref float y)
    {
        const int v = 16;
        int tileFloats = tileWide * v;
        bool four = tileWide == 4;
        ref float w = ref MemoryMarshal.GetReference(packed);
        ref float b = ref MemoryMarshal.GetReference(bias);
        bool hasBias = !bias.IsEmpty;
        for (int tile = 0; tile < tiles; tile += 2)
        {
            int tileStart = tile * tileFloats;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default,
                b0 = default, b1 = default, b2 = default, b3 = default;
            if (hasBias)
            {
                ref float bt = ref Unsafe.Add(ref b, tileStart);
                ref float bu = ref Unsafe.Add(ref bt, tileFloats);
                a0 = Vector512.LoadUnsafe(ref bt); a1 = Vector512.LoadUnsafe(ref bt, v); a2 = Vector512.LoadUnsafe(ref bt, 2 * v);
                b0 = Vector512.LoadUnsafe(ref bu); b1 = Vector512.LoadUnsafe(ref bu, v); b2 = Vector512.LoadUnsafe(ref bu, 2 * v);
                if (four) { a3 = Vector512.LoadUnsafe(ref bt, 3 * v); b3 = Vector512.LoadUnsafe(ref bu, 3 * v); }
            }
            ref float wt = ref Unsafe.Add(ref w, tileStart * cols);
            ref float wu = ref Unsafe.Add(ref wt, tileFloats * cols);
            for (int k = 0; k < cols; k++)
            {
                var xk = Vector512.Create(Unsafe.Add(ref x, k));
                ref float wk = ref Unsafe.Add(ref wt, k * tileFloats);
                ref float uk = ref Unsafe.Add(ref wu, k * tileFloats);
                a0 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk), xk, a0);
                a1 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk, v), xk, a1);
                a2 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk, 2 * v), xk, a2);
                b0 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref uk), xk, b0);
                b1 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref uk, v), xk, b1);
                b2 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref uk, 2 * v), xk, b2);
                if (four)
                {
                    a3 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref wk, 3 * v), xk, a3);
                    b3 = Vector512Lanes.MultiplyAdd(Vector512.LoadUnsafe(ref uk, 3 * v), xk, b3);
                }
            }
            ref float yt = ref Unsafe.Add(ref y, tileStart);
            ref float yu = ref Unsafe.Add(ref yt, tileFloats);
            a0.StoreUnsafe(ref yt); a1.StoreUnsafe(ref yt, v); a2.StoreUnsafe(ref yt, 2 * v);
            b0.StoreUnsafe(ref yu); b1.StoreUnsafe(ref yu, v); b2.StoreUnsafe(ref yu, 2 * v);
            if (four) { a3.StoreUnsafe(ref yt, 3 * v); b3.StoreUnsafe(ref yu, 3 * v); }
        }
    }
}
