using System.ComponentModel;

namespace ModelGen;

/// <summary>
/// The argument checks of generated graph models: each throws an exception that names the argument and the
/// expected against the actual shape, before any memory is touched.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GraphChecks
{
    /// <summary>
    /// T of an input of <paramref name="length"/> elements holding <paramref name="batchSize"/> sequences of
    /// <paramref name="features"/> elements per step (1 for token ids).
    /// </summary>
    public static int Steps(int length, int batchSize, int features, string argument, string notation)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        long perStep = (long)batchSize * features;
        if (length == 0 || length % perStep != 0)
        {
            throw new ArgumentException(
                $"{argument}: expected shape {notation} = [{batchSize}, T{(features > 1 || notation.Count(c => c == ',') == 2 ? ", " + features : "")}] with T >= 1, a multiple of {perStep} elements, got {length}.",
                argument);
        }
        return (int)(length / perStep);
    }

    /// <summary>Throws unless <paramref name="actual"/> is <paramref name="expected"/>, the length of <paramref name="shape"/>.</summary>
    public static void Length(int actual, long expected, string argument, string notation, string shape)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{argument}: expected shape {notation} = {shape} ({expected} elements), got {actual}.", argument);
        }
    }

    /// <summary>Throws when a span the call writes overlaps one it reads.</summary>
    public static void NoOverlap(ReadOnlySpan<float> written, string writtenName, ReadOnlySpan<float> read, string readName) =>
        ArgumentChecks.NoOverlap(written, writtenName, read, readName);

    /// <summary>Every value uniform in ±<paramref name="bound"/>, in order (PyTorch's default for recurrent and linear modules).</summary>
    public static void InitializeUniform(Span<float> values, float bound, ref SplitMix64 random)
    {
        foreach (ref float value in values) value = random.NextUniform(-bound, bound);
    }
}
