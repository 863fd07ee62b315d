namespace ModelGen;

/// <summary>
/// A seeded random generator with a fixed sequence for every seed on every machine and .NET version (SplitMix64,
/// the generator of <see cref="IRecurrentModel.InitializeParameters"/> and of the fit's shuffle), for
/// reproducible sampling with <see cref="Logits.Sample(ReadOnlySpan{float}, Span{float}, SeededRandom, float, int)"/>.
/// PyTorch's equivalent is a <c>torch.Generator</c> seeded with <c>manual_seed</c>; the two streams differ.
/// </summary>
/// <remarks>Thread safety: not thread-safe (each draw advances its state); give each thread its own generator.</remarks>
public sealed class SeededRandom
{
    private SplitMix64 _state;

    /// <summary>A generator at the start of the sequence of <paramref name="seed"/>.</summary>
    public SeededRandom(ulong seed) => _state = new SplitMix64(seed);

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64() => _state.Next();

    /// <summary>Uniform in [0, 1), from the top 53 bits of <see cref="NextUInt64"/> (a double's precision).</summary>
    public double NextDouble() => (_state.Next() >> 11) * (1.0 / (1UL << 53));
}

/// <summary>
/// Softmax, argmax and sampling over one row of logits, e.g. the <c>[O]</c> that <c>StepPredict</c> writes for a
/// batch of one (or one row of <c>[B, O]</c>).
/// </summary>
/// <remarks>
/// Thread safety: static and stateless; calls from several threads are safe on separate <c>probabilities</c>
/// buffers and separate <see cref="SeededRandom"/> generators.
/// </remarks>
public static class Logits
{
    /// <summary>
    /// <c>F.softmax(logits / temperature, dim=-1)</c>, computed stably as <c>exp((x − max x)/T) / Σ exp((x − max x)/T)</c>
    /// in double and rounded once to float. <paramref name="probabilities"/> may be the very span of
    /// <paramref name="logits"/> (in place); any other overlap is rejected. As in PyTorch, a NaN logit makes every
    /// probability NaN, and so does a row whose maximum is infinite.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ, the row is empty, or the spans overlap otherwise.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not positive and finite.</exception>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities, float temperature = 1f)
    {
        CheckRow(logits, probabilities, sameIsSafe: true);
        CheckTemperature(temperature);
        float max = Max(logits);
        double sum = 0;
        foreach (float logit in logits) sum += Weight(logit, max, temperature);
        for (int i = 0; i < logits.Length; i++) probabilities[i] = (float)(Weight(logits[i], max, temperature) / sum);
    }

    /// <summary>
    /// <c>torch.argmax(logits)</c>: the index of the largest logit; of ties, the first (as PyTorch documents). A NaN
    /// counts as the largest, as in PyTorch and NumPy, so the first NaN wins.
    /// </summary>
    /// <exception cref="ArgumentException">The row is empty.</exception>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("logits: expected at least one element.", nameof(logits));
        int best = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (float.IsNaN(logits[i])) return i;
            if (logits[i] > logits[best]) best = i;
        }
        return best;
    }

    /// <summary>
    /// Draws a class from <c>softmax(logits / temperature)</c> restricted to the <paramref name="topK"/> largest
    /// logits: <c>torch.multinomial(F.softmax(top_k_filter(logits) / temperature, -1), 1, generator=g)</c>, with
    /// <paramref name="random"/> as the generator. Reproducible: the same seed gives the same draws everywhere.
    /// See <see cref="Sample(ReadOnlySpan{float}, Span{float}, double, float, int)"/> for the rules.
    /// </summary>
    public static int Sample(ReadOnlySpan<float> logits, Span<float> probabilities, SeededRandom random, float temperature = 1f, int topK = 0)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Sample(logits, probabilities, random.NextDouble(), temperature, topK);
    }

    /// <summary>
    /// Draws a class by inverting the cumulative distribution at <paramref name="uniform"/> (any uniform [0, 1)
    /// source, e.g. <see cref="SeededRandom.NextDouble"/> or <see cref="Random.NextDouble"/>).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Top-k: with <c>0 &lt; topK &lt; C</c>, only the logits at least as large as the k-th largest are kept, so every
    /// logit tied with the k-th is kept too (more than k candidates on ties), as the top-k filter of Hugging Face
    /// transformers does (<c>logits &lt; topk(logits, k).values[-1]</c> are removed). <c>topK = 0</c> or ≥ C keeps all.
    /// </para>
    /// <para>
    /// <paramref name="probabilities"/> receives the distribution drawn from: <c>softmax(kept / temperature)</c>,
    /// zero elsewhere, computed as by <see cref="Softmax"/>. The result is the smallest index c with
    /// <c>uniform · S &lt; p[0] + … + p[c]</c>, where S is the sum of all p (in double, in index order); if rounding
    /// leaves no such index, the last class with p &gt; 0.
    /// </para>
    /// <para>A logit of −∞ has probability 0; NaN or +∞ is rejected. Allocates nothing.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">The lengths differ, the row is empty, the spans overlap at all (the
    /// probabilities serve as scratch for the top-k search), or a logit is NaN or +∞, or all are −∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not positive and finite,
    /// <paramref name="topK"/> is negative, or <paramref name="uniform"/> is not in [0, 1).</exception>
    public static int Sample(ReadOnlySpan<float> logits, Span<float> probabilities, double uniform, float temperature = 1f, int topK = 0)
    {
        CheckRow(logits, probabilities, sameIsSafe: false);
        CheckTemperature(temperature);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        if (!(uniform >= 0 && uniform < 1)) throw new ArgumentOutOfRangeException(nameof(uniform), uniform, "uniform must be in [0, 1).");
        for (int i = 0; i < logits.Length; i++)
        {
            if (float.IsNaN(logits[i]) || float.IsPositiveInfinity(logits[i]))
            {
                throw new ArgumentException($"logits[{i}] is {logits[i]}; sampling needs finite logits (or -Infinity for an excluded class).", nameof(logits));
            }
        }
        float max = Max(logits);
        if (float.IsNegativeInfinity(max)) throw new ArgumentException("logits: every logit is -Infinity; there is nothing to sample.", nameof(logits));

        float threshold = float.NegativeInfinity;
        if (topK > 0 && topK < logits.Length)
        {
            logits.CopyTo(probabilities);
            probabilities.Sort();
            threshold = probabilities[^topK];
        }
        double sum = 0;
        foreach (float logit in logits) sum += logit >= threshold ? Weight(logit, max, temperature) : 0;
        double total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            probabilities[i] = logits[i] >= threshold ? (float)(Weight(logits[i], max, temperature) / sum) : 0f;
            total += probabilities[i];
        }
        double target = uniform * total, cumulative = 0;
        int last = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            if (probabilities[i] == 0) continue;
            cumulative += probabilities[i];
            if (target < cumulative) return i;
            last = i;
        }
        return last;
    }

    /// <summary><c>exp((x − max)/T)</c> in double.</summary>
    private static double Weight(float logit, float max, float temperature) => Math.Exp(((double)logit - max) / temperature);

    private static float Max(ReadOnlySpan<float> values)
    {
        float max = float.NegativeInfinity;
        foreach (float value in values)
        {
            if (float.IsNaN(value)) return float.NaN;
            max = Math.Max(max, value);
        }
        return max;
    }

    private static void CheckRow(ReadOnlySpan<float> logits, Span<float> probabilities, bool sameIsSafe)
    {
        if (logits.IsEmpty) throw new ArgumentException("logits: expected at least one element.", nameof(logits));
        if (probabilities.Length != logits.Length)
        {
            throw new ArgumentException($"probabilities: expected {logits.Length} elements (one per logit), got {probabilities.Length}.", nameof(probabilities));
        }
        ArgumentChecks.NoOverlap(probabilities, nameof(probabilities), logits, nameof(logits), sameIsSafe);
    }

    private static void CheckTemperature(float temperature)
    {
        if (!(temperature > 0 && float.IsFinite(temperature)))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be positive and finite.");
        }
    }
}
