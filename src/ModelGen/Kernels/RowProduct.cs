using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
/// take what is left. With 32 registers (AVX-512) the groups are 4 vectors wide (6 × 4 and 4 × 4: 24 and 16
/// accumulators), half the loads per multiply-add. The depth is cut into chunks of
/// <see cref="DepthChunk"/> so that a chunk of M stays in L2 while every row group reads it.</para>
/// <para>Where the core runs 512-bit vectors and <see cref="Vector{T}"/> is narrower (the runtime's default on
/// AVX-512 cores is 256 bits), whole 16-float column blocks run in <see cref="Vector512{T}"/> and the rest in
/// <see cref="Vector{T}"/>: the kernels are generic over <see cref="ILanes{TVector}"/>.</para>
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
        if (rows <= 0 || width <= 0) return;
        if (width % Vector<float>.Count != 0) throw new ArgumentException("RowProduct: the width must be whole vectors.", nameof(width));
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
        // 512-bit registers where the core has them, Vector<T> for the 8 columns a 16-float step leaves.
        int wide = Vector512Lanes.IsWider ? width / Vector512Lanes.Count * Vector512Lanes.Count : 0;
        // A zero depth still sets Y to its start.
        int chunk = 0;
        do
        {
            int count = Math.Min(DepthChunk, depth - chunk);
            bool fromY = accumulate || chunk > 0;
            ref float ac = ref Unsafe.Add(ref a0, chunk * aColStride);
            ref float mc = ref Unsafe.Add(ref m0, chunk * mStride);
            if (wide > 0)
            {
                Columns<Vector512<float>, Vector512Lanes>(rows, count, 0, wide, ref ac, aRowStride, aColStride, ref mc, mStride,
                    ref y0, yStride, fromY, hasStart, ref s0);
            }
            if (wide < width)
            {
                Columns<Vector<float>, VectorLanes>(rows, count, wide, width, ref ac, aRowStride, aColStride, ref mc, mStride,
                    ref y0, yStride, fromY, hasStart, ref s0);
            }
            chunk += count;
        }
        while (chunk < depth);
    }

    /// <summary>One depth chunk of the product for the columns from <paramref name="first"/> to <paramref name="end"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns<TVector, TLanes>(int rows, int depth, int first, int end,
        ref float a, int aRowStride, int aColStride, ref float m, int mStride,
        ref float y, int yStride, bool fromY, bool hasStart, ref float start)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int v = TLanes.Count;
        int row = 0;
        for (; row < WideRows(rows); row += WideGroupRows)
        {
            ref float ar = ref Unsafe.Add(ref a, row * aRowStride);
            ref float yr = ref Unsafe.Add(ref y, row * yStride);
            int column = first;
            if (TLanes.Registers >= 32)
            {
                for (; column + 4 * v <= end; column += 4 * v)
                {
                    Rows6Vectors4<TVector, TLanes>(ref ar, aRowStride, aColStride, depth, ref Unsafe.Add(ref m, column), mStride,
                        ref Unsafe.Add(ref yr, column), yStride, fromY, hasStart, ref Unsafe.Add(ref start, column));
                }
            }
            for (; column + 2 * v <= end; column += 2 * v)
            {
                Rows6Vectors2<TVector, TLanes>(ref ar, aRowStride, aColStride, depth, ref Unsafe.Add(ref m, column), mStride,
                    ref Unsafe.Add(ref yr, column), yStride, fromY,
                    Start<TVector, TLanes>(hasStart, ref start, column), Start<TVector, TLanes>(hasStart, ref start, column + v));
            }
            if (column < end)
            {
                TVector columnStart = Start<TVector, TLanes>(hasStart, ref start, column);
                Rows4Vectors1<TVector, TLanes>(ref ar, aRowStride, aColStride, depth, ref Unsafe.Add(ref m, column), mStride,
                    ref Unsafe.Add(ref yr, column), yStride, fromY, columnStart);
                for (int extra = GroupRows; extra < WideGroupRows; extra++)
                {
                    Rows1Vectors1<TVector, TLanes>(ref Unsafe.Add(ref ar, extra * aRowStride), aColStride, depth, ref Unsafe.Add(ref m, column), mStride,
                        ref Unsafe.Add(ref yr, extra * yStride + column), fromY, columnStart);
                }
            }
        }
        for (; row + GroupRows <= rows; row += GroupRows)
        {
            ref float ar = ref Unsafe.Add(ref a, row * aRowStride);
            ref float yr = ref Unsafe.Add(ref y, row * yStride);
            int column = first;
            if (TLanes.Registers >= 32)
            {
                for (; column + 4 * v <= end; column += 4 * v)
                {
                    Rows4Vectors4<TVector, TLanes>(ref ar, aRowStride, aColStride, depth, ref Unsafe.Add(ref m, column), mStride,
                        ref Unsafe.Add(ref yr, column), yStride, fromY, hasStart, ref Unsafe.Add(ref start, column));
                }
            }
            for (; column + 2 * v <= end; column += 2 * v)
            {
                Rows4Vectors2<TVector, TLanes>(ref ar, aRowStride, aColStride, depth, ref Unsafe.Add(ref m, column), mStride,
                    ref Unsafe.Add(ref yr, column), yStride, fromY,
                    Start<TVector, TLanes>(hasStart, ref start, column), Start<TVector, TLanes>(hasStart, ref start, column + v));
            }
            if (column < end)
            {
                Rows4Vectors1<TVector, TLanes>(ref ar, aRowStride, aColStride, depth, ref Unsafe.Add(ref m, column), mStride,
                    ref Unsafe.Add(ref yr, column), yStride, fromY, Start<TVector, TLanes>(hasStart, ref start, column));
            }
        }
        for (; row < rows; row++)
        {
            ref float ar = ref Unsafe.Add(ref a, row * aRowStride);
            ref float yr = ref Unsafe.Add(ref y, row * yStride);
            int column = first;
            for (; column + 2 * v <= end; column += 2 * v)
            {
                Rows1Vectors2<TVector, TLanes>(ref ar, aColStride, depth, ref Unsafe.Add(ref m, column), mStride, ref Unsafe.Add(ref yr, column),
                    fromY, Start<TVector, TLanes>(hasStart, ref start, column), Start<TVector, TLanes>(hasStart, ref start, column + v));
            }
            if (column < end)
            {
                Rows1Vectors1<TVector, TLanes>(ref ar, aColStride, depth, ref Unsafe.Add(ref m, column), mStride, ref Unsafe.Add(ref yr, column),
                    fromY, Start<TVector, TLanes>(hasStart, ref start, column));
            }
        }
    }

    /// <summary>Rows for the 6-row kernel: a remainder of 2 or 3 runs faster as two 4-row groups than row by row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WideRows(int rows)
    {
        int wide = rows / WideGroupRows * WideGroupRows;
        return rows % WideGroupRows is 2 or 3 && wide > 0 ? wide - WideGroupRows : wide;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Start<TVector, TLanes>(bool hasStart, ref float start, int column)
        where TVector : struct
        where TLanes : ILanes<TVector> =>
        hasStart ? TLanes.Load(ref start, column) : default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Initial<TVector, TLanes>(bool fromY, ref float y, int index, TVector start)
        where TVector : struct
        where TLanes : ILanes<TVector> =>
        fromY ? TLanes.Load(ref y, index) : start;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4Vectors2<TVector, TLanes>(ref float a, int aRow, int aCol, int depth, ref float m, int mStride,
        ref float y, int yStride, bool fromY, TVector start0, TVector start1)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int v = TLanes.Count;
        TVector c00 = Initial<TVector, TLanes>(fromY, ref y, 0, start0), c01 = Initial<TVector, TLanes>(fromY, ref y, v, start1);
        TVector c10 = Initial<TVector, TLanes>(fromY, ref y, yStride, start0), c11 = Initial<TVector, TLanes>(fromY, ref y, yStride + v, start1);
        TVector c20 = Initial<TVector, TLanes>(fromY, ref y, 2 * yStride, start0), c21 = Initial<TVector, TLanes>(fromY, ref y, 2 * yStride + v, start1);
        TVector c30 = Initial<TVector, TLanes>(fromY, ref y, 3 * yStride, start0), c31 = Initial<TVector, TLanes>(fromY, ref y, 3 * yStride + v, start1);
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRow);
        for (int k = 0; k < depth; k++)
        {
            ref float mk = ref Unsafe.Add(ref m, k * mStride);
            TVector w0 = TLanes.Load(ref mk, 0), w1 = TLanes.Load(ref mk, v);
            int ak = k * aCol;
            TVector s = TLanes.Broadcast(Unsafe.Add(ref a, ak));
            c00 = TLanes.MultiplyAdd(w0, s, c00); c01 = TLanes.MultiplyAdd(w1, s, c01);
            s = TLanes.Broadcast(Unsafe.Add(ref a1, ak));
            c10 = TLanes.MultiplyAdd(w0, s, c10); c11 = TLanes.MultiplyAdd(w1, s, c11);
            s = TLanes.Broadcast(Unsafe.Add(ref a2, ak));
            c20 = TLanes.MultiplyAdd(w0, s, c20); c21 = TLanes.MultiplyAdd(w1, s, c21);
            s = TLanes.Broadcast(Unsafe.Add(ref a3, ak));
            c30 = TLanes.MultiplyAdd(w0, s, c30); c31 = TLanes.MultiplyAdd(w1, s, c31);
        }
        TLanes.Store(c00, ref y, 0); TLanes.Store(c01, ref y, v);
        TLanes.Store(c10, ref y, yStride); TLanes.Store(c11, ref y, yStride + v);
        TLanes.Store(c20, ref y, 2 * yStride); TLanes.Store(c21, ref y, 2 * yStride + v);
        TLanes.Store(c30, ref y, 3 * yStride); TLanes.Store(c31, ref y, 3 * yStride + v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows6Vectors2<TVector, TLanes>(ref float a, int aRow, int aCol, int depth, ref float m, int mStride,
        ref float y, int yStride, bool fromY, TVector start0, TVector start1)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int v = TLanes.Count;
        TVector c00 = Initial<TVector, TLanes>(fromY, ref y, 0, start0), c01 = Initial<TVector, TLanes>(fromY, ref y, v, start1);
        TVector c10 = Initial<TVector, TLanes>(fromY, ref y, yStride, start0), c11 = Initial<TVector, TLanes>(fromY, ref y, yStride + v, start1);
        TVector c20 = Initial<TVector, TLanes>(fromY, ref y, 2 * yStride, start0), c21 = Initial<TVector, TLanes>(fromY, ref y, 2 * yStride + v, start1);
        TVector c30 = Initial<TVector, TLanes>(fromY, ref y, 3 * yStride, start0), c31 = Initial<TVector, TLanes>(fromY, ref y, 3 * yStride + v, start1);
        TVector c40 = Initial<TVector, TLanes>(fromY, ref y, 4 * yStride, start0), c41 = Initial<TVector, TLanes>(fromY, ref y, 4 * yStride + v, start1);
        TVector c50 = Initial<TVector, TLanes>(fromY, ref y, 5 * yStride, start0), c51 = Initial<TVector, TLanes>(fromY, ref y, 5 * yStride + v, start1);
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRow);
        ref float a4 = ref Unsafe.Add(ref a, 4 * aRow);
        ref float a5 = ref Unsafe.Add(ref a, 5 * aRow);
        for (int k = 0; k < depth; k++)
        {
            ref float mk = ref Unsafe.Add(ref m, k * mStride);
            TVector w0 = TLanes.Load(ref mk, 0), w1 = TLanes.Load(ref mk, v);
            int ak = k * aCol;
            TVector s = TLanes.Broadcast(Unsafe.Add(ref a, ak));
            c00 = TLanes.MultiplyAdd(w0, s, c00); c01 = TLanes.MultiplyAdd(w1, s, c01);
            s = TLanes.Broadcast(Unsafe.Add(ref a1, ak));
            c10 = TLanes.MultiplyAdd(w0, s, c10); c11 = TLanes.MultiplyAdd(w1, s, c11);
            s = TLanes.Broadcast(Unsafe.Add(ref a2, ak));
            c20 = TLanes.MultiplyAdd(w0, s, c20); c21 = TLanes.MultiplyAdd(w1, s, c21);
            s = TLanes.Broadcast(Unsafe.Add(ref a3, ak));
            c30 = TLanes.MultiplyAdd(w0, s, c30); c31 = TLanes.MultiplyAdd(w1, s, c31);
            s = TLanes.Broadcast(Unsafe.Add(ref a4, ak));
            c40 = TLanes.MultiplyAdd(w0, s, c40); c41 = TLanes.MultiplyAdd(w1, s, c41);
            s = TLanes.Broadcast(Unsafe.Add(ref a5, ak));
            c50 = TLanes.MultiplyAdd(w0, s, c50); c51 = TLanes.MultiplyAdd(w1, s, c51);
        }
        TLanes.Store(c00, ref y, 0); TLanes.Store(c01, ref y, v);
        TLanes.Store(c10, ref y, yStride); TLanes.Store(c11, ref y, yStride + v);
        TLanes.Store(c20, ref y, 2 * yStride); TLanes.Store(c21, ref y, 2 * yStride + v);
        TLanes.Store(c30, ref y, 3 * yStride); TLanes.Store(c31, ref y, 3 * yStride + v);
        TLanes.Store(c40, ref y, 4 * yStride); TLanes.Store(c41, ref y, 4 * yStride + v);
        TLanes.Store(c50, ref y, 5 * yStride); TLanes.Store(c51, ref y, 5 * yStride + v);
    }

    /// <summary>
    /// 6 rows × 4 vectors: 24 accumulators, 4 vectors of M and a broadcast, for lanes with 32 registers. Per k it
    /// loads 10 values for 24 multiply-adds where <see cref="Rows6Vectors2{TVector, TLanes}"/> loads 8 for 12.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows6Vectors4<TVector, TLanes>(ref float a, int aRow, int aCol, int depth, ref float m, int mStride,
        ref float y, int yStride, bool fromY, bool hasStart, ref float start)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int v = TLanes.Count;
        TVector s0 = Start<TVector, TLanes>(hasStart, ref start, 0), s1 = Start<TVector, TLanes>(hasStart, ref start, v);
        TVector s2 = Start<TVector, TLanes>(hasStart, ref start, 2 * v), s3 = Start<TVector, TLanes>(hasStart, ref start, 3 * v);
        TVector c00 = Initial<TVector, TLanes>(fromY, ref y, 0, s0), c01 = Initial<TVector, TLanes>(fromY, ref y, v, s1);
        TVector c02 = Initial<TVector, TLanes>(fromY, ref y, 2 * v, s2), c03 = Initial<TVector, TLanes>(fromY, ref y, 3 * v, s3);
        ref float y1 = ref Unsafe.Add(ref y, yStride);
        TVector c10 = Initial<TVector, TLanes>(fromY, ref y1, 0, s0), c11 = Initial<TVector, TLanes>(fromY, ref y1, v, s1);
        TVector c12 = Initial<TVector, TLanes>(fromY, ref y1, 2 * v, s2), c13 = Initial<TVector, TLanes>(fromY, ref y1, 3 * v, s3);
        ref float y2 = ref Unsafe.Add(ref y, 2 * yStride);
        TVector c20 = Initial<TVector, TLanes>(fromY, ref y2, 0, s0), c21 = Initial<TVector, TLanes>(fromY, ref y2, v, s1);
        TVector c22 = Initial<TVector, TLanes>(fromY, ref y2, 2 * v, s2), c23 = Initial<TVector, TLanes>(fromY, ref y2, 3 * v, s3);
        ref float y3 = ref Unsafe.Add(ref y, 3 * yStride);
        TVector c30 = Initial<TVector, TLanes>(fromY, ref y3, 0, s0), c31 = Initial<TVector, TLanes>(fromY, ref y3, v, s1);
        TVector c32 = Initial<TVector, TLanes>(fromY, ref y3, 2 * v, s2), c33 = Initial<TVector, TLanes>(fromY, ref y3, 3 * v, s3);
        ref float y4 = ref Unsafe.Add(ref y, 4 * yStride);
        TVector c40 = Initial<TVector, TLanes>(fromY, ref y4, 0, s0), c41 = Initial<TVector, TLanes>(fromY, ref y4, v, s1);
        TVector c42 = Initial<TVector, TLanes>(fromY, ref y4, 2 * v, s2), c43 = Initial<TVector, TLanes>(fromY, ref y4, 3 * v, s3);
        ref float y5 = ref Unsafe.Add(ref y, 5 * yStride);
        TVector c50 = Initial<TVector, TLanes>(fromY, ref y5, 0, s0), c51 = Initial<TVector, TLanes>(fromY, ref y5, v, s1);
        TVector c52 = Initial<TVector, TLanes>(fromY, ref y5, 2 * v, s2), c53 = Initial<TVector, TLanes>(fromY, ref y5, 3 * v, s3);
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRow);
        ref float a4 = ref Unsafe.Add(ref a, 4 * aRow);
        ref float a5 = ref Unsafe.Add(ref a, 5 * aRow);
        ref float mk = ref m;
        for (int k = 0, ak = 0; k < depth; k++, ak += aCol, mk = ref Unsafe.Add(ref mk, mStride))
        {
            TVector w0 = TLanes.Load(ref mk, 0), w1 = TLanes.Load(ref mk, v), w2 = TLanes.Load(ref mk, 2 * v), w3 = TLanes.Load(ref mk, 3 * v);
            TVector s = TLanes.Broadcast(Unsafe.Add(ref a, ak));
            c00 = TLanes.MultiplyAdd(w0, s, c00); c01 = TLanes.MultiplyAdd(w1, s, c01); c02 = TLanes.MultiplyAdd(w2, s, c02); c03 = TLanes.MultiplyAdd(w3, s, c03);
            s = TLanes.Broadcast(Unsafe.Add(ref a1, ak));
            c10 = TLanes.MultiplyAdd(w0, s, c10); c11 = TLanes.MultiplyAdd(w1, s, c11); c12 = TLanes.MultiplyAdd(w2, s, c12); c13 = TLanes.MultiplyAdd(w3, s, c13);
            s = TLanes.Broadcast(Unsafe.Add(ref a2, ak));
            c20 = TLanes.MultiplyAdd(w0, s, c20); c21 = TLanes.MultiplyAdd(w1, s, c21); c22 = TLanes.MultiplyAdd(w2, s, c22); c23 = TLanes.MultiplyAdd(w3, s, c23);
            s = TLanes.Broadcast(Unsafe.Add(ref a3, ak));
            c30 = TLanes.MultiplyAdd(w0, s, c30); c31 = TLanes.MultiplyAdd(w1, s, c31); c32 = TLanes.MultiplyAdd(w2, s, c32); c33 = TLanes.MultiplyAdd(w3, s, c33);
            s = TLanes.Broadcast(Unsafe.Add(ref a4, ak));
            c40 = TLanes.MultiplyAdd(w0, s, c40); c41 = TLanes.MultiplyAdd(w1, s, c41); c42 = TLanes.MultiplyAdd(w2, s, c42); c43 = TLanes.MultiplyAdd(w3, s, c43);
            s = TLanes.Broadcast(Unsafe.Add(ref a5, ak));
            c50 = TLanes.MultiplyAdd(w0, s, c50); c51 = TLanes.MultiplyAdd(w1, s, c51); c52 = TLanes.MultiplyAdd(w2, s, c52); c53 = TLanes.MultiplyAdd(w3, s, c53);
        }
        TLanes.Store(c00, ref y, 0); TLanes.Store(c01, ref y, v); TLanes.Store(c02, ref y, 2 * v); TLanes.Store(c03, ref y, 3 * v);
        TLanes.Store(c10, ref y1, 0); TLanes.Store(c11, ref y1, v); TLanes.Store(c12, ref y1, 2 * v); TLanes.Store(c13, ref y1, 3 * v);
        TLanes.Store(c20, ref y2, 0); TLanes.Store(c21, ref y2, v); TLanes.Store(c22, ref y2, 2 * v); TLanes.Store(c23, ref y2, 3 * v);
        TLanes.Store(c30, ref y3, 0); TLanes.Store(c31, ref y3, v); TLanes.Store(c32, ref y3, 2 * v); TLanes.Store(c33, ref y3, 3 * v);
        TLanes.Store(c40, ref y4, 0); TLanes.Store(c41, ref y4, v); TLanes.Store(c42, ref y4, 2 * v); TLanes.Store(c43, ref y4, 3 * v);
        TLanes.Store(c50, ref y5, 0); TLanes.Store(c51, ref y5, v); TLanes.Store(c52, ref y5, 2 * v); TLanes.Store(c53, ref y5, 3 * v);
    }

    /// <summary>4 rows × 4 vectors (16 accumulators) for lanes with 32 registers: the rows the 6-row groups leave.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4Vectors4<TVector, TLanes>(ref float a, int aRow, int aCol, int depth, ref float m, int mStride,
        ref float y, int yStride, bool fromY, bool hasStart, ref float start)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int v = TLanes.Count;
        TVector s0 = Start<TVector, TLanes>(hasStart, ref start, 0), s1 = Start<TVector, TLanes>(hasStart, ref start, v);
        TVector s2 = Start<TVector, TLanes>(hasStart, ref start, 2 * v), s3 = Start<TVector, TLanes>(hasStart, ref start, 3 * v);
        TVector c00 = Initial<TVector, TLanes>(fromY, ref y, 0, s0), c01 = Initial<TVector, TLanes>(fromY, ref y, v, s1);
        TVector c02 = Initial<TVector, TLanes>(fromY, ref y, 2 * v, s2), c03 = Initial<TVector, TLanes>(fromY, ref y, 3 * v, s3);
        ref float y1 = ref Unsafe.Add(ref y, yStride);
        TVector c10 = Initial<TVector, TLanes>(fromY, ref y1, 0, s0), c11 = Initial<TVector, TLanes>(fromY, ref y1, v, s1);
        TVector c12 = Initial<TVector, TLanes>(fromY, ref y1, 2 * v, s2), c13 = Initial<TVector, TLanes>(fromY, ref y1, 3 * v, s3);
        ref float y2 = ref Unsafe.Add(ref y, 2 * yStride);
        TVector c20 = Initial<TVector, TLanes>(fromY, ref y2, 0, s0), c21 = Initial<TVector, TLanes>(fromY, ref y2, v, s1);
        TVector c22 = Initial<TVector, TLanes>(fromY, ref y2, 2 * v, s2), c23 = Initial<TVector, TLanes>(fromY, ref y2, 3 * v, s3);
        ref float y3 = ref Unsafe.Add(ref y, 3 * yStride);
        TVector c30 = Initial<TVector, TLanes>(fromY, ref y3, 0, s0), c31 = Initial<TVector, TLanes>(fromY, ref y3, v, s1);
        TVector c32 = Initial<TVector, TLanes>(fromY, ref y3, 2 * v, s2), c33 = Initial<TVector, TLanes>(fromY, ref y3, 3 * v, s3);
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRow);
        ref float mk = ref m;
        for (int k = 0, ak = 0; k < depth; k++, ak += aCol, mk = ref Unsafe.Add(ref mk, mStride))
        {
            TVector w0 = TLanes.Load(ref mk, 0), w1 = TLanes.Load(ref mk, v), w2 = TLanes.Load(ref mk, 2 * v), w3 = TLanes.Load(ref mk, 3 * v);
            TVector s = TLanes.Broadcast(Unsafe.Add(ref a, ak));
            c00 = TLanes.MultiplyAdd(w0, s, c00); c01 = TLanes.MultiplyAdd(w1, s, c01); c02 = TLanes.MultiplyAdd(w2, s, c02); c03 = TLanes.MultiplyAdd(w3, s, c03);
            s = TLanes.Broadcast(Unsafe.Add(ref a1, ak));
            c10 = TLanes.MultiplyAdd(w0, s, c10); c11 = TLanes.MultiplyAdd(w1, s, c11); c12 = TLanes.MultiplyAdd(w2, s, c12); c13 = TLanes.MultiplyAdd(w3, s, c13);
            s = TLanes.Broadcast(Unsafe.Add(ref a2, ak));
            c20 = TLanes.MultiplyAdd(w0, s, c20); c21 = TLanes.MultiplyAdd(w1, s, c21); c22 = TLanes.MultiplyAdd(w2, s, c22); c23 = TLanes.MultiplyAdd(w3, s, c23);
            s = TLanes.Broadcast(Unsafe.Add(ref a3, ak));
            c30 = TLanes.MultiplyAdd(w0, s, c30); c31 = TLanes.MultiplyAdd(w1, s, c31); c32 = TLanes.MultiplyAdd(w2, s, c32); c33 = TLanes.MultiplyAdd(w3, s, c33);
        }
        TLanes.Store(c00, ref y, 0); TLanes.Store(c01, ref y, v); TLanes.Store(c02, ref y, 2 * v); TLanes.Store(c03, ref y, 3 * v);
        TLanes.Store(c10, ref y1, 0); TLanes.Store(c11, ref y1, v); TLanes.Store(c12, ref y1, 2 * v); TLanes.Store(c13, ref y1, 3 * v);
        TLanes.Store(c20, ref y2, 0); TLanes.Store(c21, ref y2, v); TLanes.Store(c22, ref y2, 2 * v); TLanes.Store(c23, ref y2, 3 * v);
        TLanes.Store(c30, ref y3, 0); TLanes.Store(c31, ref y3, v); TLanes.Store(c32, ref y3, 2 * v); TLanes.Store(c33, ref y3, 3 * v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4Vectors1<TVector, TLanes>(ref float a, int aRow, int aCol, int depth, ref float m, int mStride,
        ref float y, int yStride, bool fromY, TVector start)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        TVector c0 = Initial<TVector, TLanes>(fromY, ref y, 0, start), c1 = Initial<TVector, TLanes>(fromY, ref y, yStride, start);
        TVector c2 = Initial<TVector, TLanes>(fromY, ref y, 2 * yStride, start), c3 = Initial<TVector, TLanes>(fromY, ref y, 3 * yStride, start);
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRow);
        for (int k = 0; k < depth; k++)
        {
            TVector w = TLanes.Load(ref m, k * mStride);
            int ak = k * aCol;
            c0 = TLanes.MultiplyAdd(w, TLanes.Broadcast(Unsafe.Add(ref a, ak)), c0);
            c1 = TLanes.MultiplyAdd(w, TLanes.Broadcast(Unsafe.Add(ref a1, ak)), c1);
            c2 = TLanes.MultiplyAdd(w, TLanes.Broadcast(Unsafe.Add(ref a2, ak)), c2);
            c3 = TLanes.MultiplyAdd(w, TLanes.Broadcast(Unsafe.Add(ref a3, ak)), c3);
        }
        TLanes.Store(c0, ref y, 0); TLanes.Store(c1, ref y, yStride);
        TLanes.Store(c2, ref y, 2 * yStride); TLanes.Store(c3, ref y, 3 * yStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows1Vectors2<TVector, TLanes>(ref float a, int aCol, int depth, ref float m, int mStride, ref float y,
        bool fromY, TVector start0, TVector start1)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int v = TLanes.Count;
        TVector c0 = Initial<TVector, TLanes>(fromY, ref y, 0, start0), c1 = Initial<TVector, TLanes>(fromY, ref y, v, start1);
        for (int k = 0; k < depth; k++)
        {
            ref float mk = ref Unsafe.Add(ref m, k * mStride);
            TVector s = TLanes.Broadcast(Unsafe.Add(ref a, k * aCol));
            c0 = TLanes.MultiplyAdd(TLanes.Load(ref mk, 0), s, c0);
            c1 = TLanes.MultiplyAdd(TLanes.Load(ref mk, v), s, c1);
        }
        TLanes.Store(c0, ref y, 0); TLanes.Store(c1, ref y, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows1Vectors1<TVector, TLanes>(ref float a, int aCol, int depth, ref float m, int mStride, ref float y,
        bool fromY, TVector start)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        TVector c = Initial<TVector, TLanes>(fromY, ref y, 0, start);
        for (int k = 0; k < depth; k++) c = TLanes.MultiplyAdd(TLanes.Load(ref m, k * mStride), TLanes.Broadcast(Unsafe.Add(ref a, k * aCol)), c);
        TLanes.Store(c, ref y, 0);
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
