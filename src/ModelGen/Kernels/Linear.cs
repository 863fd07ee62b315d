using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// The affine map every layer is made of: <c>y[m, :] = x[m, :] · Wᵀ + b</c> with W in PyTorch's row-major
/// <c>[N, K]</c> layout, for a block of rows m (the batch, or batch × time).
/// </summary>
internal static class Linear
{
    /// <summary>
    /// For each of <paramref name="rows"/> rows: <c>y[m*yStride + n] = bias[n] + Σ_k w[n*k + k] · x[m*xStride + k]</c>
    /// for n &lt; <paramref name="outFeatures"/>. An empty <paramref name="bias"/> means none. y is overwritten.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward(ReadOnlySpan<float> x, int xStride, int rows, ReadOnlySpan<float> w,
        int outFeatures, int inFeatures, ReadOnlySpan<float> bias, Span<float> y, int yStride)
    {
        // One bounds check per call here; the loops below index through refs.
        if (rows <= 0) return;
        if (x.Length < (rows - 1) * xStride + inFeatures || y.Length < (rows - 1) * yStride + outFeatures
            || w.Length < outFeatures * inFeatures || (!bias.IsEmpty && bias.Length < outFeatures))
        {
            ThrowSpanTooShort();
        }
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        ref float b0 = ref MemoryMarshal.GetReference(bias);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        bool hasBias = !bias.IsEmpty;
        for (int m = 0; m < rows; m++)
        {
            ref float xRow = ref Unsafe.Add(ref x0, m * xStride);
            ref float yRow = ref Unsafe.Add(ref y0, m * yStride);
            int n = 0;
            for (; n <= outFeatures - 4; n += 4)
            {
                ref float w_0 = ref Unsafe.Add(ref w0, n * inFeatures);
                ref float w_1 = ref Unsafe.Add(ref w_0, inFeatures);
                ref float w_2 = ref Unsafe.Add(ref w_1, inFeatures);
                ref float w_3 = ref Unsafe.Add(ref w_2, inFeatures);
                Dot4(ref xRow, ref w_0, ref w_1, ref w_2, ref w_3, inFeatures,
                    out float s0, out float s1, out float s2, out float s3);
                if (hasBias)
                {
                    s0 += Unsafe.Add(ref b0, n);
                    s1 += Unsafe.Add(ref b0, n + 1);
                    s2 += Unsafe.Add(ref b0, n + 2);
                    s3 += Unsafe.Add(ref b0, n + 3);
                }
                Unsafe.Add(ref yRow, n) = s0;
                Unsafe.Add(ref yRow, n + 1) = s1;
                Unsafe.Add(ref yRow, n + 2) = s2;
                Unsafe.Add(ref yRow, n + 3) = s3;
            }
            for (; n < outFeatures; n++)
            {
                float s = Dot(ref xRow, ref Unsafe.Add(ref w0, n * inFeatures), inFeatures);
                Unsafe.Add(ref yRow, n) = hasBias ? s + Unsafe.Add(ref b0, n) : s;
            }
        }
    }

    /// <summary>Four dot products of one x row with four W rows, sharing each load of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4(ref float x, ref float w0, ref float w1, ref float w2, ref float w3, int length,
        out float s0, out float s1, out float s2, out float s3)
    {
        int k = 0;
        var a0 = Vector<float>.Zero;
        var a1 = Vector<float>.Zero;
        var a2 = Vector<float>.Zero;
        var a3 = Vector<float>.Zero;
        for (; k <= length - Vector<float>.Count; k += Vector<float>.Count)
        {
            Vector<float> xv = Vector.LoadUnsafe(ref x, (nuint)k);
            a0 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref w0, (nuint)k), xv, a0);
            a1 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref w1, (nuint)k), xv, a1);
            a2 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref w2, (nuint)k), xv, a2);
            a3 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref w3, (nuint)k), xv, a3);
        }
        s0 = Vector.Sum(a0);
        s1 = Vector.Sum(a1);
        s2 = Vector.Sum(a2);
        s3 = Vector.Sum(a3);
        for (; k < length; k++)
        {
            float xk = Unsafe.Add(ref x, k);
            s0 = MathF.FusedMultiplyAdd(Unsafe.Add(ref w0, k), xk, s0);
            s1 = MathF.FusedMultiplyAdd(Unsafe.Add(ref w1, k), xk, s1);
            s2 = MathF.FusedMultiplyAdd(Unsafe.Add(ref w2, k), xk, s2);
            s3 = MathF.FusedMultiplyAdd(Unsafe.Add(ref w3, k), xk, s3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(ref float x, ref float w, int length)
    {
        int k = 0;
        var acc = Vector<float>.Zero;
        for (; k <= length - Vector<float>.Count; k += Vector<float>.Count)
        {
            acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref w, (nuint)k), Vector.LoadUnsafe(ref x, (nuint)k), acc);
        }
        float sum = Vector.Sum(acc);
        for (; k < length; k++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref w, k), Unsafe.Add(ref x, k), sum);
        return sum;
    }

    private static void ThrowSpanTooShort() =>
        throw new ArgumentException("A span passed to Linear.Forward is shorter than its sizes imply.");
}
