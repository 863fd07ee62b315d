using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// The one correctness check of the suite: every benchmark's [GlobalSetup] runs its code once and calls
/// <see cref="Require"/> with what it computed and what the reference or peer computed on the same weights and data.
/// A difference above <see cref="Tolerance"/> (or a NaN) throws, so BenchmarkDotNet reports the benchmark as failed
/// and times nothing. The line it prints ("// check ...") is in the benchmark's log.
/// </summary>
public static class Agreement
{
    /// <summary>Largest |actual − expected| accepted.</summary>
    public const double Tolerance = 1e-5;

    /// <summary>Throws unless every <paramref name="actual"/> value is within <see cref="Tolerance"/> of <paramref name="expected"/>.</summary>
    public static void Require(string benchmark, string what, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            throw new InvalidOperationException($"{benchmark} {what}: {actual.Length} values, expected {expected.Length}; nothing is timed.");
        }
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double difference = Math.Abs((double)actual[i] - expected[i]);
            // A NaN must fail the check, so compare with !(<=).
            if (!(difference <= worst)) worst = double.IsNaN(difference) ? double.NaN : difference;
        }
        string line = string.Create(CultureInfo.InvariantCulture,
            $"// check {benchmark} {what}: max |difference| = {worst:E2} over {actual.Length} values (tolerance {Tolerance:E0})");
        Console.WriteLine(line);
        if (!(worst <= Tolerance)) throw new InvalidOperationException(line + ": outside the tolerance; nothing is timed.");
    }

    /// <summary>The same check for one number (a loss).</summary>
    public static void Require(string benchmark, string what, float actual, float expected) =>
        Require(benchmark, what, [actual], [expected]);
}
