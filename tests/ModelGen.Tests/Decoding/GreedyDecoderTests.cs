namespace ModelGen.Tests.Decoding;

/// <summary><see cref="GreedyDecoder"/> against greedy decoding computed row by row straight from the fake's table.</summary>
public class GreedyDecoderTests
{
    private const int Start = 0;

    /// <summary>Row s emits token 1 s times, then the end token (each choice clear: logit 0 vs −5).</summary>
    private static LogitsTable CountingTable(int end) => (history, logits) =>
    {
        int source = history[0], emitted = history.Length - 2;
        logits.Fill(-5f);
        logits[emitted < source ? 1 : end] = 0f;
    };

    [Fact]
    public void FollowsTheArgmaxPathOfEveryRow_OnRandomTables()
    {
        const int v = 6, end = 5, maxLength = 7, rows = 4;
        var greedy = new GreedyDecoder(rows, v, maxLength);
        int ended = 0, cut = 0;
        for (int seed = 0; seed < 60; seed++)
        {
            LogitsTable table = Tables.Random(seed, end, endBias: 0.6f);
            var decoder = new TableDecoder(v, rows, maxLength, table);
            int[] sources = [10, 11, 12, 13];
            decoder.BeginDecoding(sources);
            int[] tokens = new int[rows * maxLength], lengths = new int[rows];
            greedy.Decode(decoder, Start, end, maxLength, tokens, lengths);

            int expectedSteps = 0;
            for (int r = 0; r < rows; r++)
            {
                var (expected, rowEnded) = Tables.Greedy(table, v, sources[r], Start, end, maxLength);
                Assert.Equal(expected.Length, lengths[r]);
                Assert.Equal(expected, tokens.AsSpan(r * maxLength, lengths[r]).ToArray());
                Assert.All(tokens.AsSpan(r * maxLength + lengths[r], maxLength - lengths[r]).ToArray(), t => Assert.Equal(end, t));
                expectedSteps = Math.Max(expectedSteps, rowEnded ? expected.Length + 1 : maxLength);
                if (rowEnded) ended++; else cut++;
            }
            Assert.Equal(expectedSteps, decoder.Steps);
        }
        // The seeds exercise both ways of stopping.
        Assert.True(ended > 20 && cut > 5, $"ended {ended}, cut at maxLength {cut}");
    }

    [Fact]
    public void RowsFinishIndependently_AtTheEndTokenOrAtMaxLength()
    {
        const int v = 4, end = 3, maxLength = 4;
        int[] sources = [0, 2, 5, 3];
        var decoder = new TableDecoder(v, sources.Length, maxLength, CountingTable(end));
        decoder.BeginDecoding(sources);
        int[] tokens = new int[sources.Length * maxLength], lengths = new int[sources.Length];
        new GreedyDecoder(sources.Length, v, maxLength).Decode(decoder, Start, end, maxLength, tokens, lengths);

        for (int r = 0; r < sources.Length; r++)
        {
            int expectedLength = Math.Min(sources[r], maxLength);
            Assert.Equal(expectedLength, lengths[r]);
            for (int t = 0; t < maxLength; t++) Assert.Equal(t < expectedLength ? 1 : end, tokens[r * maxLength + t]);
            // A finished row keeps being fed the end token: its history is [source, start, 1 × length, end, end, …].
            ReadOnlySpan<int> history = decoder.History(r);
            Assert.Equal(1 + maxLength, history.Length); // the source, then one token fed per step
            for (int t = 2 + expectedLength; t < history.Length; t++) Assert.Equal(end, history[t]);
        }
        Assert.Equal(maxLength, decoder.Steps); // the row of source 5 never ends
    }

    [Fact]
    public void StopsAsSoonAsEveryRowHasFinished()
    {
        const int v = 4, end = 3, maxLength = 9;
        int[] sources = [0, 2, 1];
        var decoder = new TableDecoder(v, 8, maxLength, CountingTable(end));
        decoder.BeginDecoding(sources);
        int[] tokens = new int[sources.Length * maxLength], lengths = new int[sources.Length];
        new GreedyDecoder(8, v, maxLength).Decode(decoder, Start, end, maxLength, tokens, lengths);
        Assert.Equal(sources, lengths);
        Assert.Equal(sources.Max() + 1, decoder.Steps);
    }

    [Fact]
    public void TiesGoToTheLowestIndex_AndMaxLengthZeroProducesNothing()
    {
        const int v = 5, end = 4, maxLength = 3;
        var decoder = new TableDecoder(v, 2, maxLength, (_, logits) => logits.Fill(0.25f));
        decoder.BeginDecoding([0, 1]);
        int[] tokens = new int[2 * maxLength], lengths = new int[2];
        var greedy = new GreedyDecoder(2, v, maxLength);
        greedy.Decode(decoder, Start, end, maxLength, tokens, lengths);
        Assert.Equal([maxLength, maxLength], lengths);
        Assert.All(tokens, t => Assert.Equal(0, t));

        decoder.BeginDecoding([0, 1]);
        greedy.Decode(decoder, Start, end, 0, [], lengths);
        Assert.Equal([0, 0], lengths);
        Assert.Equal(0, decoder.Steps);
    }

    [Fact]
    public void RejectsWrongArguments_NamingThemAndTheSizes()
    {
        const int v = 4, end = 3, maxLength = 5;
        var greedy = new GreedyDecoder(3, v, maxLength);
        var decoder = new TableDecoder(v, 4, maxLength, CountingTable(end));
        decoder.BeginDecoding([1, 2]);
        int[] tokens = new int[2 * maxLength], lengths = new int[2];

        var e = Assert.Throws<ArgumentException>(() => greedy.Decode(decoder, Start, end, maxLength, new int[2 * maxLength - 1], lengths));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains($"{2 * maxLength}", e.Message);
        Assert.Contains($"{2 * maxLength - 1}", e.Message);

        e = Assert.Throws<ArgumentException>(() => greedy.Decode(decoder, Start, end, maxLength, tokens, new int[3]));
        Assert.Equal("lengths", e.ParamName);
        Assert.Contains("expected length 2", e.Message);
        Assert.Contains("got 3", e.Message);

        var other = new TableDecoder(v + 1, 4, maxLength, CountingTable(end));
        other.BeginDecoding([1, 2]);
        e = Assert.Throws<ArgumentException>(() => greedy.Decode(other, Start, end, maxLength, tokens, lengths));
        Assert.Equal("decoder", e.ParamName);
        Assert.Contains($"{v}", e.Message);
        Assert.Contains($"got {v + 1}", e.Message);

        decoder.BeginDecoding([1, 2, 3, 0]);
        e = Assert.Throws<ArgumentException>(() => greedy.Decode(decoder, Start, end, maxLength, new int[4 * maxLength], new int[4]));
        Assert.Equal("decoder", e.ParamName);
        Assert.Contains("[0, 3]", e.Message);
        Assert.Contains("got 4", e.Message);

        decoder.BeginDecoding([1, 2]);
        Assert.Equal("maxLength", Assert.Throws<ArgumentOutOfRangeException>(() => greedy.Decode(decoder, Start, end, maxLength + 1, new int[2 * maxLength + 2], lengths)).ParamName);
        Assert.Equal("endToken", Assert.Throws<ArgumentOutOfRangeException>(() => greedy.Decode(decoder, Start, v, maxLength, tokens, lengths)).ParamName);
        Assert.Equal("startToken", Assert.Throws<ArgumentOutOfRangeException>(() => greedy.Decode(decoder, -1, end, maxLength, tokens, lengths)).ParamName);
        Assert.Throws<ArgumentNullException>(() => greedy.Decode(null!, Start, end, maxLength, tokens, lengths));
        Assert.Equal("maxRows", Assert.Throws<ArgumentOutOfRangeException>(() => new GreedyDecoder(0, v, maxLength)).ParamName);
        Assert.Equal("vocabularySize", Assert.Throws<ArgumentOutOfRangeException>(() => new GreedyDecoder(1, 0, maxLength)).ParamName);
        Assert.Equal("maxLength", Assert.Throws<ArgumentOutOfRangeException>(() => new GreedyDecoder(1, v, 0)).ParamName);
        Assert.Equal(0, decoder.Steps); // nothing was stepped by a rejected call
    }

    [Fact]
    public void WarmDecodingAllocatesNothing()
    {
        const int v = 7, end = 6, maxLength = 6, rows = 3;
        var decoder = new TableDecoder(v, rows, maxLength, Tables.Random(3, end));
        var greedy = new GreedyDecoder(rows, v, maxLength);
        int[] sources = [1, 2, 3], tokens = new int[rows * maxLength], lengths = new int[rows];
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() =>
        {
            decoder.BeginDecoding(sources);
            greedy.Decode(decoder, Start, end, maxLength, tokens, lengths);
        }));
    }
}
