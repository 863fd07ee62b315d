using System.Text.RegularExpressions;
using ModelGen;

namespace TopicClassifier;

/// <summary>The 12 topic files of the fortune data, in alphabetical order: class c is <c>Topics.Names[c]</c>.</summary>
internal static class Topics
{
    public const int Count = 12;

    public static readonly string[] Names =
        ["art", "computers", "education", "food", "law", "love", "medicine", "politics", "science", "sports", "startrek", "work"];
}

/// <summary>One quotation and its topic.</summary>
internal sealed record Quote(int Topic, string Text);

internal static partial class Data
{
    /// <summary>Reads <c>topic\ttext</c> lines (after the header); stops on a topic that is not one of <see cref="Topics.Names"/>.</summary>
    public static Quote[] Load(string path)
    {
        var quotes = new List<Quote>();
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            if (line.Length == 0) continue;
            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            int topic = Array.IndexOf(Topics.Names, line[..tab]);
            if (topic < 0) throw new InvalidDataException($"Unknown topic '{line[..tab]}' in {path}; the model has {Topics.Count} fixed topics.");
            quotes.Add(new Quote(topic, line[(tab + 1)..]));
        }
        return [.. quotes];
    }

    /// <summary>Lower-case words: runs of letters and digits, with an inner apostrophe (<c>don't</c>, <c>o'clock</c>).</summary>
    public static string[] Words(string text) => [.. WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value)];

    [GeneratedRegex(@"[\p{L}\p{N}]+(?:'[\p{L}]+)?")]
    private static partial Regex WordPattern();

    /// <summary>
    /// A stratified split: within each topic, a seeded shuffle, then the first <paramref name="fraction"/> (rounded) go
    /// to the second part. Both parts keep the data's order.
    /// </summary>
    public static (int[] First, int[] Second) StratifiedSplit(IReadOnlyList<int> indices, Func<int, int> topicOf, double fraction, ulong seed)
    {
        var random = new SplitMix64(seed);
        var second = new HashSet<int>();
        foreach (IGrouping<int, int> topic in indices.GroupBy(topicOf).OrderBy(g => g.Key))
        {
            int[] members = [.. topic];
            for (int i = members.Length - 1; i > 0; i--)
            {
                int j = (int)(random.Next() % (ulong)(i + 1));
                (members[i], members[j]) = (members[j], members[i]);
            }
            second.UnionWith(members.Take((int)Math.Round(members.Length * fraction)));
        }
        return ([.. indices.Where(i => !second.Contains(i))], [.. indices.Where(second.Contains)]);
    }
}

/// <summary>
/// The word vocabulary. The sizes of a generated model are compile-time constants, so <see cref="Size"/> is fixed:
/// id 0 pads, id 1 stands for every word outside the vocabulary, and ids 2 .. Size − 1 are the
/// <c>Size − 2</c> most frequent words of the training quotes (ties in ordinal order).
/// </summary>
internal sealed class Vocabulary
{
    public const int Size = 6144, Padding = 0, Unknown = 1;

    private readonly Dictionary<string, int> _ids;

    private Vocabulary(Dictionary<string, int> ids, int distinctWords)
    {
        _ids = ids;
        DistinctWords = distinctWords;
    }

    /// <summary>Distinct words of the training quotes (the vocabulary keeps <c>Size − 2</c> of them).</summary>
    public int DistinctWords { get; }

    /// <summary>Builds the vocabulary from the training quotes; stops if they hold fewer than <c>Size − 2</c> distinct words.</summary>
    public static Vocabulary Build(IEnumerable<string[]> trainingWords)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string[] words in trainingWords)
        {
            foreach (string word in words) counts[word] = counts.GetValueOrDefault(word) + 1;
        }
        if (counts.Count < Size - 2)
        {
            throw new InvalidOperationException(
                $"The training quotes have {counts.Count} distinct words, fewer than the {Size - 2} the model's fixed vocabulary (Vocabulary.Size = {Size}) needs; lower Size.");
        }
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string word in counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(Size - 2).Select(p => p.Key))
        {
            ids[word] = ids.Count + 2;
        }
        return new Vocabulary(ids, counts.Count);
    }

    /// <summary>Token ids of <paramref name="words"/>; an empty quote becomes one unknown token.</summary>
    public int[] Encode(string[] words) => words.Length == 0 ? [Unknown] : [.. words.Select(w => _ids.GetValueOrDefault(w, Unknown))];
}
