namespace ModelGen;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator with a fixed, documented sequence for every seed, so
/// that initialisation is identical across runs, machines and .NET versions (unlike <see cref="Random"/>).
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [low, high), from the top 24 bits (a float's precision).</summary>
    public float NextUniform(float low, float high) => low + (high - low) * ((Next() >> 40) * (1f / (1 << 24)));
}
