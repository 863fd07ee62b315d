using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Kernels;
using Xunit.Sdk;

namespace ModelGen.Tests;

/// <summary>
/// The tanh and sigmoid approximations of the cell kernels against double precision, and the independence of
/// each lane's result from its lane and its neighbours (what makes 4- and 8-lane machines agree bit for bit).
/// </summary>
public class ActivationTests
{
    private const double MaxAbsoluteError = 1e-6;
    private const double MaxRelativeError = 2e-6;
    private const double RelativeFrom = 1e-3;

    /// <summary>[-20, 20] every 1/1024, plus the edges of the approximation's pieces and extremes.</summary>
    private static float[] Points()
    {
        var points = new List<float>();
        for (int i = -20 * 1024; i <= 20 * 1024; i++) points.Add(i / 1024f);
        float[] special =
        [
            0f, -0f, 1e-5f, 0.0004f, 0.00039999f, 0.00040001f, 7.9f, 7.90531110763549805f, 7.906f, 100f, 1e10f,
            float.MaxValue, float.PositiveInfinity, float.Epsilon, 1e-30f, 0.5f, 1f, 2f, 3f, 5f, 10f, 15.9f, 16f,
        ];
        foreach (float x in special)
        {
            points.Add(x);
            points.Add(-x);
            points.Add(MathF.BitIncrement(x));
            points.Add(MathF.BitDecrement(x));
        }
        return [.. points.Where(float.IsFinite).Concat([float.PositiveInfinity, float.NegativeInfinity])];
    }

    private static double ExactSigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>The activation of <paramref name="x"/> broadcast to every lane, read from lane 0.</summary>
    private static float Tanh(float x) => Activations.Tanh(new Vector<float>(x))[0];

    private static float Sigmoid(float x) => Activations.Sigmoid(new Vector<float>(x))[0];

    /// <summary>
    /// Fails listing the points where <paramref name="approximation"/> is off <paramref name="exact"/> by more than
    /// the absolute bound, or (when <paramref name="relative"/>) by more than the relative bound where |exact| &gt; 1e-3.
    /// </summary>
    private static void AssertAccurate(string name, Func<float, float> approximation, Func<double, double> exact,
        IEnumerable<float> points, bool relative = true)
    {
        var failures = new List<string>();
        foreach (float x in points)
        {
            float actual = approximation(x);
            double expected = exact(x);
            double error = Math.Abs(actual - expected);
            double relativeError = error / Math.Abs(expected);
            bool relativeApplies = relative && Math.Abs(expected) > RelativeFrom;
            if (!(error <= MaxAbsoluteError) || (relativeApplies && !(relativeError <= MaxRelativeError)))
            {
                failures.Add($"{name}({x:R}) = {actual:R}, expected {expected:R} (error {error:G3}, relative {relativeError:G3})");
            }
        }
        if (failures.Count > 0)
        {
            throw new XunitException($"{failures.Count} points out of bounds, e.g.:\n" + string.Join("\n", failures.Take(10)));
        }
    }

    [Fact]
    public void Tanh_is_accurate() => AssertAccurate("Tanh", Tanh, Math.Tanh, Points());

    [Fact]
    public void Sigmoid_absolute_error_is_within_1e6_everywhere()
    {
        AssertAccurate("Sigmoid", Sigmoid, ExactSigmoid, Points(), relative: false);
    }

    [Fact]
    public void Sigmoid_is_accurate_for_non_negative_inputs()
    {
        AssertAccurate("Sigmoid", Sigmoid, ExactSigmoid, Points().Where(x => x >= 0));
    }

    /// <summary>
    /// For negative x, σ(x) = ½·tanh(x/2) + ½ cancels, so small σ has only absolute accuracy: a gate value is
    /// multiplied by O(1) quantities, so the absolute error (bounded above) is what reaches the outputs. This
    /// test pins the absolute error of small σ tighter, at 2e-7, so a change that loses more is noticed.
    /// </summary>
    [Fact]
    public void Sigmoid_of_negative_inputs_is_within_2e7_absolute()
    {
        foreach (float x in Points().Where(x => x < 0))
        {
            double error = Math.Abs(Sigmoid(x) - ExactSigmoid(x));
            Assert.True(error <= 2e-7, $"Sigmoid({x:R}) error {error:G3}");
        }
    }

    /// <summary>
    /// Every lane of a vector of distinct values equals the same value broadcast, bit for bit; the windows slide
    /// by one point, so each point is computed in every lane, next to different neighbours.
    /// </summary>
    private static void AssertLanesIndependent(string name, Func<Vector<float>, Vector<float>> activation)
    {
        float[] points = Points();
        float[] alone = [.. points.Select(x => activation(new Vector<float>(x))[0])];
        int lanes = Vector<float>.Count;
        var window = new float[lanes];
        for (int start = 0; start < points.Length; start++)
        {
            for (int lane = 0; lane < lanes; lane++) window[lane] = points[(start + lane) % points.Length];
            Vector<float> mixed = activation(new Vector<float>(window));
            for (int lane = 0; lane < lanes; lane++)
            {
                float expected = alone[(start + lane) % points.Length];
                if (BitConverter.SingleToInt32Bits(mixed[lane]) != BitConverter.SingleToInt32Bits(expected))
                {
                    throw new XunitException($"{name}({window[lane]:R}): lane {lane} of a mixed vector = {mixed[lane]:R}, broadcast = {expected:R}.");
                }
            }
        }
    }

    [Fact]
    public void Tanh_lanes_are_independent_of_lane_and_neighbours() => AssertLanesIndependent("Tanh", Activations.Tanh);

    [Fact]
    public void Sigmoid_lanes_are_independent_of_lane_and_neighbours() => AssertLanesIndependent("Sigmoid", Activations.Sigmoid);

    /// <summary>
    /// NaN gives NaN, as torch.tanh and torch.sigmoid do, in every lane beside finite neighbours and in both vector
    /// types of the kernels: the clamp's platform min and max may turn NaN into a bound, and the last select must
    /// put it back.
    /// </summary>
    [Fact]
    public void Tanh_and_sigmoid_of_NaN_are_NaN()
    {
        int lanes = Vector<float>.Count;
        for (int lane = 0; lane < lanes; lane++)
        {
            var window = new float[lanes];
            for (int i = 0; i < lanes; i++) window[i] = i == lane ? float.NaN : i - 2.5f;
            Vector<float> tanh = Activations.Tanh(new Vector<float>(window)), sigmoid = Activations.Sigmoid(new Vector<float>(window));
            for (int i = 0; i < lanes; i++)
            {
                Assert.True(float.IsNaN(tanh[i]) == (i == lane), $"Tanh, NaN in lane {lane}: lane {i} = {tanh[i]}");
                Assert.True(float.IsNaN(sigmoid[i]) == (i == lane), $"Sigmoid, NaN in lane {lane}: lane {i} = {sigmoid[i]}");
            }
        }
        Vector512<float> wide = Vector512.Create(float.NaN).WithElement(3, 1f);
        Vector512<float> wideTanh = Activations.Tanh<Vector512<float>, Vector512Lanes>(wide);
        Vector512<float> wideSigmoid = Activations.Sigmoid<Vector512<float>, Vector512Lanes>(wide);
        for (int i = 0; i < Vector512<float>.Count; i++)
        {
            Assert.True(float.IsNaN(wideTanh[i]) == (i != 3), $"512-bit tanh: lane {i} = {wideTanh[i]}");
            Assert.True(float.IsNaN(wideSigmoid[i]) == (i != 3), $"512-bit sigmoid: lane {i} = {wideSigmoid[i]}");
        }
    }

    [Fact]
    public void Tanh_is_odd_and_bounded_and_sigmoid_is_centred()
    {
        foreach (float x in Points())
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(-Tanh(x)), BitConverter.SingleToInt32Bits(Tanh(-x)));
            Assert.InRange(Tanh(x), -1f, 1f);
            Assert.InRange(Sigmoid(x), 0f, 1f);
        }
        Assert.Equal(0.5f, Sigmoid(0f));
        Assert.Equal(BitConverter.SingleToInt32Bits(1e-5f), BitConverter.SingleToInt32Bits(Tanh(1e-5f)));
    }
}
