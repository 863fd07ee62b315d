using Xunit.Sdk;

namespace ModelGen.Tests;

/// <summary>
/// Softmax against its double definition, argmax's tie rule (torch.argmax: the first maximum), and sampling: the
/// distribution it reports, its inverse-CDF rule, top-k with ties, reproducibility with a seed, and the generator
/// against SplitMix64's definition.
/// </summary>
public class LogitsTests
{
    private static double[] ReferenceSoftmax(float[] logits, double temperature)
    {
        double[] scaled = [.. logits.Select(l => l / temperature)];
        double max = scaled.Max();
        double[] e = [.. scaled.Select(s => Math.Exp(s - max))];
        double sum = e.Sum();
        return [.. e.Select(v => v / sum)];
    }

    private static void AssertRelative(double[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance * expected[i] + 1e-45))
            {
                throw new XunitException($"{what}[{i}] = {actual[i]:R}, expected {expected[i]:R}.");
            }
        }
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.7f)]
    [InlineData(3.0f)]
    public void Softmax_matches_the_double_definition_at_any_temperature(float temperature)
    {
        float[] logits = [.. TestHelpers.RandomValues(11, seed: 1).Select(v => 5 * v)];
        var probabilities = new float[logits.Length];
        Logits.Softmax(logits, probabilities, temperature);
        // One rounding to float: half an ulp, 6e-8 relative; the double work before it adds far less.
        AssertRelative(ReferenceSoftmax(logits, temperature), probabilities, 1.2e-7, "softmax");
        Assert.Equal(1.0, probabilities.Sum(p => (double)p), 1e-6);
    }

    [Fact]
    public void Softmax_is_stable_for_large_logits_and_computes_in_place()
    {
        float[] logits = [1000f, 999f, -1000f, 1000f];
        var probabilities = new float[4];
        Logits.Softmax(logits, probabilities);
        AssertRelative(ReferenceSoftmax(logits, 1), probabilities, 1.2e-7, "large logits");
        float[] inPlace = (float[])logits.Clone();
        Logits.Softmax(inPlace, inPlace);
        TestHelpers.AssertBitEqual(probabilities, inPlace, "in place");

        var shifted = new float[5];
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => Logits.Softmax(shifted.AsSpan(0, 4), shifted.AsSpan(1))).ParamName);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => Logits.Softmax(logits, new float[3])).ParamName);
        Assert.Equal("temperature", Assert.Throws<ArgumentOutOfRangeException>(() => Logits.Softmax(logits, probabilities, 0)).ParamName);
    }

    [Fact]
    public void ArgMax_returns_the_first_maximum_and_the_first_NaN()
    {
        Assert.Equal(1, Logits.ArgMax([0f, 3f, 3f, -1f]));
        Assert.Equal(0, Logits.ArgMax([float.NegativeInfinity]));
        Assert.Equal(2, Logits.ArgMax([5f, 1f, float.NaN, float.NaN]));
        Assert.Equal(3, Logits.ArgMax([1f, 2f, 3f, 4f]));
        Assert.Throws<ArgumentException>(() => Logits.ArgMax([]));
    }

    [Fact]
    public void Sample_inverts_the_cumulative_distribution_it_reports()
    {
        float[] logits = [0.5f, -1f, 2f, 0f, 1f];
        var probabilities = new float[logits.Length];
        for (int k = 0; k <= 40; k++)
        {
            double u = k / 41.0;
            int drawn = Logits.Sample(logits, probabilities, u, temperature: 0.8f);
            AssertRelative(ReferenceSoftmax(logits, 0.8), probabilities, 1.2e-7, "sampled distribution");
            double total = probabilities.Sum(p => (double)p), cumulative = 0;
            int expected = -1;
            for (int c = 0; c < probabilities.Length && expected < 0; c++)
            {
                cumulative += probabilities[c];
                if (u * total < cumulative) expected = c;
            }
            Assert.Equal(expected, drawn);
        }
    }

    [Fact]
    public void Sample_top_k_keeps_the_k_largest_and_every_logit_tied_with_the_kth()
    {
        float[] logits = [3f, 1f, 3f, 3f, 0f, 2f];
        var probabilities = new float[logits.Length];
        Logits.Sample(logits, probabilities, 0.5, topK: 2);
        // The 2nd largest is 3, tied three times: all three stay, equally likely.
        Assert.Equal([1f / 3, 0f, 1f / 3, 1f / 3, 0f, 0f], probabilities);

        Logits.Sample(logits, probabilities, 0.5, topK: 4);
        double[] expected = ReferenceSoftmax([3f, 3f, 3f, 2f], 1);
        AssertRelative([expected[0], 0, expected[1], expected[2], 0, expected[3]], probabilities, 1.2e-7, "top-4");

        var random = new SeededRandom(5);
        for (int i = 0; i < 200; i++)
        {
            int drawn = Logits.Sample(logits, probabilities, random, temperature: 2f, topK: 4);
            Assert.True(drawn is 0 or 2 or 3 or 5, $"drew class {drawn}, outside the top 4");
        }
    }

    [Fact]
    public void Sample_draws_with_the_softmax_frequencies_and_repeats_with_the_seed()
    {
        float[] logits = [0.2f, -0.5f, 1.1f, 0.0f];
        var probabilities = new float[logits.Length];
        const int Draws = 40_000;
        var counts = new int[logits.Length];
        var random = new SeededRandom(11);
        var drawn = new int[Draws];
        for (int i = 0; i < Draws; i++) counts[drawn[i] = Logits.Sample(logits, probabilities, random, temperature: 1.3f)]++;
        double[] p = ReferenceSoftmax(logits, 1.3);
        for (int c = 0; c < logits.Length; c++)
        {
            // Binomial: 5 standard deviations, a false alarm once in ~3 million runs per class.
            double sigma = Math.Sqrt(Draws * p[c] * (1 - p[c]));
            Assert.True(Math.Abs(counts[c] - Draws * p[c]) < 5 * sigma, $"class {c}: {counts[c]} draws, expected {Draws * p[c]:F0} ± {sigma:F0}");
        }
        var again = new SeededRandom(11);
        for (int i = 0; i < 1000; i++) Assert.Equal(drawn[i], Logits.Sample(logits, probabilities, again, temperature: 1.3f));
    }

    [Fact]
    public void Sample_excludes_minus_infinity_rejects_NaN_and_plus_infinity_and_allocates_nothing()
    {
        float[] logits = [float.NegativeInfinity, 0f, float.NegativeInfinity, 1f];
        var probabilities = new float[4];
        var random = new SeededRandom(2);
        for (int i = 0; i < 100; i++) Assert.True(Logits.Sample(logits, probabilities, random) is 1 or 3);
        Assert.Equal(0f, probabilities[0]);
        Assert.Equal(0f, probabilities[2]);
        Assert.Contains("logits[1]", Assert.Throws<ArgumentException>(() => Logits.Sample([0f, float.NaN], new float[2], 0.5)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Logits.Sample([0f, float.PositiveInfinity], new float[2], 0.5));
        Assert.Throws<ArgumentException>(() => Logits.Sample([float.NegativeInfinity], new float[1], 0.5));
        Assert.Equal("uniform", Assert.Throws<ArgumentOutOfRangeException>(() => Logits.Sample(logits, probabilities, 1.0)).ParamName);
        Assert.Equal("topK", Assert.Throws<ArgumentOutOfRangeException>(() => Logits.Sample(logits, probabilities, 0.5, topK: -1)).ParamName);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => Logits.Sample(probabilities, probabilities, 0.5)).ParamName);

        float[] row = TestHelpers.RandomValues(50, seed: 3);
        var scratch = new float[50];
        Logits.Sample(row, scratch, random, 0.9f, topK: 5);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Logits.Sample(row, scratch, random, 0.9f, topK: 5);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void SeededRandom_is_SplitMix64_and_NextDouble_its_top_53_bits()
    {
        // SplitMix64 (Steele, Lea, Flood 2014), from its definition.
        ulong state = 42;
        ulong Next()
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
        var random = new SeededRandom(42);
        for (int i = 0; i < 100; i++)
        {
            if (i % 2 == 0) Assert.Equal(Next(), random.NextUInt64());
            else
            {
                double u = random.NextDouble();
                Assert.Equal((Next() >> 11) / 9007199254740992.0, u);
                Assert.True(u is >= 0 and < 1);
            }
        }
    }
}
