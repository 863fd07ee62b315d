namespace ModelGen.Tests.Decoding;

/// <summary>The next-token logits <c>[V]</c> of a row given everything it was fed: <c>[source, start, t1, t2, …]</c>.</summary>
internal delegate void LogitsTable(ReadOnlySpan<int> history, Span<float> logits);

/// <summary>
/// A table-driven <see cref="IStepDecoder"/>: a row's state is its history (the source id it began with and every
/// token fed since, so the step count too), and its logits are a function of that history. A row whose state was
/// not reordered as <see cref="IStepDecoder.SelectRows"/> asked sees the wrong history and gives other logits.
/// Allocates nothing after construction (unless <see cref="SelectRowsLog"/> is set).
/// </summary>
internal sealed class TableDecoder : IStepDecoder
{
    private readonly LogitsTable _table;
    private readonly int _capacity;
    private readonly int[] _history, _counts, _historyScratch, _countScratch;

    public TableDecoder(int vocabulary, int maxRows, int maxSteps, LogitsTable table)
    {
        TargetVocabularySize = vocabulary;
        _table = table;
        _capacity = maxSteps + 1;
        _history = new int[maxRows * _capacity];
        _historyScratch = new int[_history.Length];
        _counts = new int[maxRows];
        _countScratch = new int[maxRows];
    }

    public int TargetVocabularySize { get; }
    public int Rows { get; private set; }

    /// <summary>The number of <see cref="Step"/> calls since the last BeginDecoding.</summary>
    public int Steps { get; private set; }

    /// <summary>When set, SelectRows does nothing: the state is "reordered wrongly".</summary>
    public bool IgnoreSelectRows { get; set; }

    /// <summary>When not null, every SelectRows call's argument is appended.</summary>
    public List<int[]>? SelectRowsLog { get; set; }

    public void BeginDecoding(ReadOnlySpan<int> sources)
    {
        Rows = sources.Length;
        Steps = 0;
        for (int r = 0; r < Rows; r++)
        {
            _history[r * _capacity] = sources[r];
            _counts[r] = 1;
        }
    }

    /// <summary>One source replicated into <paramref name="rows"/> identical rows (beam search).</summary>
    public void BeginDecoding(int source, int rows)
    {
        Rows = rows;
        Steps = 0;
        for (int r = 0; r < rows; r++)
        {
            _history[r * _capacity] = source;
            _counts[r] = 1;
        }
    }

    public ReadOnlySpan<int> History(int row) => _history.AsSpan(row * _capacity, _counts[row]);

    public void Step(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int v = TargetVocabularySize;
        if (tokens.Length != Rows || logits.Length != Rows * v) throw new InvalidOperationException("Step: wrong span lengths.");
        Steps++;
        for (int r = 0; r < Rows; r++)
        {
            if (_counts[r] == _capacity) throw new InvalidOperationException("Step: more steps than the fake was built for.");
            if ((uint)tokens[r] >= (uint)v) throw new InvalidOperationException($"Step: token {tokens[r]} outside the vocabulary.");
            _history[r * _capacity + _counts[r]++] = tokens[r];
            _table(History(r), logits.Slice(r * v, v));
        }
    }

    public void SelectRows(ReadOnlySpan<int> sourceRows)
    {
        if (sourceRows.Length != Rows) throw new InvalidOperationException("SelectRows: wrong length.");
        SelectRowsLog?.Add(sourceRows.ToArray());
        if (IgnoreSelectRows) return;
        _history.CopyTo(_historyScratch, 0);
        _counts.CopyTo(_countScratch, 0);
        for (int r = 0; r < Rows; r++)
        {
            int source = sourceRows[r];
            if ((uint)source >= (uint)Rows) throw new InvalidOperationException($"SelectRows: source row {source} outside [0, {Rows}).");
            _counts[r] = _countScratch[source];
            _historyScratch.AsSpan(source * _capacity, _capacity).CopyTo(_history.AsSpan(r * _capacity));
        }
    }
}

/// <summary>Tables for the fake decoder, and the reference computations the tests check against.</summary>
internal static class Tables
{
    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        x ^= x >> 33;
        return x;
    }

    /// <summary>
    /// Pseudo-random logits in [−scale, scale] as a hash of (seed, history); the end token's logit gets
    /// <paramref name="endBias"/> added, so the hypotheses end sooner or later.
    /// </summary>
    public static LogitsTable Random(int seed, int endToken, float scale = 2f, float endBias = 0f) => (history, logits) =>
    {
        ulong h = Mix((ulong)seed + 0x1234567UL);
        foreach (int token in history) h = Mix(h ^ ((ulong)(token + 1) * 0x9E3779B97F4A7C15UL));
        for (int v = 0; v < logits.Length; v++)
        {
            double u = (Mix(h + (ulong)(v + 1) * 0xD1B54A32D192ED03UL) >> 11) * (1.0 / (1UL << 53));
            logits[v] = (float)((u * 2 - 1) * scale) + (v == endToken ? endBias : 0f);
        }
    };

    /// <summary>Logits log(p) of the probabilities <paramref name="probabilities"/> (which sum to 1).</summary>
    public static void FromProbabilities(Span<float> logits, ReadOnlySpan<double> probabilities)
    {
        for (int v = 0; v < logits.Length; v++) logits[v] = (float)Math.Log(probabilities[v]);
    }

    /// <summary>The log-softmax, in double, of the table's logits after <paramref name="history"/>.</summary>
    public static double[] LogProbabilities(LogitsTable table, int vocabulary, ReadOnlySpan<int> history)
    {
        var logits = new float[vocabulary];
        table(history, logits);
        double max = logits.Max(), sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        double logSum = max + Math.Log(sum);
        return logits.Select(x => x - logSum).ToArray();
    }

    /// <summary>
    /// The raw score (sum of log-probabilities, the end token's included when <paramref name="ended"/>) and the
    /// normalised score (raw / n^α, n counting the end token) of a hypothesis, from the table.
    /// </summary>
    public static (double Raw, double Score) Score(LogitsTable table, int vocabulary, int source, int start, int end,
        ReadOnlySpan<int> tokens, bool ended, double alpha = 0)
    {
        var history = new List<int> { source, start };
        double raw = 0;
        foreach (int token in tokens)
        {
            raw += LogProbabilities(table, vocabulary, history.ToArray())[token];
            history.Add(token);
        }
        if (ended) raw += LogProbabilities(table, vocabulary, history.ToArray())[end];
        int n = tokens.Length + (ended ? 1 : 0);
        return (raw, alpha == 0 ? raw : raw / Math.Pow(n, alpha));
    }

    /// <summary>Greedy decoding of one row straight from the table: argmax (lowest index on ties) until end or maxLength.</summary>
    public static (int[] Tokens, bool Ended) Greedy(LogitsTable table, int vocabulary, int source, int start, int end, int maxLength)
    {
        var history = new List<int> { source, start };
        var tokens = new List<int>();
        var logits = new float[vocabulary];
        while (tokens.Count < maxLength)
        {
            table(history.ToArray(), logits);
            int best = 0;
            for (int v = 1; v < vocabulary; v++) if (logits[v] > logits[best]) best = v;
            if (best == end) return (tokens.ToArray(), true);
            tokens.Add(best);
            history.Add(best);
        }
        return (tokens.ToArray(), false);
    }

    /// <summary>
    /// The best hypothesis over every sequence (exhaustive search): ends at any length below maxLength, or is cut at
    /// maxLength, ranked by the normalised score.
    /// </summary>
    public static (int[] Tokens, bool Ended, double Score) BruteForce(LogitsTable table, int vocabulary, int source, int start, int end,
        int maxLength, double alpha)
    {
        (int[] Tokens, bool Ended, double Score) best = ([], false, double.NegativeInfinity);
        var history = new List<int> { source, start };
        var tokens = new List<int>();
        void Visit(double raw)
        {
            if (tokens.Count == maxLength)
            {
                Offer(raw / Math.Pow(maxLength, alpha), ended: false);
                return;
            }
            double[] logProbabilities = LogProbabilities(table, vocabulary, history.ToArray());
            Offer((raw + logProbabilities[end]) / Math.Pow(tokens.Count + 1, alpha), ended: true);
            for (int v = 0; v < vocabulary; v++)
            {
                if (v == end) continue;
                tokens.Add(v);
                history.Add(v);
                Visit(raw + logProbabilities[v]);
                tokens.RemoveAt(tokens.Count - 1);
                history.RemoveAt(history.Count - 1);
            }
        }
        void Offer(double score, bool ended)
        {
            if (score > best.Score) best = (tokens.ToArray(), ended, score);
        }
        Visit(0);
        return best;
    }
}
