namespace ModelGen;

/// <summary>The argument checks shared by <see cref="GreedyDecoder"/> and <see cref="BeamSearch"/>.</summary>
internal static class DecodingChecks
{
    public static void Positive(int value, string argumentName)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(argumentName, value, $"{argumentName} must be at least 1, got {value}.");
    }

    /// <summary><paramref name="a"/>·<paramref name="b"/>, or an exception naming both when it does not fit an array.</summary>
    public static int Product(int a, string aName, int b, string bName)
    {
        long product = (long)a * b;
        if (product > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(bName, b, $"{aName} · {bName} = {a} · {b} = {product} exceeds the largest array ({Array.MaxLength}).");
        }
        return (int)product;
    }

    public static void Token(int token, int vocabularySize, string argumentName)
    {
        if ((uint)token >= (uint)vocabularySize)
        {
            throw new ArgumentOutOfRangeException(argumentName, token, $"{argumentName} = {token} is outside the vocabulary [0, {vocabularySize}).");
        }
    }

    /// <summary>Throws unless <paramref name="actual"/> == <paramref name="expected"/>; the shape <c>[first, second]</c> (or <c>[first]</c> when second &lt; 0) is named <paramref name="shape"/>.</summary>
    public static void Length(int actual, int expected, string argumentName, string shape, int first, int second = -1)
    {
        if (actual != expected) ThrowLength(actual, expected, argumentName, shape, first, second);
    }

    private static void ThrowLength(int actual, int expected, string argumentName, string shape, int first, int second)
    {
        string sizes = second < 0 ? $"[{first}]" : $"[{first}, {second}]";
        throw new ArgumentException($"{argumentName}: expected length {expected} ({shape} = {sizes}), got {actual}.", argumentName);
    }

    public static void Vocabulary(IStepDecoder decoder, int vocabularySize, string argumentName)
    {
        ArgumentNullException.ThrowIfNull(decoder, argumentName);
        if (decoder.TargetVocabularySize != vocabularySize)
        {
            throw new ArgumentException(
                $"{argumentName}: expected TargetVocabularySize {vocabularySize} (the decoding's vocabulary), got {decoder.TargetVocabularySize}.", argumentName);
        }
    }

    /// <summary>The log of Σ exp(<paramref name="logits"/>), max-subtracted, in double.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float x in logits) if (x > max) max = x;
        if (float.IsNegativeInfinity(max)) return double.NegativeInfinity;
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp((double)x - max);
        return max + Math.Log(sum);
    }
}
