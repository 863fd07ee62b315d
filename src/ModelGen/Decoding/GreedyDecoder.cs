namespace ModelGen;

/// <summary>
/// Batched greedy decoding on an <see cref="IStepDecoder"/>: every row is fed the start token, then at each step
/// its most likely next token (the argmax of its logits, the lowest index on ties), until it emits the end token or
/// reaches the maximum length. The rows finish independently; the buffers are allocated once, by the constructor,
/// so <see cref="Decode"/> allocates nothing.
/// </summary>
/// <remarks>An instance is not thread-safe: it holds the scratch buffers of one decoding at a time.</remarks>
public sealed class GreedyDecoder
{
    private readonly int[] _feed;
    private readonly float[] _logits;
    private readonly bool[] _finished;

    /// <summary>Creates a greedy decoder for up to <paramref name="maxRows"/> rows.</summary>
    /// <param name="maxRows">The largest <see cref="IStepDecoder.Rows"/> a decoder may have (≥ 1).</param>
    /// <param name="vocabularySize">The decoders' <see cref="IStepDecoder.TargetVocabularySize"/> (≥ 1).</param>
    /// <param name="maxLength">The largest <c>maxLength</c> of <see cref="Decode"/> (≥ 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1, or rows · vocabulary beyond an array.</exception>
    public GreedyDecoder(int maxRows, int vocabularySize, int maxLength)
    {
        DecodingChecks.Positive(maxRows, nameof(maxRows));
        DecodingChecks.Positive(vocabularySize, nameof(vocabularySize));
        DecodingChecks.Positive(maxLength, nameof(maxLength));
        DecodingChecks.Product(maxRows, nameof(maxRows), maxLength, nameof(maxLength));
        MaxRows = maxRows;
        VocabularySize = vocabularySize;
        MaxLength = maxLength;
        _feed = new int[maxRows];
        _logits = new float[DecodingChecks.Product(maxRows, nameof(maxRows), vocabularySize, nameof(vocabularySize))];
        _finished = new bool[maxRows];
    }

    /// <summary>The largest number of rows a decoder may have.</summary>
    public int MaxRows { get; }

    /// <summary>The target vocabulary size every decoder must have.</summary>
    public int VocabularySize { get; }

    /// <summary>The largest <c>maxLength</c> <see cref="Decode"/> accepts.</summary>
    public int MaxLength { get; }

    /// <summary>
    /// Decodes every row of <paramref name="decoder"/> greedily. Step 0 feeds <paramref name="startToken"/> to every
    /// row; each step takes the argmax of a row's logits (the lowest index on ties; NaN logits are never chosen over a
    /// number). A row that emits <paramref name="endToken"/> has finished: the end token is not stored, and
    /// <c>lengths[r]</c> is the number of tokens before it. A row that never emits it stops after
    /// <paramref name="maxLength"/> tokens. Finished rows are fed <paramref name="endToken"/> while other rows go on
    /// (the batch steps together) but their output no longer changes; decoding stops as soon as every row has finished,
    /// so the decoder is stepped at most <paramref name="maxLength"/> times.
    /// </summary>
    /// <param name="decoder">The decoder, its rows already set up (its <c>BeginDecoding</c> has run).</param>
    /// <param name="startToken">The token fed to every row at step 0.</param>
    /// <param name="endToken">The token that finishes a row.</param>
    /// <param name="maxLength">The most tokens a row produces, in <c>[0, MaxLength]</c>.</param>
    /// <param name="tokens">
    /// The output <c>[Rows, maxLength]</c>: row r's tokens at <c>tokens[r·maxLength ..][..lengths[r]]</c>; the
    /// positions after them are filled with <paramref name="endToken"/> as padding.
    /// </param>
    /// <param name="lengths">The output <c>[Rows]</c>: the number of tokens of each row.</param>
    /// <exception cref="ArgumentException">
    /// The decoder's vocabulary is not <see cref="VocabularySize"/> or its rows exceed <see cref="MaxRows"/>, or a span
    /// has the wrong length.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A token outside the vocabulary, or <paramref name="maxLength"/> outside [0, MaxLength].</exception>
    public void Decode(IStepDecoder decoder, int startToken, int endToken, int maxLength, Span<int> tokens, Span<int> lengths)
    {
        DecodingChecks.Vocabulary(decoder, VocabularySize, nameof(decoder));
        int rows = decoder.Rows;
        if (rows < 0 || rows > MaxRows)
        {
            throw new ArgumentException($"{nameof(decoder)}: expected Rows in [0, {MaxRows}] (the decoder's capacity), got {rows}.", nameof(decoder));
        }
        int v = VocabularySize;
        DecodingChecks.Token(startToken, v, nameof(startToken));
        DecodingChecks.Token(endToken, v, nameof(endToken));
        if (maxLength < 0 || maxLength > MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"{nameof(maxLength)} = {maxLength} is outside [0, {MaxLength}].");
        }
        DecodingChecks.Length(tokens.Length, rows * maxLength, nameof(tokens), "[Rows, maxLength]", rows, maxLength);
        DecodingChecks.Length(lengths.Length, rows, nameof(lengths), "[Rows]", rows);

        tokens.Fill(endToken);
        lengths.Clear();
        Span<int> feed = _feed.AsSpan(0, rows);
        Span<float> logits = _logits.AsSpan(0, rows * v);
        Span<bool> finished = _finished.AsSpan(0, rows);
        feed.Fill(startToken);
        finished.Clear();
        int alive = rows;
        for (int t = 0; t < maxLength && alive > 0; t++)
        {
            decoder.Step(feed, logits);
            for (int r = 0; r < rows; r++)
            {
                if (finished[r]) continue;
                int best = ArgMax(logits.Slice(r * v, v));
                feed[r] = best;
                if (best == endToken)
                {
                    finished[r] = true;
                    alive--;
                }
                else
                {
                    tokens[r * maxLength + t] = best;
                    lengths[r] = t + 1;
                }
            }
        }
    }

    /// <summary>The index of the largest value, the lowest one on ties.</summary>
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        float max = values[0];
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > max || float.IsNaN(max))
            {
                max = values[i];
                best = i;
            }
        }
        return best;
    }
}
