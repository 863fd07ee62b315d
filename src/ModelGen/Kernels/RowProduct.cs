using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// <c>Y[i, :] = start + Σ_k A[i, k] · M[k, :]</c> for many rows i at once: the row-batched product behind the
/// recurrent layers' projections (forward) and their gradients (backward). A is a strided view
/// (<c>A[i, k] = a[i·aRowStride + k·aColStride]</c>), so a transposed operand costs no copy; M's rows are
/// <c>width</c> contiguous floats, <c>mStride</c> apart; width is whole vectors.
/// </summary>
/// <remarks>
/// <para>Register blocking: 6 rows × 2 vectors of Y (12 accumulators, with the 2 vectors of M and a broadcast
/// within 16 registers; enough independent chains to cover the FMA latency) share each load of M and each
/// broadcast of A, so the weights stream once per 6 rows instead of once per row; 4-row and single-row kernels
/// take what is left. The depth is cut into chunks of
/// <see cref="DepthChunk"/> so that a chunk of M stays in L2 while every row group reads it.</para>
/// <para>Each output is its start value (accumulating: Y's own; else the start vector or zero)
/// followed by one <see cref="MultiplyAdd"/> per k in increasing k, in one lane: the same float, bit for bit,
/// whatever the vector width, the row grouping or the chunking. With a start vector and k over a packed tile,
/// that is exactly <see cref="Packed.MatVec"/>'s order.</para>
/// </remarks>
internal static class RowProduct
{
    private const int WideGroupRows = 6;
    private const int GroupRows = 4;

    /// <summary>Depth per pass over the rows: 128 rows of M of up to 512 floats is 256 KiB, within L2.</summary>
    private const int DepthChunk = 128;

    /// <summary>
    /// The product for <paramref name="rows"/> rows, <paramref name="depth"/> terms and <paramref name="width"/>
    /// columns (a multiple of <see cref="Vector{T}.Count"/>); <paramref name="start"/> (width floats, or empty for
    /// zero) is the initial value when not <paramref name="accumulate"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int rows, int depth, int width,
        ReadOnlySpan<float> a, int aRowStride, int aColStride,
        ReadOnlySpan<float> m, int mStride,
        Span<float> y, int yStride, ReadOnlySpan<float> start, bool accumulate)
    {
        int v = Vector<float>.Count;
        if (rows <= 0 || width <= 0) return;
        if (width % v != 0) throw new ArgumentException("RowProduct: the width must be whole vectors.", nameof(width));
        if ((long)(rows - 1) * yStride + width > y.Length) throw new ArgumentException("RowProduct: y is too short.", nameof(y));
        if (!accumulate && !start.IsEmpty && start.Length < width) throw new ArgumentException("RowProduct: start is too short.", nameof(start));
        if (depth > 0 && ((long)(rows - 1) * aRowStride + (long)(depth - 1) * aColStride >= a.Length
            || (long)(depth - 1) * mStride + width > m.Length))
        {
            throw new ArgumentException("RowProduct: a or m is too short.", nameof(a));
        }

        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float m0 = ref MemoryMarshal.GetReference(m);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref float s0 = ref MemoryMarshal.GetReference(start);
        bool hasStart = !accumulate && !start.IsEmpty;
        int vectors = width / v;
        // A zero depth still sets Y to its start.
        int chunk = 0;
        do
        {
            int count = Math.Min(DepthChunk, depth - chunk);
            bool fromY = accumulate || chunk > 0;
            ref float ac = ref Unsafe.Add(ref a0, chunk * aColStride);
            ref float mc = ref Unsafe.Add(ref m0, chunk * mStride);
            int row = 0;
            for (; row < WideRows(rows); row += WideGroupRows)
            {
                ref float ar = ref Unsafe.Add(ref ac, row * aRowStride);
                ref float yr = ref Unsafe.Add(ref y0, row * yStride);
                int vector = 0;
                for (; vector + 2 <= vectors; vector += 2)
                {
                    int column = vector * v;
                    Rows6Vectors2(ref ar, aRowStride, aColStride, count, ref Unsafe.Add(ref mc, column), mStride,
                        ref Unsafe.Add(ref yr, column), yStride, fromY, Start(hasStart, ref s0, column), Start(hasStart, ref s0, column + v));
                }
                if (vector < vectors)
                {
                    int column = vector * v;
                    Rows4Vectors1(ref ar, aRowStride, aColStride, count, ref Unsafe.Add(ref mc, column), mStride,
                        ref Unsafe.Add(ref yr, column), yStride, fromY, Start(hasStart, ref s0, column));
                    for (int extra = GroupRows; extra < WideGroupRows; extra++)
                    {
                        Rows1Vectors1(ref Unsafe.Add(ref ar, extra * aRowStride), aColStride, count, ref Unsafe.Add(ref mc, column), mStride,
                            ref Unsafe.Add(ref yr, extra * yStride + column), fromY, Start(hasStart, ref s0, column));
                    }
                }
            }
            for (; row + GroupRows <= rows; row += GroupRows)
            {
                ref float ar = ref Unsafe.Add(ref ac, row * aRowStride);
                ref float yr = ref Unsafe.Add(ref y0, row * yStride);
                int vector = 0;
                for (; vector + 2 <= vectors; vector += 2)
                {
                    int column = vector * v;
                    Rows4Vectors2(ref ar, aRowStride, aColStride, count, ref Unsafe.Add(ref mc, column), mStride,
                        ref Unsafe.Add(ref yr, column), yStride, fromY, Start(hasStart, ref s0, column), Start(hasStart, ref s0, column + v));
                }
                if (vector < vectors)
                {
                    int column = vector * v;
                    Rows4Vectors1(ref ar, aRowStride, aColStride, count, ref Unsafe.Add(ref mc, column), mStride,
                        ref Unsafe.Add(ref yr, column), yStride, fromY, Start(hasStart, ref s0, column));
                }
            }
            for (; row < rows; row++)
            {
                ref float ar = ref Unsafe.Add(ref ac, row * aRowStride);
                ref float yr = ref Unsafe.Add(ref y0, row * yStride);
                int vector = 0;
                for (; vector + 2 <= vectors; vector += 2)
                {
                    int column = vector * v;
                    Rows1Vectors2(ref ar, aColStride, count, ref Unsafe.Add(ref mc, column), mStride, ref Unsafe.Add(ref yr, column),
                        fromY, Start(hasStart, ref s0, column), Start(hasStart, ref s0, column + v));
                }
                if (vector < vectors)
                {
                    int column = vector * v;
                    Rows1Vectors1(ref ar, aColStride, count, ref Unsafe.Add(ref mc, column), mStride, ref Unsafe.Add(ref yr, column),
                        fromY, Start(hasStart, ref s0, column));
                }
            }
            chunk += count;
        }
        while (chunk < depth);
    }

    /// <summary>Rows for the 6-row kernel: a remainder of 2 or 3 runs faster as two 4-row groups than row by row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WideRows(int rows)
    {
        int wide = rows / WideGroupRows * WideGroupRows;
        return rows % WideGroupRows is 2 or 3 && wide > 0 ? wide - WideGroupRows : wide;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Start(bool hasStart, ref float start, int column) =>
        hasStart ? Mem.Load(ref start, column) : default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Initial(bool fromY, ref float y, int index, Vector<float> start) =>
        fromY ? Mem.Load(ref y, index) : start;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4Vectors2(ref float a, int aRow, int aCol, int depth, ref float m, int mStride,
        ref float y, int yStride, bool fromY, Vector<float> start0, Vector<float> start1)
    {
        int v = Vector<float>.Count;
        Vector<float> c00 = Initial(fromY, ref y, 0, start0), c01 = Initial(fromY, ref y, v, start1);
        Vector<float> c10 = Initial(fromY, ref y, yStride, start0), c11 = Initial(fromY, ref y, yStride + v, start1);
        Vector<float> c20 = Initial(fromY, ref y, 2 * yStride, start0), c21 = Initial(fromY, ref y, 2 * yStride + v, start1);
        Vector<float> c30 = Initial(fromY, ref y, 3 * yStride, start0), c31 = Initial(fromY, ref y, 3 * yStride + v, start1);
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRow);
        for (int k = 0; k < depth; k++)
        {
            ref float mk = ref Unsafe.Add(ref m, k * mStride);
            Vector<float> w0 = Mem.Load(ref mk, 0), w1 = Mem.Load(ref mk, v);
            int ak = k * aCol;
            var s = new Vector<float>(Unsafe.Add(ref a, ak));
            c00 = MultiplyAdd.Of(w0, s, c00); c01 = MultiplyAdd.Of(w1, s, c01);
            s = new Vector<float>(Unsafe.Add(ref a1, ak));
            c10 = MultiplyAdd.Of(w0, s, c10); c11 = MultiplyAdd.Of(w1, s, c11);
            s = new Vector<float>(Unsafe.Add(ref a2, ak));
            c20 = MultiplyAdd.Of(w0, s, c20); c21 = MultiplyAdd.Of(w1, s, c21);
            s = new Vector<float>(Unsafe.Add(ref a3, ak));
            c30 = MultiplyAdd.Of(w0, s, c30); c31 = MultiplyAdd.Of(w1, s, c31);
        }
        c00.StoreUnsafe(ref y); c01.StoreUnsafe(ref y, (nuint)v);
        c10.StoreUnsafe(ref y, (nuint)yStride); c11.StoreUnsafe(ref y, (nuint)(yStride + v));
        c20.StoreUnsafe(ref y, (nuint)(2 * yStride)); c21.StoreUnsafe(ref y, (nuint)(2 * yStride + v));
        c30.StoreUnsafe(ref y, (nuint)(3 * yStride)); c31.StoreUnsafe(ref y, (nuint)(3 * yStride + v));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows6Vectors2(ref float a, int aRow, int aCol, int depth, ref float m, int mStride,
        ref float y, int yStride, bool fromY, Vector<float> start0, Vector<float> start1)
    {
        int v = Vector<float>.Count;
        Vector<float> c00 = Initial(fromY, ref y, 0, start0), c01 = Initial(fromY, ref y, v, start1);
        Vector<float> c10 = Initial(fromY, ref y, yStride, start0), c11 = Initial(fromY, ref y, yStride + v, start1);
        Vector<float> c20 = Initial(fromY, ref y, 2 * yStride, start0), c21 = Initial(fromY, ref y, 2 * yStride + v, start1);
        Vector<float> c30 = Initial(fromY, ref y, 3 * yStride, start0), c31 = Initial(fromY, ref y, 3 * yStride + v, start1);
        Vector<float> c40 = Initial(fromY, ref y, 4 * yStride, start0), c41 = Initial(fromY, ref y, 4 * yStride + v, start1);
        Vector<float> c50 = Initial(fromY, ref y, 5 * yStride, start0), c51 = Initial(fromY, ref y, 5 * yStride + v, start1);
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRow);
        ref float a4 = ref Unsafe.Add(ref a, 4 * aRow);
        ref float a5 = ref Unsafe.Add(ref a, 5 * aRow);
        for (int k = 0; k < depth; k++)
        {
            ref float mk = ref Unsafe.Add(ref m, k * mStride);
            Vector<float> w0 = Mem.Load(ref mk, 0), w1 = Mem.Load(ref mk, v);
            int ak = k * aCol;
            var s = new Vector<float>(Unsafe.Add(ref a, ak));
            c00 = MultiplyAdd.Of(w0, s, c00); c01 = MultiplyAdd.Of(w1, s, c01);
            s = new Vector<float>(Unsafe.Add(ref a1, ak));
            c10 = MultiplyAdd.Of(w0, s, c10); c11 = MultiplyAdd.Of(w1, s, c11);
            s = new Vector<float>(Unsafe.Add(ref a2, ak));
            c20 = MultiplyAdd.Of(w0, s, c20); c21 = MultiplyAdd.Of(w1, s, c21);
            s = new Vector<float>(Unsafe.Add(ref a3, ak));
            c30 = MultiplyAdd.Of(w0, s, c30); c31 = MultiplyAdd.Of(w1, s, c31);
            s = new Vector<float>(Unsafe.Add(ref a4, ak));
            c40 = MultiplyAdd.Of(w0, s, c40); c41 = MultiplyAdd.Of(w1, s, c41);
            s = new Vector<float>(Unsafe.Add(ref a5, ak));
            c50 = MultiplyAdd.Of(w0, s, c50); c51 = MultiplyAdd.Of(w1, s, c51);
        }
        c00.StoreUnsafe(ref y); c01.StoreUnsafe(ref y, (nuint)v);
        c10.StoreUnsafe(ref y, (nuint)yStride); c11.StoreUnsafe(ref y, (nuint)(yStride + v));
        c20.StoreUnsafe(ref y, (nuint)(2 * yStride)); c21.StoreUnsafe(ref y, (nuint)(2 * yStride + v));
        c30.StoreUnsafe(ref y, (nuint)(3 * yStride)); c31.StoreUnsafe(ref y, (nuint)(3 * yStride + v));
        c40.StoreUnsafe(ref y, (nuint)(4 * yStride)); c41.StoreUnsafe(ref y, (nuint)(4 * yStride + v));
        c50.StoreUnsafe(ref y, (nuint)(5 * yStride)); c51.StoreUnsafe(ref y, (nuint)(5 * yStride + v));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4Vectors1(ref float a, int aRow, int aCol, int depth, ref float m, int mStride,
        ref float y, int yStride, bool fromY, Vector<float> start)
    {
        Vector<float> c0 = Initial(fromY, ref y, 0, start), c1 = Initial(fromY, ref y, yStride, start);
        Vector<float> c2 = Initial(fromY, ref y, 2 * yStride, start), c3 = Initial(fromY, ref y, 3 * yStride, start);
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRow);
        for (int k = 0; k < depth; k++)
        {
            Vector<float> w = Mem.Load(ref m, k * mStride);
            int ak = k * aCol;
            c0 = MultiplyAdd.Of(w, new Vector<float>(Unsafe.Add(ref a, ak)), c0);
            c1 = MultiplyAdd.Of(w, new Vector<float>(Unsafe.Add(ref a1, ak)), c1);
            c2 = MultiplyAdd.Of(w, new Vector<float>(Unsafe.Add(ref a2, ak)), c2);
            c3 = MultiplyAdd.Of(w, new Vector<float>(Unsafe.Add(ref a3, ak)), c3);
        }
        c0.StoreUnsafe(ref y); c1.StoreUnsafe(ref y, (nuint)yStride);
        c2.StoreUnsafe(ref y, (nuint)(2 * yStride)); c3.StoreUnsafe(ref y, (nuint)(3 * yStride));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows1Vectors2(ref float a, int aCol, int depth, ref float m, int mStride, ref float y,
        bool fromY, Vector<float> start0, Vector<float> start1)
    {
        int v = Vector<float>.Count;
        Vector<float> c0 = Initial(fromY, ref y, 0, start0), c1 = Initial(fromY, ref y, v, start1);
        for (int k = 0; k < depth; k++)
        {
            ref float mk = ref Unsafe.Add(ref m, k * mStride);
            var s = new Vector<float>(Unsafe.Add(ref a, k * aCol));
            c0 = MultiplyAdd.Of(Mem.Load(ref mk, 0), s, c0);
            c1 = MultiplyAdd.Of(Mem.Load(ref mk, v), s, c1);
        }
        c0.StoreUnsafe(ref y); c1.StoreUnsafe(ref y, (nuint)v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows1Vectors1(ref float a, int aCol, int depth, ref float m, int mStride, ref float y,
        bool fromY, Vector<float> start)
    {
        Vector<float> c = Initial(fromY, ref y, 0, start);
        for (int k = 0; k < depth; k++) c = MultiplyAdd.Of(Mem.Load(ref m, k * mStride), new Vector<float>(Unsafe.Add(ref a, k * aCol)), c);
        c.StoreUnsafe(ref y);
    }

    /// <summary>
    /// <c>y[i] = W x[i] (+ bias)</c> for <paramref name="rows"/> rows <paramref name="xStride"/> floats apart, W
    /// packed by <see cref="Packed.PackMatrix"/> with <paramref name="cols"/> columns; y gate-packed, rows
    /// <paramref name="yStride"/> apart. Bit for bit <see cref="Packed.MatVec"/> of each row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyPacked(ReadOnlySpan<float> packed, int tiles, int tileVectors, int cols, int rows,
        ReadOnlySpan<float> x, int xStride, ReadOnlySpan<float> bias, Span<float> y, int yStride)
    {
        int tileWidth = tileVectors * Vector<float>.Count;
        if (rows < GroupRows)
        {
            // Fewer rows than a register group (a batch of 1 runs here every step): each row's MatVec, whose 6 or
            // 8 independent accumulators keep the FMA units busy where the 1-row kernels' 2 would wait on latency.
            if (rows <= 0) return;
            if ((long)(rows - 1) * xStride + cols > x.Length) throw new ArgumentException("RowProduct: x is too short.", nameof(x));
            if ((long)(rows - 1) * yStride + tiles * tileWidth > y.Length) throw new ArgumentException("RowProduct: y is too short.", nameof(y));
            if ((long)tiles * tileWidth * cols > packed.Length) throw new ArgumentException("RowProduct: packed is too short.", nameof(packed));
            if (!bias.IsEmpty && bias.Length < tiles * tileWidth) throw new ArgumentException("RowProduct: bias is too short.", nameof(bias));
            for (int row = 0; row < rows; row++)
            {
                Packed.MatVec(packed, tiles, tileVectors, cols, ref Unsafe.AsRef(in x[row * xStride]), bias, ref y[row * yStride]);
            }
            return;
        }
        for (int tile = 0; tile < tiles; tile++)
        {
            int tileStart = tile * tileWidth;
            Multiply(rows, cols, tileWidth, x, xStride, 1, packed.Slice(tileStart * cols, tileWidth * cols), tileWidth,
                y[tileStart..], yStride, bias.IsEmpty ? default : bias.Slice(tileStart, tileWidth), accumulate: false);
        }
    }
}
