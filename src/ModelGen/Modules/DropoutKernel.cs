using System.Runtime.CompilerServices;
namespace ModelGen.Kernels;

/// <summary>
/// <c>nn.Dropout(p)</c> in a training forward: each element is zeroed with probability p and the others scaled
/// by 1/(1 − p), from a seeded <see cref="SplitMix64"/> (one draw per element, in order). Inference forwards
/// never drop: the generated schedule passes the input on unchanged.
/// </summary>
public static class DropoutKernel
{
    /// <summary><c>mask[i] = u &lt; p ? 0 : 1/(1 − p)</c> and <c>y = x ⊙ mask</c>; <paramref name="mask"/> is what backward reads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float p, ref SplitMix64 random, ReadOnlySpan<float> x, Span<float> y, Span<float> mask)
    {
        if (y.Length < x.Length || mask.Length < x.Length) throw new ArgumentException("y and mask must be as long as x.", nameof(x));
        float keep = 1f / (1f - p);
        for (int i = 0; i < x.Length; i++)
        {
            mask[i] = random.NextUniform(0f, 1f) < p ? 0f : keep;
            y[i] = x[i] * mask[i];
        }
    }

    /// <summary><c>dx = dy ⊙ mask</c> (<paramref name="dx"/> may be <paramref name="dy"/> itself).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> mask, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (mask.Length < dy.Length || dx.Length < dy.Length) throw new ArgumentException("mask and dx must be as long as dy.", nameof(dy));
        for (int i = 0; i < dy.Length; i++) dx[i] = dy[i] * mask[i];
    }
}
