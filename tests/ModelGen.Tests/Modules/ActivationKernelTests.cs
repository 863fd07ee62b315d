using ModelGen.Kernels;
using Xunit.Sdk;

namespace ModelGen.Tests.Modules;

/// <summary>
/// <see cref="ActivationKernel{TActivation}"/> with each activation: the values against double precision, the
/// derivatives against central finite differences of double references, the independence of each element's
/// result from its position (vector body or tail), and the erf behind GELU against numerical integration.
/// </summary>
public class ActivationKernelTests
{
    // ----- erf and erfc against an independent method -----

    /// <summary>
    /// erfc(z) for z ≥ 0 by quadrature: erfc(z) = (2/√π)·e^{−z²}·∫₀^∞ e^{−s² − 2zs} ds (t = z + s), composite
    /// Simpson with h = 10⁻³/(1 + 2z) on [0, S], S = min(6.5, 42/(2z)) (the integrand is below 1e-18 past S).
    /// Simpson errs by about S·h⁴·max|f⁗|/180, with |f⁗| ≲ 12 + (2z)⁴ times the integrand's scale 1/(1 + 2z):
    /// below 1e-14 relative for z ≤ 26. Independent of the fdlibm rational approximations under test.
    /// </summary>
    private static double ErfcByQuadrature(double z)
    {
        double upper = z > 0 ? Math.Min(6.5, 42 / (2 * z)) : 6.5;
        double h0 = 1e-3 / (1 + 2 * z);
        int panels = 2 * (int)Math.Ceiling(upper / h0 / 2);
        double h = upper / panels, sum = 0;
        for (int i = 0; i <= panels; i++)
        {
            double s = i * h, f = Math.Exp(-s * s - 2 * z * s);
            sum += f * (i == 0 || i == panels ? 1 : i % 2 == 1 ? 4 : 2);
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-z * z) * sum * h / 3;
    }

    /// <summary>erf(z) for |z| ≤ 0.5 by its Taylor series (2/√π)·Σ (−1)ⁿ z^{2n+1}/(n!(2n+1)), terms below 1e-19.</summary>
    private static double ErfBySeries(double z)
    {
        double term = z, sum = z;
        for (int n = 1; n < 30; n++)
        {
            term *= -z * z / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    private static readonly double[] ErfPoints =
    [
        0, 1e-300, 1e-20, 3e-9, 1e-5, 0.01, 0.1, 0.2, 0.2499, 0.25, 0.3, 0.5, 0.6174, 0.84, 0.84375, 0.85, 1, 1.1, 1.2499, 1.25,
        1.5, 2, 2.5, 2.857, 2.858, 3, 3.5, 4, 5, 5.99, 6, 6.5, 8, 10, 15, 20, 26,
    ];

    [Fact]
    public void Erfc_matches_quadrature_within_1e12_relative()
    {
        foreach (double z in ErfPoints)
        {
            double expected = ErfcByQuadrature(z);
            AssertRelative(expected, ErrorFunction.Erfc(z), 1e-12, $"erfc({z})");
            AssertRelative(2 - expected, ErrorFunction.Erfc(-z), 1e-12, $"erfc({-z})");
        }
        Assert.Equal(0.0, ErrorFunction.Erfc(30));
        Assert.Equal(2.0, ErrorFunction.Erfc(double.NegativeInfinity));
        Assert.True(double.IsNaN(ErrorFunction.Erfc(double.NaN)));
    }

    [Fact]
    public void Erf_matches_series_and_quadrature_within_1e13_relative()
    {
        foreach (double z in ErfPoints)
        {
            double expected = z <= 0.5 ? ErfBySeries(z) : 1 - ErfcByQuadrature(z);
            AssertRelative(expected, ErrorFunction.Erf(z), 1e-13, $"erf({z})");
            Assert.Equal(-ErrorFunction.Erf(z), ErrorFunction.Erf(-z));
        }
        Assert.Equal(1.0, ErrorFunction.Erf(double.PositiveInfinity));
        Assert.True(double.IsNaN(ErrorFunction.Erf(double.NaN)));
    }

    private static void AssertRelative(double expected, double actual, double bound, string what)
    {
        double error = expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);
        if (!(error <= bound)) throw new XunitException($"{what} = {actual:R}, expected {expected:R} (relative error {error:G3} > {bound:G3}).");
    }

    // ----- references -----

    /// <summary>GELU in double from the quadrature: x·Φ(x), Φ(x) = ½·erfc(−x/√2).</summary>
    private static double GeluReference(double x)
    {
        double z = -x / Math.Sqrt(2);
        double erfc = z >= 0 ? ErfcByQuadrature(z) : 2 - ErfcByQuadrature(-z);
        return x * 0.5 * erfc;
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static float[] GeluPoints()
    {
        var points = new List<float>();
        for (float x = -13f; x <= 10f; x += 0.05f) points.Add(x);
        points.AddRange([0f, -0f, 1e-30f, -1e-30f, 1e-7f, 0.5f, -0.5f, 1.1931f, -1.7677f, -4.0406f, -12.9f, 3e3f, 1e30f]);
        return [.. points];
    }

    // ----- GELU -----

    /// <summary>
    /// The result is x·Φ(x) computed in double (relative error ~1e-15) and rounded once, so it is within
    /// u·|exact| (half an ulp) plus that 1e-15: the bound is u·|exact|·(1 + 1e-6). PyTorch's float formula
    /// ½·x·(1 + erf(x/√2)) would fail this for negative x, where 1 + erf cancels.
    /// </summary>
    [Fact]
    public void Gelu_forward_is_correctly_rounded_to_within_half_an_ulp()
    {
        float[] x = GeluPoints();
        var y = new float[x.Length];
        ActivationKernel<Gelu>.Forward(x, y);
        ModuleTestSupport.AssertWithin([.. x.Select(v => GeluReference(v))], y,
            i => ModuleTestSupport.U * Math.Abs(GeluReference(x[i])) * (1 + 1e-6), "gelu");
    }

    [Fact]
    public void Gelu_flushes_subnormal_results_and_keeps_pytorch_special_values()
    {
        float[] x = [-13.5f, -20f, -100f, float.NegativeInfinity, float.PositiveInfinity, float.NaN];
        var y = new float[x.Length];
        ActivationKernel<Gelu>.Forward(x, y);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(Math.Abs(GeluReference(x[i])) < 1.18e-38, $"gelu({x[i]}) is subnormal in float");
            Assert.Equal(0f, y[i]);
        }
        Assert.True(float.IsNaN(y[3]), "gelu(−∞) = −∞·0 = NaN, as PyTorch's formula");
        Assert.Equal(float.PositiveInfinity, y[4]);
        Assert.True(float.IsNaN(y[5]));
    }

    /// <summary>
    /// dx = dy·G′(x) against the central difference of <see cref="GeluReference"/> with h = 1e-4: truncation
    /// h²/6·|G‴| ≤ 2e-9 (|G‴| ≤ 1.2), the quadrature's 1e-14 relative noise over 2h ≤ 1e-9 for |G| ≤ 10; the
    /// kernel's derivative is double rounded to float (u·|G′|) times dy (u again).
    /// </summary>
    [Fact]
    public void Gelu_backward_matches_finite_differences()
    {
        float[] x = [.. GeluPoints().Where(v => Math.Abs(v) <= 10).Where((_, i) => i % 2 == 0)];
        float[] dy = ModuleTestSupport.Uniform(x.Length, 7, -2, 2);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        ActivationKernel<Gelu>.Forward(x, y);
        ActivationKernel<Gelu>.Backward(x, y, dy, dx);
        const double h = 1e-4;
        double[] derivative = [.. x.Select(v => (GeluReference(v + h) - GeluReference(v - h)) / (2 * h))];
        ModuleTestSupport.AssertWithin([.. derivative.Select((d, i) => d * dy[i])], dx,
            i => Math.Abs(dy[i]) * (2.02 * ModuleTestSupport.U * Math.Abs(derivative[i]) + 5e-9), "gelu dx");
    }

    // ----- ReLU, tanh, sigmoid -----

    [Fact]
    public void Relu_forward_and_backward_follow_pytorch()
    {
        float[] x = [.. ModuleTestSupport.Uniform(37, 8, -3, 3), 0f, -0f, float.NaN, float.NegativeInfinity, float.PositiveInfinity];
        float[] dy = ModuleTestSupport.Uniform(x.Length, 9);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        ActivationKernel<Relu>.Forward(x, y);
        ActivationKernel<Relu>.Backward(x, y, dy, dx);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = double.IsNaN(x[i]) ? double.NaN : Math.Max(x[i], 0.0);
            Assert.Equal(expected, (double)y[i]);
            // Away from the kink the derivative is exactly 0 or 1 (a finite difference of max(x, 0) with any
            // h < |x|); at x = 0 PyTorch's is 0; NaN passes the gradient through (threshold_backward).
            double slope = double.IsNaN(x[i]) || x[i] > 0 ? 1 : 0;
            Assert.Equal(dy[i] * slope, (double)dx[i]);
        }
    }

    /// <summary>
    /// tanh and σ are the cell kernels' approximations (within 1e-6 + 2e-6·|f| of the exact value, tested in
    /// <see cref="ActivationTests"/>); the derivative is formed from that y: 1 − y² errs by 2|y|·δy + 2u, y(1 − y)
    /// by |1 − 2y|·δy + 2u, where δy is that bound. The central difference (h = 1e-4) of the exact function adds
    /// h²/6·|f‴| ≤ 4e-9.
    /// </summary>
    private static void CheckSmooth<TActivation>(Func<double, double> exact, Func<double, double, double> derivativeError)
        where TActivation : struct, IActivation
    {
        float[] x = [.. ModuleTestSupport.Uniform(101, 10, -6, 6), 0f, 20f, -20f];
        float[] dy = ModuleTestSupport.Uniform(x.Length, 11, -2, 2);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        ActivationKernel<TActivation>.Forward(x, y);
        ActivationKernel<TActivation>.Backward(x, y, dy, dx);
        ModuleTestSupport.AssertWithin([.. x.Select(v => exact(v))], y, i => 1e-6 + 2e-6 * Math.Abs(exact(x[i])), $"{typeof(TActivation).Name} y");
        const double h = 1e-4;
        double[] slope = [.. x.Select(v => (exact(v + h) - exact(v - h)) / (2 * h))];
        ModuleTestSupport.AssertWithin([.. slope.Select((s, i) => s * dy[i])], dx, i =>
        {
            double delta = 1e-6 + 2e-6 * Math.Abs(exact(x[i]));
            return Math.Abs(dy[i]) * (derivativeError(y[i], delta) + 4 * ModuleTestSupport.U + 4e-9);
        }, $"{typeof(TActivation).Name} dx");
    }

    [Fact]
    public void Tanh_forward_and_backward_are_accurate() => CheckSmooth<ModelGen.Kernels.Tanh>(Math.Tanh, (y, delta) => 2 * Math.Abs(y) * delta + delta * delta);

    [Fact]
    public void Sigmoid_forward_and_backward_are_accurate() => CheckSmooth<ModelGen.Kernels.Sigmoid>(Sigmoid, (y, delta) => Math.Abs(1 - 2 * y) * delta + delta * delta);

    // ----- position independence -----

    /// <summary>
    /// Every element of a 37-element span (4 or 8 lanes: a body and a tail) equals the scalar form on that
    /// element bit for bit, also from a span starting 3 elements later (each element then sits in another lane
    /// or in the tail), in place, and the same for the backward.
    /// </summary>
    private static void CheckPositionIndependence<TActivation>() where TActivation : struct, IActivation
    {
        float[] x = ModuleTestSupport.Uniform(37, 12, -5, 5), dy = ModuleTestSupport.Uniform(37, 13);
        var y = new float[37];
        var dx = new float[37];
        ActivationKernel<TActivation>.Forward(x, y);
        ActivationKernel<TActivation>.Backward(x, y, dy, dx);
        TestHelpers.AssertBitEqual([.. x.Select(v => TActivation.Forward(v))], y, "y vs the scalar form");
        TestHelpers.AssertBitEqual([.. x.Select((v, i) => dy[i] * TActivation.Derivative(v, y[i]))], dx, "dx vs the scalar form");

        var shifted = new float[34];
        ActivationKernel<TActivation>.Forward(x.AsSpan(3), shifted);
        TestHelpers.AssertBitEqual(y.AsSpan(3), shifted, "y from offset 3");
        var shiftedDx = new float[34];
        ActivationKernel<TActivation>.Backward(x.AsSpan(3), y.AsSpan(3), dy.AsSpan(3), shiftedDx);
        TestHelpers.AssertBitEqual(dx.AsSpan(3), shiftedDx, "dx from offset 3");

        float[] inPlace = (float[])x.Clone();
        ActivationKernel<TActivation>.Forward(inPlace, inPlace);
        TestHelpers.AssertBitEqual(y, inPlace, "y in place");
        float[] inPlaceDx = (float[])dy.Clone();
        ActivationKernel<TActivation>.Backward(x, y, inPlaceDx, inPlaceDx);
        TestHelpers.AssertBitEqual(dx, inPlaceDx, "dx in place of dy");
    }

    [Fact] public void Relu_is_position_independent() => CheckPositionIndependence<Relu>();
    [Fact] public void Tanh_is_position_independent() => CheckPositionIndependence<ModelGen.Kernels.Tanh>();
    [Fact] public void Sigmoid_is_position_independent() => CheckPositionIndependence<ModelGen.Kernels.Sigmoid>();
    [Fact] public void Gelu_is_position_independent() => CheckPositionIndependence<Gelu>();

    [Fact]
    public void Short_outputs_throw_before_writing()
    {
        var y = new float[3];
        var e = Assert.Throws<ArgumentException>(() => ActivationKernel<Relu>.Forward(new float[4], y));
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => ActivationKernel<Relu>.Backward(new float[4], new float[3], new float[4], new float[4]));
        Assert.Equal("y", e.ParamName);
    }
}
