namespace ModelGen;

/// <summary>
/// Beam search for one source on an <see cref="IStepDecoder"/> whose <see cref="IStepDecoder.Rows"/> are the k beam
/// rows of that source (one group of rows: the model replicated the source's state k times).
/// </summary>
/// <remarks>
/// <para>
/// Scores are log-probabilities: a row's logits go through a max-subtracted log-softmax computed in double, and a
/// hypothesis' raw score is the sum of its tokens' log-probabilities, also in double. A row whose logits hold NaN, or
/// are all −∞, gives −∞ to every token.
/// </para>
/// <para>
/// Step t extends each alive hypothesis (at step 0 only row 0, since all rows are identical and the beam must not
/// hold k copies of one hypothesis) by every token and ranks the candidates by raw score, ties broken by the lower
/// token id, then the lower parent row. Walking the ranking from the top: an end-token candidate among the first k
/// finishes its hypothesis (scored <c>raw / (t + 1)^α</c>: t tokens plus the end token), and the first k candidates
/// that are not the end token become the next alive hypotheses (so the beam stays k wide; with k = 1 this is exactly
/// greedy decoding). The decoder's rows are then reordered to the parents with <see cref="IStepDecoder.SelectRows"/>
/// and fed the new tokens. After step <c>MaxLength − 1</c> the alive hypotheses finish as they are (not ended,
/// scored <c>raw / MaxLength^α</c>). The k best finished hypotheses are kept (ties: the one found first).
/// </para>
/// <para>
/// Stopping: once k hypotheses have finished, the search stops when the best alive raw score s satisfies
/// <c>s / MaxLength^α ≤</c> the k-th best finished score. This is exact: log-probabilities are ≤ 0, so a descendant's
/// raw score s′ ≤ s ≤ 0, and its normalised length n ≤ MaxLength, so its score s′/n^α ≤ s/n^α ≤ s/MaxLength^α (for
/// α = 0 simply s′ ≤ s); no descendant can then enter the k best, and stopping gives the same n-best as running to
/// the maximum length. It also stops when no hypothesis is alive.
/// </para>
/// <para>The buffers are allocated once, by the constructor: decoding allocates nothing. An instance is not thread-safe.</para>
/// </remarks>
public sealed class BeamSearch
{
    private readonly int _k, _v, _maxLength;
    private readonly double _alpha, _maxLengthPower;
    private readonly int[] _feed, _parents;
    private readonly float[] _logits;
    private int[] _aliveTokens, _nextTokens;
    private double[] _aliveScores, _nextScores;
    private readonly double[] _candidateScores;
    private readonly int[] _candidateRows, _candidateTokens;
    private readonly int[] _finishedTokens, _finishedLengths;
    private readonly double[] _finishedScores, _finishedRaw;
    private readonly bool[] _finishedEnded;
    private int _finishedCount;

    /// <summary>Creates a beam search with the given settings for decoders of <paramref name="vocabularySize"/> tokens.</summary>
    /// <param name="options">The beam width, maximum length and length normalisation.</param>
    /// <param name="vocabularySize">The decoders' <see cref="IStepDecoder.TargetVocabularySize"/> (≥ 1).</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabularySize"/> below 1, or buffers beyond an array.</exception>
    public BeamSearch(BeamSearchOptions options, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(options);
        DecodingChecks.Positive(vocabularySize, nameof(vocabularySize));
        Options = options;
        _k = options.BeamWidth;
        _v = vocabularySize;
        _maxLength = options.MaxLength;
        _alpha = options.LengthNormalization;
        _maxLengthPower = Math.Pow(_maxLength, _alpha);
        int k = _k, kl = _k * _maxLength;
        _logits = new float[DecodingChecks.Product(k, "beamWidth", vocabularySize, nameof(vocabularySize))];
        DecodingChecks.Product(2, "2", k, "beamWidth"); // the candidate buffers
        _feed = new int[k];
        _parents = new int[k];
        _aliveTokens = new int[kl];
        _nextTokens = new int[kl];
        _aliveScores = new double[k];
        _nextScores = new double[k];
        _candidateScores = new double[2 * k];
        _candidateRows = new int[2 * k];
        _candidateTokens = new int[2 * k];
        _finishedTokens = new int[kl];
        _finishedLengths = new int[k];
        _finishedScores = new double[k];
        _finishedRaw = new double[k];
        _finishedEnded = new bool[k];
    }

    /// <summary>Creates a beam search; see <see cref="BeamSearchOptions"/> for the settings.</summary>
    /// <param name="beamWidth">The number of hypotheses kept, k (≥ 1).</param>
    /// <param name="vocabularySize">The decoders' target vocabulary size (≥ 1).</param>
    /// <param name="maxLength">The most tokens a hypothesis holds, not counting the end token (≥ 1).</param>
    /// <param name="lengthNormalization">The length normalisation exponent α ≥ 0; 0 is off.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value outside its range.</exception>
    public BeamSearch(int beamWidth, int vocabularySize, int maxLength, double lengthNormalization = 0)
        : this(new BeamSearchOptions(beamWidth, maxLength, lengthNormalization), vocabularySize)
    {
    }

    /// <summary>The settings.</summary>
    public BeamSearchOptions Options { get; }

    /// <summary>The beam width k: the decoder's rows, and the most hypotheses <see cref="DecodeNBest"/> returns.</summary>
    public int BeamWidth => _k;

    /// <summary>The target vocabulary size every decoder must have.</summary>
    public int VocabularySize => _v;

    /// <summary>The most tokens a hypothesis holds, not counting the end token.</summary>
    public int MaxLength => _maxLength;

    /// <summary>
    /// Runs the search and returns the best hypothesis; its tokens go to <paramref name="tokens"/>.
    /// </summary>
    /// <param name="decoder">
    /// The decoder of one source, <see cref="IStepDecoder.Rows"/> == <see cref="BeamWidth"/> identical rows (its
    /// <c>BeginDecoding</c> has run).
    /// </param>
    /// <param name="startToken">The token fed at step 0.</param>
    /// <param name="endToken">The token that finishes a hypothesis (not stored in <paramref name="tokens"/>).</param>
    /// <param name="tokens">
    /// The output <c>[MaxLength]</c>: the best hypothesis' tokens in <c>tokens[..Length]</c>, the rest filled with
    /// <paramref name="endToken"/> as padding.
    /// </param>
    /// <returns>The best hypothesis' length and scores.</returns>
    /// <exception cref="ArgumentException">The decoder's rows or vocabulary, or the span's length, are wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token outside the vocabulary.</exception>
    public BeamHypothesis Decode(IStepDecoder decoder, int startToken, int endToken, Span<int> tokens)
    {
        Check(decoder, startToken, endToken);
        DecodingChecks.Length(tokens.Length, _maxLength, nameof(tokens), "[MaxLength]", _maxLength);
        Search(decoder, startToken, endToken);
        return Write(0, endToken, tokens);
    }

    /// <summary>
    /// Runs the search and writes the n best hypotheses (n ≤ k; n &lt; k only when fewer hypotheses exist), best first.
    /// </summary>
    /// <param name="decoder">
    /// The decoder of one source, <see cref="IStepDecoder.Rows"/> == <see cref="BeamWidth"/> identical rows.
    /// </param>
    /// <param name="startToken">The token fed at step 0.</param>
    /// <param name="endToken">The token that finishes a hypothesis (not stored in <paramref name="tokens"/>).</param>
    /// <param name="tokens">
    /// The output <c>[BeamWidth, MaxLength]</c>: hypothesis i's tokens in <c>tokens[i·MaxLength ..][..Length]</c>,
    /// every other position filled with <paramref name="endToken"/>.
    /// </param>
    /// <param name="hypotheses">The output <c>[BeamWidth]</c>: the first n entries describe the hypotheses, the rest are default.</param>
    /// <returns>n, the number of hypotheses written.</returns>
    /// <exception cref="ArgumentException">The decoder's rows or vocabulary, or a span's length, are wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token outside the vocabulary.</exception>
    public int DecodeNBest(IStepDecoder decoder, int startToken, int endToken, Span<int> tokens, Span<BeamHypothesis> hypotheses)
    {
        Check(decoder, startToken, endToken);
        DecodingChecks.Length(tokens.Length, _k * _maxLength, nameof(tokens), "[BeamWidth, MaxLength]", _k, _maxLength);
        DecodingChecks.Length(hypotheses.Length, _k, nameof(hypotheses), "[BeamWidth]", _k);
        Search(decoder, startToken, endToken);
        for (int i = 0; i < _k; i++)
        {
            Span<int> row = tokens.Slice(i * _maxLength, _maxLength);
            if (i < _finishedCount)
            {
                hypotheses[i] = Write(i, endToken, row);
            }
            else
            {
                hypotheses[i] = default;
                row.Fill(endToken);
            }
        }
        return _finishedCount;
    }

    private void Check(IStepDecoder decoder, int startToken, int endToken)
    {
        DecodingChecks.Vocabulary(decoder, _v, nameof(decoder));
        if (decoder.Rows != _k)
        {
            throw new ArgumentException(
                $"{nameof(decoder)}: expected Rows {_k} (the beam width: one source replicated k times), got {decoder.Rows}.", nameof(decoder));
        }
        DecodingChecks.Token(startToken, _v, nameof(startToken));
        DecodingChecks.Token(endToken, _v, nameof(endToken));
    }

    private BeamHypothesis Write(int finished, int endToken, Span<int> tokens)
    {
        int length = _finishedLengths[finished];
        _finishedTokens.AsSpan(finished * _maxLength, length).CopyTo(tokens);
        tokens[length..].Fill(endToken);
        return new BeamHypothesis(length, _finishedScores[finished], _finishedRaw[finished], _finishedEnded[finished]);
    }

    /// <summary>The search itself; leaves the k best finished hypotheses, best first, in the finished buffers.</summary>
    private void Search(IStepDecoder decoder, int startToken, int endToken)
    {
        int k = _k, v = _v, maxLength = _maxLength, capacity = 2 * k;
        Span<int> feed = _feed;
        Span<float> logits = _logits;
        _finishedCount = 0;
        int alive = 1; // step 0 expands row 0 only
        _aliveScores[0] = 0;
        feed.Fill(startToken);
        for (int t = 0; t < maxLength; t++)
        {
            decoder.Step(feed, logits);

            // The 2k best candidates (at most k of them end tokens, one per parent, so k others remain).
            int count = 0;
            for (int r = 0; r < alive; r++)
            {
                ReadOnlySpan<float> row = logits.Slice(r * v, v);
                double logSumExp = DecodingChecks.LogSumExp(row), parentScore = _aliveScores[r];
                for (int token = 0; token < v; token++)
                {
                    double score = parentScore + ((double)row[token] - logSumExp);
                    if (double.IsNaN(score)) score = double.NegativeInfinity;
                    if (count == capacity && !Better(score, token, r, count - 1)) continue;
                    int p = count < capacity ? count++ : capacity - 1;
                    while (p > 0 && Better(score, token, r, p - 1))
                    {
                        _candidateScores[p] = _candidateScores[p - 1];
                        _candidateTokens[p] = _candidateTokens[p - 1];
                        _candidateRows[p] = _candidateRows[p - 1];
                        p--;
                    }
                    _candidateScores[p] = score;
                    _candidateTokens[p] = token;
                    _candidateRows[p] = r;
                }
            }

            // End tokens among the first k finish; the first k others go on.
            int next = 0;
            for (int i = 0; i < count && next < k; i++)
            {
                int parent = _candidateRows[i], token = _candidateTokens[i];
                ReadOnlySpan<int> prefix = _aliveTokens.AsSpan(parent * maxLength, t);
                if (token == endToken)
                {
                    if (i < k) Finish(prefix, _candidateScores[i], ended: true);
                    continue;
                }
                Span<int> child = _nextTokens.AsSpan(next * maxLength, maxLength);
                prefix.CopyTo(child);
                child[t] = token;
                _nextScores[next] = _candidateScores[i];
                _parents[next] = parent;
                next++;
            }
            (_aliveTokens, _nextTokens) = (_nextTokens, _aliveTokens);
            (_aliveScores, _nextScores) = (_nextScores, _aliveScores);
            alive = next;

            if (t == maxLength - 1)
            {
                for (int i = 0; i < alive; i++) Finish(_aliveTokens.AsSpan(i * maxLength, maxLength), _aliveScores[i], ended: false);
                break;
            }
            if (alive == 0) break;
            if (_finishedCount == k && !(Normalize(_aliveScores[0], _maxLengthPower) > _finishedScores[k - 1])) break;

            _parents.AsSpan(alive).Clear();
            decoder.SelectRows(_parents);
            for (int i = 0; i < k; i++) feed[i] = i < alive ? _aliveTokens[i * maxLength + t] : endToken;
        }
    }

    /// <summary>Whether the candidate (score, token, row) ranks before candidate <paramref name="index"/>.</summary>
    private bool Better(double score, int token, int row, int index)
    {
        double other = _candidateScores[index];
        if (score != other) return score > other;
        int otherToken = _candidateTokens[index];
        return token != otherToken ? token < otherToken : row < _candidateRows[index];
    }

    private double Normalize(double raw, double lengthPower) => _alpha == 0 ? raw : raw / lengthPower;

    /// <summary>Offers a finished hypothesis to the k best (kept sorted, best first; ties keep the earlier one).</summary>
    private void Finish(ReadOnlySpan<int> tokens, double raw, bool ended)
    {
        int length = tokens.Length;
        double score = Normalize(raw, Math.Pow(ended ? length + 1 : length, _alpha));
        int k = _k, maxLength = _maxLength;
        if (_finishedCount == k && !(score > _finishedScores[k - 1])) return;
        int p = _finishedCount < k ? _finishedCount++ : k - 1;
        while (p > 0 && score > _finishedScores[p - 1])
        {
            _finishedTokens.AsSpan((p - 1) * maxLength, _finishedLengths[p - 1]).CopyTo(_finishedTokens.AsSpan(p * maxLength));
            _finishedLengths[p] = _finishedLengths[p - 1];
            _finishedScores[p] = _finishedScores[p - 1];
            _finishedRaw[p] = _finishedRaw[p - 1];
            _finishedEnded[p] = _finishedEnded[p - 1];
            p--;
        }
        tokens.CopyTo(_finishedTokens.AsSpan(p * maxLength));
        _finishedLengths[p] = length;
        _finishedScores[p] = score;
        _finishedRaw[p] = raw;
        _finishedEnded[p] = ended;
    }
}
