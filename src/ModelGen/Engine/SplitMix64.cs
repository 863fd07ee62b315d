namespace ModelGen;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator with a fixed, documented sequence for every seed, so
/// that initialisation is identical across runs, machines and .NET versions (unlike <see cref="Random"/>).
/// </summary>
public struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [low, high), from the top 24 bits (a float's precision).</summary>
    public float NextUniform(float low, float high) => low + (high - low) * ((Next() >> 40) * (1f / (1 << 24)));

    /// <summary>
    /// Standard normal (Box–Muller on two uniforms, computed in double), for PyTorch's <c>normal_</c>
    /// initialisations such as <c>nn.Embedding</c>'s; the values follow this generator's sequence, not PyTorch's.
    /// </summary>
    public float NextNormal()
    {
        double u1 = ((Next() >> 11) + 1) * (1.0 / (1UL << 53));   // (0, 1]: the logarithm stays finite
        double u2 = (Next() >> 11) * (1.0 / (1UL << 53));
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
