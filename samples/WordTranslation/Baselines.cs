namespace WordTranslation;

/// <summary>What a translation model has to beat.</summary>
internal static class Baselines
{
    /// <summary>Baseline 1: the English word itself as the German output, unchanged.</summary>
    public static string[] Copy(IReadOnlyList<WordPair> pairs) => [.. pairs.Select(p => p.English)];
}

/// <summary>
/// Baseline 2: the German translation of the training English word nearest to the input by Levenshtein distance;
/// of equally near ones the first in training order. Exact: every training word is considered, but a word whose
/// length differs from the input's by at least the best distance so far cannot be nearer and is skipped, and the
/// others are measured with that distance minus one as a limit (a banded, early-stopping edit distance).
/// </summary>
internal sealed class NearestNeighbour(IReadOnlyList<WordPair> train)
{
    private readonly string[] _english = [.. train.Select(p => p.English)];
    private readonly string[] _german = [.. train.Select(p => p.German)];

    /// <summary>The index (in training order) of the nearest training word and its distance.</summary>
    public (int Index, int Distance) Nearest(string english)
    {
        int best = int.MaxValue, index = -1;
        for (int i = 0; i < _english.Length; i++)
        {
            string candidate = _english[i];
            if (Math.Abs(candidate.Length - english.Length) >= best) continue;
            int distance = EditDistance.Levenshtein(english, candidate, best == int.MaxValue ? int.MaxValue : best - 1);
            if (distance < best)
            {
                best = distance;
                index = i;
                if (best == 0) break;
            }
        }
        return (index, best);
    }

    /// <summary>The German word of the nearest training word.</summary>
    public string Translate(string english) => _german[Nearest(english).Index];

    /// <summary><see cref="Nearest"/> for many words, in parallel (the answers do not depend on the threads).</summary>
    public (int Index, int Distance)[] NearestAll(IReadOnlyList<string> words)
    {
        var result = new (int, int)[words.Count];
        Parallel.For(0, words.Count, i => result[i] = Nearest(words[i]));
        return result;
    }

    /// <summary>The training English word at an index.</summary>
    public string English(int index) => _english[index];

    /// <summary>The training German word at an index.</summary>
    public string German(int index) => _german[index];
}
