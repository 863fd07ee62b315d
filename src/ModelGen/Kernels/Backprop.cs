using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// The two products of backpropagation through <c>y = W x</c> with W in PyTorch's row-major <c>[rows, cols]</c>
/// layout: the weight gradient <c>dW += dy ⊗ x</c> and the input gradient <c>dx += Wᵀ dy</c>. Both stream W
/// row by row, vectorised along the row.
/// </summary>
internal static class Backprop
{
    /// <summary><c>dW[r, :] += dy[r] · x</c> for every row r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddOuter(Span<float> dW, ReadOnlySpan<float> dy, ReadOnlySpan<float> x)
    {
        int cols = x.Length;
        for (int r = 0; r < dy.Length; r++)
        {
            if (dy[r] != 0) AddScaled(dW.Slice(r * cols, cols), dy[r], x);
        }
    }

    /// <summary><c>dx += Wᵀ dy</c>: <c>dx[k] += Σ_r W[r, k] · dy[r]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddTransposedProduct(Span<float> dx, ReadOnlySpan<float> w, ReadOnlySpan<float> dy)
    {
        int cols = dx.Length;
        for (int r = 0; r < dy.Length; r++)
        {
            if (dy[r] != 0) AddScaled(dx, dy[r], w.Slice(r * cols, cols));
        }
    }

    /// <summary><c>y += a · x</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        if (x.Length != y.Length) throw new ArgumentException("AddScaled: lengths differ.");
        int k = 0;
        if (Vector.IsHardwareAccelerated && y.Length >= Vector<float>.Count)
        {
            Span<Vector<float>> yv = MemoryMarshal.Cast<float, Vector<float>>(y);
            ReadOnlySpan<Vector<float>> xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var av = new Vector<float>(a);
            for (int i = 0; i < yv.Length; i++) yv[i] = MultiplyAdd.Of(av, xv[i], yv[i]);
            k = yv.Length * Vector<float>.Count;
        }
        for (; k < y.Length; k++) y[k] = MultiplyAdd.Of(a, x[k], y[k]);
    }

    /// <summary><c>sum = a + b</c>; an empty <paramref name="a"/> counts as zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sum(Span<float> sum, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (b.Length != sum.Length || (!a.IsEmpty && a.Length != sum.Length)) throw new ArgumentException("Sum: lengths differ.");
        if (a.IsEmpty)
        {
            b.CopyTo(sum);
            return;
        }
        int k = 0;
        if (Vector.IsHardwareAccelerated && sum.Length >= Vector<float>.Count)
        {
            Span<Vector<float>> sv = MemoryMarshal.Cast<float, Vector<float>>(sum);
            ReadOnlySpan<Vector<float>> av = MemoryMarshal.Cast<float, Vector<float>>(a), bv = MemoryMarshal.Cast<float, Vector<float>>(b);
            for (int i = 0; i < sv.Length; i++) sv[i] = av[i] + bv[i];
            k = sv.Length * Vector<float>.Count;
        }
        for (; k < sum.Length; k++) sum[k] = a[k] + b[k];
    }

    /// <summary><c>y += x</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(Span<float> y, ReadOnlySpan<float> x) => AddScaled(y, 1f, x);
}
