namespace ModelGen.Tests.Decoding;

/// <summary>
/// <see cref="BeamSearch"/> on the table-driven fake decoder: against greedy decoding, exhaustive search, and a plain
/// list-based beam search without early stopping; scores recomputed from the fake's table.
/// </summary>
public class BeamSearchTests
{
    private const int Start = 0, Source = 42;
    private const double Tolerance = 1e-12;

    private static void Fill(Span<float> logits, int token, double probability)
    {
        // `token` gets `probability`, the others share the rest equally.
        double rest = (1 - probability) / (logits.Length - 1);
        for (int v = 0; v < logits.Length; v++) logits[v] = (float)Math.Log(v == token ? probability : rest);
    }

    private static (int[] Tokens, BeamHypothesis Best, TableDecoder Decoder) Run(LogitsTable table, int v, int end, int k, int maxLength, double alpha = 0)
    {
        var decoder = new TableDecoder(v, k, maxLength, table);
        decoder.BeginDecoding(Source, k);
        var tokens = new int[maxLength];
        BeamHypothesis best = new BeamSearch(k, v, maxLength, alpha).Decode(decoder, Start, end, tokens);
        return (tokens[..best.Length], best, decoder);
    }

    [Fact]
    public void WidthOneIsGreedyDecoding()
    {
        const int v = 6, end = 5, maxLength = 7;
        var greedyDecoder = new GreedyDecoder(1, v, maxLength);
        for (int seed = 0; seed < 100; seed++)
        {
            LogitsTable table = Tables.Random(seed, end, endBias: 0.6f);
            var (tokens, best, _) = Run(table, v, end, 1, maxLength);
            var (greedy, ended) = Tables.Greedy(table, v, Source, Start, end, maxLength);
            Assert.Equal(greedy, tokens);
            Assert.Equal(ended, best.Ended);
            Assert.Equal(Tables.Score(table, v, Source, Start, end, greedy, ended).Raw, best.Score, Tolerance);

            var decoder = new TableDecoder(v, 1, maxLength, table);
            decoder.BeginDecoding(Source, 1);
            int[] greedyTokens = new int[maxLength], lengths = new int[1];
            greedyDecoder.Decode(decoder, Start, end, maxLength, greedyTokens, lengths);
            Assert.Equal(greedyTokens[..lengths[0]], tokens);
        }
    }

    /// <summary>
    /// Step 0: A 0.6, B 0.39. After A every token is equally likely (1/V); after B the end token has 0.99. Greedy takes
    /// A and gets log 0.6 + log(1/V) at best; the beam keeps B and finds log 0.39 + log 0.99.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void FindsAMoreProbableOutputThanGreedy(int k)
    {
        const int v = 12, end = 11, a = 1, b = 2, maxLength = 6;
        LogitsTable table = (history, logits) =>
        {
            if (history.Length == 2)
            {
                for (int t = 0; t < v; t++) logits[t] = (float)Math.Log(t == a ? 0.6 : t == b ? 0.39 : 0.01 / (v - 2));
            }
            else if (history[2] == a) logits.Fill(0f);
            else Fill(logits, end, 0.99);
        };
        var (greedy, greedyEnded) = Tables.Greedy(table, v, Source, Start, end, maxLength);
        Assert.Equal(a, greedy[0]);
        double greedyScore = Tables.Score(table, v, Source, Start, end, greedy, greedyEnded).Raw;

        var (tokens, best, _) = Run(table, v, end, k, maxLength);
        Assert.Equal([b], tokens);
        Assert.True(best.Ended);
        double expected = Tables.LogProbabilities(table, v, [Source, Start])[b] + Tables.LogProbabilities(table, v, [Source, Start, b])[end];
        Assert.Equal(expected, best.Score, Tolerance);
        Assert.Equal(expected, best.LogProbability, Tolerance);
        Assert.True(best.Score > greedyScore, $"beam {best.Score} vs greedy {greedyScore}");
    }

    /// <summary>With k at least the number of candidates of any step, the beam is exhaustive: it equals brute force.</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.7)]
    public void AWideEnoughBeamIsExactSearch_AndNeverWorseThanGreedy(double alpha)
    {
        const int v = 3, end = 2, maxLength = 4;
        int k = v * (int)Math.Pow(v - 1, maxLength - 1); // the candidates of the last step
        for (int seed = 0; seed < 40; seed++)
        {
            LogitsTable table = Tables.Random(seed, end, scale: 3f);
            var (tokens, best, _) = Run(table, v, end, k, maxLength, alpha);
            var exact = Tables.BruteForce(table, v, Source, Start, end, maxLength, alpha);
            Assert.Equal(exact.Tokens, tokens);
            Assert.Equal(exact.Ended, best.Ended);
            Assert.Equal(exact.Score, best.Score, Tolerance);

            var (greedy, ended) = Tables.Greedy(table, v, Source, Start, end, maxLength);
            Assert.True(best.Score >= Tables.Score(table, v, Source, Start, end, greedy, ended, alpha).Score - Tolerance);
        }
    }

    /// <summary>
    /// Beam search against greedy decoding on random tables. A finite beam is not guaranteed to beat greedy: it may
    /// prune the greedy prefix for k hypotheses that later turn bad (seed 62 with k = 2 is such a table; the plain
    /// beam search below agrees, so it is the algorithm, not the implementation). So: where the beam is below greedy it is
    /// the plain beam search's result, it is never below where exact (the wide-beam test), and it gains on balance.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void BeatsGreedyOnBalance_AndLosesOnlyWhereThePlainBeamSearchDoes(int k)
    {
        const int v = 7, end = 6, maxLength = 8, seeds = 200;
        int worse = 0, better = 0;
        double gain = 0;
        for (int seed = 0; seed < seeds; seed++)
        {
            LogitsTable table = Tables.Random(seed, end, scale: 2.5f, endBias: 0.5f);
            var (_, best, _) = Run(table, v, end, k, maxLength);
            var (greedy, ended) = Tables.Greedy(table, v, Source, Start, end, maxLength);
            double greedyScore = Tables.Score(table, v, Source, Start, end, greedy, ended).Raw;
            if (best.Score < greedyScore - Tolerance)
            {
                worse++;
                // The plain beam search finds the same worse hypothesis: beam search itself lost the greedy path.
                Assert.Equal(PlainBeamSearch(table, v, end, k, maxLength, 0)[0].Score, best.Score, Tolerance);
            }
            if (best.Score > greedyScore + Tolerance) better++;
            gain += best.Score - greedyScore;
        }
        // No bound on how often: every table where the beam loses is pinned to the plain beam search above, so what
        // is left to claim is the purpose of the search, that it gains on balance.
        Assert.True(better > worse && gain > 0, $"k = {k}: worse on {worse}, better on {better} of {seeds} tables, total gain {gain}");
    }

    /// <summary>
    /// The n-best against a plain beam search (lists, LINQ, stepping the table row by row, always running to
    /// maxLength): the same hypotheses in the same order, so the early stop changed nothing; each score recomputed from
    /// the table; no duplicates (step 0 expands one of the k identical rows).
    /// </summary>
    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 0.0)]
    [InlineData(4, 0.0)]
    [InlineData(4, 1.0)]
    [InlineData(6, 0.6)]
    public void NBestMatchesAPlainBeamSearch_AndStopsEarlyWithoutChangingIt(int k, double alpha)
    {
        const int v = 6, end = 5, maxLength = 9;
        var search = new BeamSearch(new BeamSearchOptions(k, maxLength, alpha), v);
        int stoppedEarly = 0;
        for (int seed = 0; seed < 60; seed++)
        {
            LogitsTable table = Tables.Random(seed, end, scale: 2f, endBias: seed % 2 == 0 ? 1.5f : 0.3f);
            var decoder = new TableDecoder(v, k, maxLength, table);
            decoder.BeginDecoding(Source, k);
            var tokens = new int[k * maxLength];
            var hypotheses = new BeamHypothesis[k];
            int n = search.DecodeNBest(decoder, Start, end, tokens, hypotheses);
            if (decoder.Steps < maxLength) stoppedEarly++;

            var expected = PlainBeamSearch(table, v, end, k, maxLength, alpha);
            Assert.Equal(expected.Count, n);
            var seen = new HashSet<string>();
            for (int i = 0; i < n; i++)
            {
                int[] hypothesis = tokens.AsSpan(i * maxLength, hypotheses[i].Length).ToArray();
                Assert.Equal(expected[i].Tokens, hypothesis);
                Assert.Equal(expected[i].Ended, hypotheses[i].Ended);
                var (raw, score) = Tables.Score(table, v, Source, Start, end, hypothesis, hypotheses[i].Ended, alpha);
                Assert.Equal(raw, hypotheses[i].LogProbability, Tolerance);
                Assert.Equal(score, hypotheses[i].Score, Tolerance);
                if (i > 0) Assert.True(hypotheses[i - 1].Score >= hypotheses[i].Score);
                Assert.True(seen.Add($"{string.Join(",", hypothesis)}/{hypotheses[i].Ended}"), "a hypothesis appears twice");
                Assert.All(tokens.AsSpan(i * maxLength + hypotheses[i].Length, maxLength - hypotheses[i].Length).ToArray(), t => Assert.Equal(end, t));
            }
            for (int i = n; i < k; i++) Assert.Equal(default, hypotheses[i]);
        }
        Assert.True(stoppedEarly > 0, "no search stopped before maxLength");
    }

    /// <summary>The beam search as specified, written plainly: rank candidates, end tokens among the first k finish, the first k others go on.</summary>
    private static List<(int[] Tokens, bool Ended, double Score)> PlainBeamSearch(LogitsTable table, int v, int end, int k, int maxLength, double alpha)
    {
        var alive = new List<(int[] Tokens, double Raw)> { ([], 0) };
        var finished = new List<(int[] Tokens, bool Ended, double Score)>();
        for (int t = 0; t < maxLength && alive.Count > 0; t++)
        {
            var candidates = alive.SelectMany((h, row) =>
            {
                double[] logProbabilities = Tables.LogProbabilities(table, v, [Source, Start, .. h.Tokens]);
                return Enumerable.Range(0, v).Select(token => (h.Tokens, Raw: h.Raw + logProbabilities[token], Token: token, Row: row));
            }).OrderByDescending(c => c.Raw).ThenBy(c => c.Token).ThenBy(c => c.Row).ToList();
            var next = new List<(int[] Tokens, double Raw)>();
            for (int i = 0; i < candidates.Count && next.Count < k; i++)
            {
                var c = candidates[i];
                if (c.Token != end) next.Add(([.. c.Tokens, c.Token], c.Raw));
                else if (i < k) finished.Add((c.Tokens, true, c.Raw / Math.Pow(c.Tokens.Length + 1, alpha)));
            }
            alive = next;
            if (t == maxLength - 1) finished.AddRange(alive.Select(h => (h.Tokens, false, h.Raw / Math.Pow(maxLength, alpha))));
        }
        return finished.OrderByDescending(f => f.Score).Take(k).ToList();
    }

    /// <summary>
    /// Step 0: S 0.6, L 0.35. After S the end token has 0.6; after L, L again has 0.85 until four tokens, then the
    /// end token 0.85. Raw: [S] log 0.6² beats [L L L L] log 0.35 + 4 log 0.85; per token (α = 1) the long one wins.
    /// </summary>
    [Fact]
    public void LengthNormalisationChangesTheWinner()
    {
        const int v = 8, end = 7, s = 1, l = 2, longLength = 4, maxLength = 6;
        LogitsTable table = (history, logits) =>
        {
            int emitted = history.Length - 2;
            if (emitted == 0)
            {
                for (int t = 0; t < v; t++) logits[t] = (float)Math.Log(t == s ? 0.6 : t == l ? 0.35 : 0.05 / (v - 2));
            }
            else if (history[2] == s) Fill(logits, end, 0.6);
            else Fill(logits, emitted < longLength ? l : end, 0.85);
        };
        int[] shortTokens = [s], longTokens = Enumerable.Repeat(l, longLength).ToArray();
        var shortScore = Tables.Score(table, v, Source, Start, end, shortTokens, ended: true, alpha: 1);
        var longScore = Tables.Score(table, v, Source, Start, end, longTokens, ended: true, alpha: 1);
        Assert.True(shortScore.Raw > longScore.Raw && longScore.Score > shortScore.Score); // the table does what it says

        var (raw, rawBest, _) = Run(table, v, end, 2, maxLength, alpha: 0);
        Assert.Equal(shortTokens, raw);
        Assert.Equal(shortScore.Raw, rawBest.Score, Tolerance);
        Assert.Equal(Tables.BruteForce(table, v, Source, Start, end, maxLength, 0).Tokens, raw);

        var (normalised, normalisedBest, decoder) = Run(table, v, end, 2, maxLength, alpha: 1);
        Assert.Equal(longTokens, normalised);
        Assert.Equal(longScore.Score, normalisedBest.Score, Tolerance);
        Assert.Equal(longScore.Raw, normalisedBest.LogProbability, Tolerance);
        Assert.Equal(Tables.BruteForce(table, v, Source, Start, end, maxLength, 1).Tokens, normalised);
        Assert.True(decoder.Steps < maxLength, "the normalised search should stop once nothing alive can win");
    }

    /// <summary>
    /// Step 0: A 0.5, B 0.3 (rows [A, B]). After B, C has 0.9 and then the end token 0.9; after A all is flat. At step 1
    /// the best candidate B C comes from row 1 and the next, A 0 (flat, lowest token), from row 0: the rows must swap.
    /// </summary>
    [Fact]
    public void SelectRowsReordersTheDecoderToTheSurvivingParents()
    {
        const int v = 8, end = 7, a = 1, b = 2, c = 3, maxLength = 4;
        LogitsTable table = (history, logits) =>
        {
            int emitted = history.Length - 2;
            if (emitted == 0)
            {
                for (int t = 0; t < v; t++) logits[t] = (float)Math.Log(t == a ? 0.5 : t == b ? 0.3 : 0.2 / (v - 2));
            }
            else if (history[2] == a) logits.Fill(0f);
            else Fill(logits, emitted == 1 ? c : end, 0.9);
        };
        var decoder = new TableDecoder(v, 2, maxLength, table) { SelectRowsLog = [] };
        decoder.BeginDecoding(Source, 2);
        var tokens = new int[maxLength];
        var search = new BeamSearch(2, v, maxLength);
        BeamHypothesis best = search.Decode(decoder, Start, end, tokens);
        Assert.Equal([b, c], tokens[..best.Length]);
        Assert.Equal(Tables.BruteForce(table, v, Source, Start, end, maxLength, 0).Tokens, tokens[..best.Length]);
        Assert.Equal([0, 0], decoder.SelectRowsLog[0]); // both step-0 hypotheses come from row 0
        Assert.Equal([1, 0], decoder.SelectRowsLog[1]);

        // A decoder that ignores SelectRows scores B C's continuation with A's state: the search goes wrong.
        decoder = new TableDecoder(v, 2, maxLength, table) { IgnoreSelectRows = true };
        decoder.BeginDecoding(Source, 2);
        best = search.Decode(decoder, Start, end, tokens);
        Assert.NotEqual([b, c], tokens[..best.Length]);
    }

    [Fact]
    public void RejectsWrongArguments_NamingThemAndTheSizes()
    {
        const int v = 5, end = 4, k = 3, maxLength = 6;
        var search = new BeamSearch(k, v, maxLength);
        LogitsTable table = Tables.Random(1, end);
        var decoder = new TableDecoder(v, 4, maxLength, table);

        decoder.BeginDecoding(Source, k - 1);
        var e = Assert.Throws<ArgumentException>(() => search.Decode(decoder, Start, end, new int[maxLength]));
        Assert.Equal("decoder", e.ParamName);
        Assert.Contains($"expected Rows {k}", e.Message);
        Assert.Contains($"got {k - 1}", e.Message);

        var other = new TableDecoder(v - 1, 4, maxLength, table);
        other.BeginDecoding(Source, k);
        e = Assert.Throws<ArgumentException>(() => search.Decode(other, Start, end, new int[maxLength]));
        Assert.Equal("decoder", e.ParamName);
        Assert.Contains($"expected TargetVocabularySize {v}", e.Message);
        Assert.Contains($"got {v - 1}", e.Message);

        decoder.BeginDecoding(Source, k);
        e = Assert.Throws<ArgumentException>(() => search.Decode(decoder, Start, end, new int[maxLength + 1]));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains($"expected length {maxLength}", e.Message);
        Assert.Contains($"got {maxLength + 1}", e.Message);

        e = Assert.Throws<ArgumentException>(() => search.DecodeNBest(decoder, Start, end, new int[maxLength], new BeamHypothesis[k]));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains($"expected length {k * maxLength}", e.Message);
        e = Assert.Throws<ArgumentException>(() => search.DecodeNBest(decoder, Start, end, new int[k * maxLength], new BeamHypothesis[k + 1]));
        Assert.Equal("hypotheses", e.ParamName);
        Assert.Contains($"expected length {k}", e.Message);
        Assert.Contains($"got {k + 1}", e.Message);

        Assert.Equal("endToken", Assert.Throws<ArgumentOutOfRangeException>(() => search.Decode(decoder, Start, v, new int[maxLength])).ParamName);
        Assert.Equal("startToken", Assert.Throws<ArgumentOutOfRangeException>(() => search.Decode(decoder, -1, end, new int[maxLength])).ParamName);
        Assert.Throws<ArgumentNullException>(() => search.Decode(null!, Start, end, new int[maxLength]));
        Assert.Equal(0, decoder.Steps);

        Assert.Equal("beamWidth", Assert.Throws<ArgumentOutOfRangeException>(() => new BeamSearchOptions(0, maxLength)).ParamName);
        Assert.Equal("maxLength", Assert.Throws<ArgumentOutOfRangeException>(() => new BeamSearchOptions(k, 0)).ParamName);
        foreach (double alpha in new[] { -0.5, double.NaN, double.PositiveInfinity })
        {
            Assert.Equal("lengthNormalization", Assert.Throws<ArgumentOutOfRangeException>(() => new BeamSearchOptions(k, maxLength, alpha)).ParamName);
        }
        Assert.Equal("vocabularySize", Assert.Throws<ArgumentOutOfRangeException>(() => new BeamSearch(k, 0, maxLength)).ParamName);
        Assert.Throws<ArgumentNullException>(() => new BeamSearch(null!, v));
    }

    [Fact]
    public void WarmDecodingAllocatesNothing()
    {
        const int v = 9, end = 8, k = 4, maxLength = 7;
        var decoder = new TableDecoder(v, k, maxLength, Tables.Random(5, end, endBias: 0.5f));
        var search = new BeamSearch(new BeamSearchOptions(k, maxLength, 0.8), v);
        var tokens = new int[k * maxLength];
        var hypotheses = new BeamHypothesis[k];
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() =>
        {
            decoder.BeginDecoding(Source, k);
            search.Decode(decoder, Start, end, tokens.AsSpan(0, maxLength));
        }));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() =>
        {
            decoder.BeginDecoding(Source, k);
            search.DecodeNBest(decoder, Start, end, tokens, hypotheses);
        }));
    }
}
