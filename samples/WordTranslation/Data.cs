using System.Text;
using ModelGen;

namespace WordTranslation;

/// <summary>One dictionary entry: an English word and its (first) German translation.</summary>
internal sealed record WordPair(string English, string German);

/// <summary>
/// The rule every shipped pair follows, the one <c>data/eng-deu-words.tsv</c> was cut from the full FreeDict list
/// with (see <c>data/LICENSE</c>); <see cref="Data.Load"/> checks it on every row.
/// </summary>
internal static class Alphabets
{
    /// <summary>The characters of the English words: lower-case a–z.</summary>
    public const string English = "abcdefghijklmnopqrstuvwxyz";

    /// <summary>The characters of the German words: a–z, A–Z (nouns are capitalised), äöüß and ÄÖÜ.</summary>
    public const string German = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöüßÄÖÜ";

    public const int MinEnglishLength = 2, MaxEnglishLength = 12;
    public const int MinGermanLength = 2, MaxGermanLength = 14;

    /// <summary>Whether a pair passes the subset rule: lengths within the bounds, every character in its alphabet.</summary>
    public static bool Keep(string english, string german) =>
        english.Length is >= MinEnglishLength and <= MaxEnglishLength &&
        german.Length is >= MinGermanLength and <= MaxGermanLength &&
        !english.AsSpan().ContainsAnyExcept(English) &&
        !german.AsSpan().ContainsAnyExcept(German);
}

/// <summary>
/// A character vocabulary. The sizes of a generated model are compile-time constants, so the two vocabularies are
/// fixed: id 0 pads, 1 is BOS (begin of sequence), 2 is EOS (end of sequence), and ids 3 .. Size − 1 are the
/// characters of the alphabet in its order.
/// </summary>
internal sealed class CharVocabulary
{
    public const int Padding = 0, Bos = 1, Eos = 2, Reserved = 3;

    /// <summary>Ids of the source (English) vocabulary: 3 + 26.</summary>
    public const int SourceSize = Reserved + 26;

    /// <summary>Ids of the target (German) vocabulary: 3 + 59.</summary>
    public const int TargetSize = Reserved + 59;

    public static readonly CharVocabulary Source = new(Alphabets.English, SourceSize);
    public static readonly CharVocabulary Target = new(Alphabets.German, TargetSize);

    private readonly int[] _ids = new int[char.MaxValue + 1];

    private CharVocabulary(string characters, int size)
    {
        if (Reserved + characters.Length != size)
        {
            throw new InvalidOperationException($"The vocabulary of \"{characters}\" has {Reserved + characters.Length} ids, not {size}.");
        }
        Characters = characters;
        Array.Fill(_ids, -1);
        for (int i = 0; i < characters.Length; i++) _ids[characters[i]] = Reserved + i;
    }

    /// <summary>The characters; character i has id <c>Reserved + i</c>.</summary>
    public string Characters { get; }

    /// <summary>Ids in all: <c>Reserved + Characters.Length</c>.</summary>
    public int Size => Reserved + Characters.Length;

    /// <summary>The id of a character; throws for one outside the alphabet.</summary>
    public int Id(char c) => _ids[c] >= 0 ? _ids[c] : throw new ArgumentOutOfRangeException(nameof(c), c, $"'{c}' (U+{(int)c:X4}) is not in \"{Characters}\".");

    /// <summary>The character of an id ≥ <see cref="Reserved"/>.</summary>
    public char Character(int id) => Characters[id - Reserved];

    /// <summary>The ids of a word's characters (no BOS or EOS).</summary>
    public int[] Encode(string word)
    {
        var ids = new int[word.Length];
        for (int i = 0; i < word.Length; i++) ids[i] = Id(word[i]);
        return ids;
    }

    /// <summary>The word of a sequence of ids: stops at the first EOS, skips padding and BOS.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var word = new StringBuilder(ids.Length);
        foreach (int id in ids)
        {
            if (id == Eos) break;
            if (id >= Reserved) word.Append(Character(id));
        }
        return word.ToString();
    }
}

/// <summary>
/// A batch of pairs, row-major and padded to the batch's longest word (PyTorch's <c>batch_first=True</c>):
/// <c>Source [B, Ts]</c> English ids padded with 0, <c>SourceLengths [B]</c>; <c>TargetIn [B, Tt]</c> = BOS + German ids
/// padded with 0, <c>TargetOut [B, Tt]</c> = German ids + EOS padded with −100 (PyTorch's <c>ignore_index</c>),
/// <c>TargetLengths [B]</c> = German length + 1. <see cref="Indices"/> says which pair of the list each row holds.
/// </summary>
internal sealed record Batch(
    int Size, int SourceSteps, int TargetSteps,
    int[] Source, int[] SourceLengths, int[] TargetIn, int[] TargetOut, int[] TargetLengths,
    int[] Indices);

internal static class Data
{
    /// <summary>The target ignored by the cross-entropy (PyTorch's default <c>ignore_index</c>).</summary>
    public const int IgnoreIndex = -100;

    /// <summary>
    /// Reads <c>english\tgerman</c> lines after the header; stops on a row that breaks <see cref="Alphabets.Keep"/>
    /// or repeats an English word.
    /// </summary>
    public static WordPair[] Load(string path)
    {
        var pairs = new List<WordPair>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int number = 1;
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            number++;
            if (line.Length == 0) continue;
            string[] fields = line.Split('\t');
            if (fields.Length != 2 || !Alphabets.Keep(fields[0], fields[1]) || !seen.Add(fields[0]))
            {
                throw new InvalidDataException($"{path}:{number}: \"{line}\" is not an English word of a–z and a German word of the German alphabet within the length bounds, or repeats an English word.");
            }
            pairs.Add(new WordPair(fields[0], fields[1]));
        }
        return [.. pairs];
    }

    /// <summary>64-bit FNV-1a of the UTF-8 bytes of a word: the hash the subset and the split are chosen by.</summary>
    public static ulong Fnv1a(string word)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(word))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    /// <summary>
    /// The split by a hash of the English word, stable whatever else the file holds: FNV-1a mod 20 = 0 is test (5%),
    /// = 1 validation (5%), the rest trains (90%). Each part keeps the file's (alphabetical) order.
    /// </summary>
    public static (WordPair[] Train, WordPair[] Validation, WordPair[] Test) Split(IReadOnlyList<WordPair> pairs)
    {
        List<WordPair> train = [], validation = [], test = [];
        foreach (WordPair pair in pairs)
        {
            ((Fnv1a(pair.English) % 20) switch { 0 => test, 1 => validation, _ => train }).Add(pair);
        }
        return ([.. train], [.. validation], [.. test]);
    }

    /// <summary>The batch of <paramref name="pairs"/>[<paramref name="indices"/>] (all of them when null), in that order.</summary>
    public static Batch MakeBatch(IReadOnlyList<WordPair> pairs, IReadOnlyList<int>? indices = null)
    {
        int[] rows = indices is null ? [.. Enumerable.Range(0, pairs.Count)] : [.. indices];
        int b = rows.Length;
        int ts = 0, tt = 0;
        foreach (int i in rows)
        {
            ts = Math.Max(ts, pairs[i].English.Length);
            tt = Math.Max(tt, pairs[i].German.Length + 1);
        }
        var source = new int[b * ts];
        var sourceLengths = new int[b];
        var targetIn = new int[b * tt];
        var targetOut = new int[b * tt];
        var targetLengths = new int[b];
        Array.Fill(targetOut, IgnoreIndex);
        for (int r = 0; r < b; r++)
        {
            WordPair pair = pairs[rows[r]];
            for (int t = 0; t < pair.English.Length; t++) source[r * ts + t] = CharVocabulary.Source.Id(pair.English[t]);
            sourceLengths[r] = pair.English.Length;
            targetIn[r * tt] = CharVocabulary.Bos;
            for (int t = 0; t < pair.German.Length; t++)
            {
                int id = CharVocabulary.Target.Id(pair.German[t]);
                targetIn[r * tt + t + 1] = id;
                targetOut[r * tt + t] = id;
            }
            targetOut[r * tt + pair.German.Length] = CharVocabulary.Eos;
            targetLengths[r] = pair.German.Length + 1;
        }
        return new Batch(b, ts, tt, source, sourceLengths, targetIn, targetOut, targetLengths, rows);
    }
}
