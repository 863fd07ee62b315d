using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// An element-wise activation for <see cref="ActivationKernel{TActivation}"/>: its forward <c>y = f(x)</c> and its
/// derivative <c>f′(x)</c> (given x and y, whichever is cheaper). The vector forms must be lane by lane, so that a
/// result does not depend on <see cref="Vector{T}.Count"/> or on the lane; the scalar forms give the same floats.
/// </summary>
public interface IActivation
{
    /// <summary><c>f(x)</c> lane by lane.</summary>
    static abstract Vector<float> Forward(Vector<float> x);

    /// <summary><c>f(x)</c>, the same float as a lane of <see cref="Forward(Vector{float})"/>.</summary>
    static abstract float Forward(float x);

    /// <summary><c>f′(x)</c> lane by lane, from the input x and the forward's output y = f(x).</summary>
    static abstract Vector<float> Derivative(Vector<float> x, Vector<float> y);

    /// <summary><c>f′(x)</c> from x and y, the same float as a lane of <see cref="Derivative(Vector{float}, Vector{float})"/>.</summary>
    static abstract float Derivative(float x, float y);
}

/// <summary><c>nn.ReLU</c>: <c>y = max(x, 0)</c> (NaN stays NaN); <c>f′ = y &gt; 0 ? 1 : 0</c>, 0 at x = 0 as in PyTorch.</summary>
public readonly struct Relu : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Forward(Vector<float> x) =>
        Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), Vector<float>.Zero, x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Forward(float x) => x < 0f ? 0f : x;

    /// <summary>
    /// 1 where y &gt; 0 or y is NaN, else 0 (PyTorch's <c>threshold_backward</c> passes dy unless y ≤ 0). Unlike
    /// PyTorch, a NaN or infinite dy where y ≤ 0 gives NaN (0 · dy) instead of 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Derivative(Vector<float> x, Vector<float> y) =>
        Vector.ConditionalSelect(Vector.LessThanOrEqual(y, Vector<float>.Zero), Vector<float>.Zero, Vector<float>.One);

    /// <inheritdoc cref="Derivative(Vector{float}, Vector{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Derivative(float x, float y) => y <= 0f ? 0f : 1f;
}

/// <summary>
/// <c>nn.Tanh</c>: the cells' vector tanh (a clamped rational approximation within a few float ulps);
/// <c>f′ = 1 − y²</c>, as PyTorch's <c>tanh_backward</c>.
/// </summary>
public readonly struct Tanh : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Forward(Vector<float> x) => Activations.Tanh(x);

    /// <inheritdoc/>
    public static float Forward(float x) => Activations.Tanh(new Vector<float>(x))[0];

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Derivative(Vector<float> x, Vector<float> y) => Vector<float>.One - y * y;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Derivative(float x, float y) => 1f - y * y;
}

/// <summary>
/// <c>nn.Sigmoid</c>: <c>σ(x) = ½·tanh(x/2) + ½</c> with the cells' vector tanh; <c>f′ = y · (1 − y)</c>, as
/// PyTorch's <c>sigmoid_backward</c>.
/// </summary>
public readonly struct Sigmoid : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Forward(Vector<float> x) => Activations.Sigmoid(x);

    /// <inheritdoc/>
    public static float Forward(float x) => Activations.Sigmoid(new Vector<float>(x))[0];

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Derivative(Vector<float> x, Vector<float> y) => y * (Vector<float>.One - y);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Derivative(float x, float y) => y * (1f - y);
}

/// <summary>
/// <c>nn.GELU()</c> (the exact form, <c>approximate='none'</c>): <c>y = x · Φ(x) = ½ · x · (1 + erf(x/√2))</c>,
/// <c>f′ = Φ(x) + x · φ(x)</c> with <c>φ(x) = exp(−x²/2)/√(2π)</c>, as PyTorch's <c>GeluBackward</c>.
/// </summary>
/// <remarks>
/// Each lane is computed in double, with Φ(x) = ½·erfc(−x/√2) from <see cref="ErrorFunction"/> (relative error
/// below 1e-15 wherever the result is a normal double), and rounded once to float: the result is the correctly
/// rounded x·Φ(x) except within about 1e-15 relative of a float rounding boundary, i.e. within ½ ulp + 1e-15
/// relative. Unlike PyTorch's float kernel, which forms 1 + erf(x/√2) in float, it stays accurate in relative
/// terms for negative x. Results that would be subnormal floats (x below about −13.5) are flushed to zero
/// (<see cref="Subnormals"/>). It is scalar per lane, so it costs a few tens of nanoseconds per element.
/// </remarks>
public readonly struct Gelu : IActivation
{
    private const double InverseSqrt2 = 0.70710678118654752440;
    private const double InverseSqrt2Pi = 0.39894228040143267794;

    /// <inheritdoc/>
    public static Vector<float> Forward(Vector<float> x)
    {
        Span<float> lanes = stackalloc float[Vector<float>.Count];
        x.CopyTo(lanes);
        for (int lane = 0; lane < lanes.Length; lane++) lanes[lane] = Forward(lanes[lane]);
        return new Vector<float>(lanes);
    }

    /// <inheritdoc/>
    public static float Forward(float x)
    {
        double cdf = 0.5 * ErrorFunction.Erfc(-x * InverseSqrt2);
        return Subnormals.Flush((float)(x * cdf));
    }

    /// <inheritdoc/>
    public static Vector<float> Derivative(Vector<float> x, Vector<float> y)
    {
        Span<float> lanes = stackalloc float[Vector<float>.Count];
        x.CopyTo(lanes);
        for (int lane = 0; lane < lanes.Length; lane++) lanes[lane] = Derivative(lanes[lane], 0f);
        return new Vector<float>(lanes);
    }

    /// <inheritdoc/>
    public static float Derivative(float x, float y)
    {
        double xd = x;
        double cdf = 0.5 * ErrorFunction.Erfc(-xd * InverseSqrt2);
        double pdf = Math.Exp(-0.5 * xd * xd) * InverseSqrt2Pi;
        return Subnormals.Flush((float)(cdf + xd * pdf));
    }
}

/// <summary>
/// The element-wise loop of an activation module: whole vectors, then the tail as one zero-padded vector through
/// the same vector math, so each element's result is independent of the vector width and of its position.
/// </summary>
/// <typeparam name="TActivation">The activation (<see cref="Relu"/>, <see cref="Tanh"/>, <see cref="Sigmoid"/>, <see cref="Gelu"/>).</typeparam>
public static class ActivationKernel<TActivation> where TActivation : struct, IActivation
{
    /// <summary>
    /// <c>y[i] = f(x[i])</c>; <paramref name="y"/> is at least as long as <paramref name="x"/> and may be x itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        SpanChecks.AtLeast(y.Length, x.Length, nameof(y));
        int n = x.Length, v = Vector<float>.Count, i = 0;
        for (; i <= n - v; i += v) TActivation.Forward(new Vector<float>(x[i..])).CopyTo(y[i..]);
        if (i < n)
        {
            Span<float> tail = stackalloc float[v];
            tail.Clear();
            x[i..n].CopyTo(tail);
            TActivation.Forward(new Vector<float>(tail)).CopyTo(tail);
            tail[..(n - i)].CopyTo(y[i..n]);
        }
    }

    /// <summary>
    /// <c>dx[i] = dy[i] · f′(x[i])</c> from the forward's input x and output y (each as long as dy); dx is
    /// overwritten and may be dy itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = dy.Length, v = Vector<float>.Count, i = 0;
        SpanChecks.AtLeast(x.Length, n, nameof(x));
        SpanChecks.AtLeast(y.Length, n, nameof(y));
        SpanChecks.AtLeast(dx.Length, n, nameof(dx));
        for (; i <= n - v; i += v)
        {
            Vector<float> d = TActivation.Derivative(new Vector<float>(x[i..]), new Vector<float>(y[i..]));
            (new Vector<float>(dy[i..]) * d).CopyTo(dx[i..]);
        }
        if (i < n)
        {
            Span<float> tail = stackalloc float[3 * v];
            tail.Clear();
            Span<float> xt = tail[..v], yt = tail.Slice(v, v), dyt = tail.Slice(2 * v, v);
            x[i..n].CopyTo(xt);
            y[i..n].CopyTo(yt);
            dy[i..n].CopyTo(dyt);
            (new Vector<float>(dyt) * TActivation.Derivative(new Vector<float>(xt), new Vector<float>(yt))).CopyTo(xt);
            xt[..(n - i)].CopyTo(dx[i..n]);
        }
    }
}

/// <summary>
/// erf and erfc in double, for the exact GELU. Small arguments (|x| ≤ 2) sum the Maclaurin series
/// erf x = 2/√π · Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n+1)), whose largest term at |x| = 2 is below 3, so cancellation costs at
/// most one digit; larger ones evaluate erfc x = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))) (Laplace's
/// continued fraction) by the modified Lentz method to a relative change below 1e-16. Both are within about
/// 1e-14 relative of the functions (the tests compare them with quadrature).
/// </summary>
internal static class ErrorFunction
{
    private const double TwoOverSqrtPi = 1.1283791670955126;
    private const double InverseSqrtPi = 0.5641895835477563;

    /// <summary>erf(x).</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        double value = a <= 2 ? Series(a) : 1 - TailErfc(a);
        return x < 0 ? -value : value;
    }

    /// <summary>erfc(x) = 1 − erf(x), accurate in relative terms far into the tail.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x < 0) return 2 - Erfc(-x);
        return x <= 2 ? 1 - Series(x) : TailErfc(x);
    }

    private static double Series(double a)
    {
        double square = a * a, term = a, sum = a;
        for (int n = 1; n < 60; n++)
        {
            term *= -square / n;
            double next = sum + term / (2 * n + 1);
            if (next == sum) break;
            sum = next;
        }
        return TwoOverSqrtPi * sum;
    }

    /// <summary>erfc(a) for a &gt; 2 from the continued fraction; 0 past the point where it underflows.</summary>
    private static double TailErfc(double a)
    {
        if (a > 27.3) return 0;
        // K = 1/(a + c1/(a + c2/(a + …))) with c_k = k/2, by the modified Lentz method.
        const double Tiny = 1e-300;
        double f = a, c = a, d = 0;
        for (int k = 1; k < 500; k++)
        {
            double coefficient = k * 0.5;
            d = a + coefficient * d;
            d = d == 0 ? Tiny : d;
            c = a + coefficient / c;
            c = c == 0 ? Tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-a * a) * InverseSqrtPi / f;
    }
}
