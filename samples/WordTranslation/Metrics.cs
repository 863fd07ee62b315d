namespace WordTranslation;

/// <summary>The Levenshtein distance that the nearest-neighbour baseline and the character error rate share.</summary>
internal static class EditDistance
{
    /// <summary>
    /// The Levenshtein distance (insertions, deletions and substitutions of one character, each costing 1; ordinal,
    /// so case-sensitive) when it is at most <paramref name="limit"/>, else <c>limit + 1</c>. With a limit only the
    /// band |i − j| ≤ limit of the table is computed, and the computation stops at the first row whose cells all
    /// exceed the limit: O(limit · length) instead of O(length²).
    /// </summary>
    public static int Levenshtein(ReadOnlySpan<char> a, ReadOnlySpan<char> b, int limit = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (a.Length < b.Length)
        {
            ReadOnlySpan<char> swap = a;
            a = b;
            b = swap;
        }
        int n = a.Length, m = b.Length;   // n ≥ m: the rows run over a, the columns over b
        limit = Math.Min(limit, n);       // the distance is at most n
        int over = limit + 1;
        if (n - m > limit) return over;
        if (m == 0) return n;

        Span<int> buffer = m < 128 ? stackalloc int[2 * (m + 1)] : new int[2 * (m + 1)];
        Span<int> previous = buffer[..(m + 1)], current = buffer[(m + 1)..];
        for (int j = 0; j <= m; j++) previous[j] = j <= limit ? j : over;
        for (int i = 1; i <= n; i++)
        {
            int low = Math.Max(1, i - limit), high = Math.Min(m, i + limit);
            current[low - 1] = low == 1 && i <= limit ? i : over;   // the cell left of the band
            int rowMinimum = current[low - 1];
            char ai = a[i - 1];
            for (int j = low; j <= high; j++)
            {
                int value = previous[j - 1] + (ai == b[j - 1] ? 0 : 1);
                value = Math.Min(value, previous[j] + 1);
                value = Math.Min(value, current[j - 1] + 1);
                value = Math.Min(value, over);
                current[j] = value;
                rowMinimum = Math.Min(rowMinimum, value);
            }
            if (high < m) current[high + 1] = over;   // the cell right of the band, which the next row reads
            if (rowMinimum > limit) return over;
            Span<int> swap = previous;
            previous = current;
            current = swap;
        }
        return Math.Min(previous[m], over);
    }
}

/// <summary>Scores of predicted words against their references.</summary>
/// <param name="Count">Words scored.</param>
/// <param name="ExactMatches">Predictions equal to their reference (ordinal: case-sensitive).</param>
/// <param name="Edits">Total Levenshtein distance from the predictions to the references.</param>
/// <param name="ReferenceCharacters">Total characters of the references.</param>
internal readonly record struct TranslationScore(int Count, int ExactMatches, long Edits, long ReferenceCharacters)
{
    /// <summary>The fraction of words predicted exactly.</summary>
    public double ExactMatch => (double)ExactMatches / Count;

    /// <summary>Character error rate: total edit distance / total reference characters (can exceed 1).</summary>
    public double CharacterErrorRate => (double)Edits / ReferenceCharacters;
}

internal static class TranslationMetrics
{
    /// <summary>Exact-match accuracy and character error rate of <paramref name="predictions"/>[i] against <paramref name="references"/>[i].</summary>
    public static TranslationScore Score(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        if (predictions.Count != references.Count)
        {
            throw new ArgumentException($"{predictions.Count} predictions for {references.Count} references.", nameof(predictions));
        }
        int exact = 0;
        long edits = 0, characters = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            if (string.Equals(predictions[i], references[i], StringComparison.Ordinal)) exact++;
            edits += EditDistance.Levenshtein(predictions[i], references[i]);
            characters += references[i].Length;
        }
        return new TranslationScore(predictions.Count, exact, edits, characters);
    }
}
