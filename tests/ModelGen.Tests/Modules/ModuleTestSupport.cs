using Xunit.Sdk;

namespace ModelGen.Tests.Modules;

/// <summary>Data, a float64 finite-difference gradient and comparisons shared by the module kernel tests.</summary>
internal static class ModuleTestSupport
{
    /// <summary>The float32 unit roundoff, 2⁻²⁴: a correctly rounded float operation errs by at most u·|result|.</summary>
    public const double U = 1.0 / (1 << 24);

    /// <summary>Uniform values in [low, high) as floats, from a seeded generator.</summary>
    public static float[] Uniform(int length, int seed, double low = -1, double high = 1)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(low + (high - low) * random.NextDouble());
        return values;
    }

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    /// <summary>
    /// ∂loss/∂p[i] for every i by the central difference (loss(p + h·eᵢ) − loss(p − h·eᵢ)) / 2h, all in double.
    /// For a loss linear in p (as Σ y·g is for Linear, Embedding and the reductions) the difference has no
    /// truncation error, only the rounding of the two losses, about 1e-16·Σ|terms| / h.
    /// </summary>
    public static double[] FiniteDifference(double[] parameters, Func<double[], double> loss, double h)
    {
        var gradient = new double[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            double saved = parameters[i];
            parameters[i] = saved + h;
            double plus = loss(parameters);
            parameters[i] = saved - h;
            double minus = loss(parameters);
            parameters[i] = saved;
            gradient[i] = (plus - minus) / (2 * h);
        }
        return gradient;
    }

    /// <summary>Σ a[i]·b[i] in double.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Fails at the first index where |actual − expected| exceeds tolerance[i].</summary>
    public static void AssertWithin(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, Func<int, double> tolerance, string what)
    {
        Assert.True(actual.Length >= expected.Length, $"{what}: {actual.Length} values, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]), bound = tolerance(i);
            if (!(error <= bound))
            {
                throw new XunitException($"{what}[{i}] = {actual[i]:R}, expected {expected[i]:R} (error {error:G3} > {bound:G3}).");
            }
        }
    }
}
