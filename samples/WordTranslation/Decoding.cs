using ModelGen;

namespace WordTranslation;

/// <summary>Words through the trained model: greedy decoding in batches, beam search, and one attention matrix.</summary>
internal static class Decoding
{
    /// <summary>The longest German word the decoder may write (the data's longest is 14, plus room for a mistake).</summary>
    public const int MaxLength = Alphabets.MaxGermanLength + 4;

    private const int Batch = 256;

    /// <summary>Each English word of <paramref name="pairs"/> translated greedily, in batches of <see cref="Batch"/> words.</summary>
    public static string[] Greedy(Translator model, IReadOnlyList<WordPair> pairs)
    {
        var decoder = new GreedyDecoder(Batch, Translator.TargetVocabularySize, MaxLength);
        var tokens = new int[Batch * MaxLength];
        var lengths = new int[Batch];
        var words = new string[pairs.Count];
        for (int first = 0; first < pairs.Count; first += Batch)
        {
            int count = Math.Min(Batch, pairs.Count - first);
            Batch batch = Data.MakeBatch(pairs, [.. Enumerable.Range(first, count)]);
            model.BeginDecoding(batch.Source, count, batch.SourceLengths);
            decoder.Decode(model, CharVocabulary.Bos, CharVocabulary.Eos, MaxLength, tokens.AsSpan(0, count * MaxLength), lengths.AsSpan(0, count));
            for (int r = 0; r < count; r++) words[first + r] = CharVocabulary.Target.Decode(tokens.AsSpan(r * MaxLength, lengths[r]));
        }
        return words;
    }

    /// <summary>Each English word translated by a beam search of <paramref name="width"/> hypotheses.</summary>
    public static string[] Beam(Translator model, IReadOnlyList<WordPair> pairs, int width)
    {
        var search = new BeamSearch(width, Translator.TargetVocabularySize, MaxLength);
        var tokens = new int[MaxLength];
        var words = new string[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            Batch batch = Data.MakeBatch(pairs, [i]);
            model.BeginDecoding(batch.Source, 1, batch.SourceLengths, rowsPerSource: width);
            BeamHypothesis best = search.Decode(model, CharVocabulary.Bos, CharVocabulary.Eos, tokens);
            words[i] = CharVocabulary.Target.Decode(tokens.AsSpan(0, best.Length));
        }
        return words;
    }

    /// <summary>
    /// The attention weights <c>[German letters + end, English letters]</c> of the model reading
    /// <paramref name="german"/> after <paramref name="english"/> (teacher-forced on its own output).
    /// </summary>
    public static float[,] Attention(Translator model, string english, string german)
    {
        Batch batch = Data.MakeBatch([new WordPair(english, german)]);
        var logits = new float[batch.TargetSteps * Translator.TargetVocabularySize];
        var attention = new float[batch.TargetSteps * batch.SourceSteps];
        model.Forward(batch.Source, batch.TargetIn, 1, logits, batch.SourceLengths, batch.TargetLengths, attention);
        var weights = new float[batch.TargetSteps, batch.SourceSteps];
        for (int t = 0; t < batch.TargetSteps; t++)
        {
            for (int s = 0; s < batch.SourceSteps; s++) weights[t, s] = attention[t * batch.SourceSteps + s];
        }
        return weights;
    }
}
