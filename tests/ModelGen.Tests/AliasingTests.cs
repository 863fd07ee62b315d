namespace ModelGen.Tests;

/// <summary>
/// Spans that a call writes while it still reads others: either the result is exactly that of separate
/// buffers (in-place use that is supported), or the call is rejected with an ArgumentException naming the span.
/// </summary>
public class AliasingTests
{
    private const int Batch = 3;
    private const int Steps = 5;

    [Fact]
    public void Forward_into_its_own_input_is_rejected()
    {
        // Each direction reads the whole input: the reverse one would read what the forward one wrote.
        var model = new SquareBidirectionalGru();
        model.InitializeParameters(1);
        float[] x = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        float[] before = (float[])x.Clone();
        var exception = Assert.Throws<ArgumentException>(() => model.Forward(x, Batch, x));
        Assert.Equal("output", exception.ParamName);
        TestHelpers.AssertBitEqual(before, x, "input after the rejected call");
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => model.TrainForward(x, Batch, x)).ParamName);

        // Shifted by one row: still an overlap.
        var buffer = new float[x.Length + 8];
        exception = Assert.Throws<ArgumentException>(() => model.Forward(buffer.AsSpan(0, x.Length), Batch, buffer.AsSpan(8)));
        Assert.Equal("output", exception.ParamName);
    }

    /// <summary>
    /// The overlap test itself at its edges, on ranges (start, length) of one buffer: ranges that touch end to start
    /// are disjoint, one shared float either way is an overlap, an empty range overlaps nothing, and the very same
    /// range passes only where that is safe.
    /// </summary>
    [Theory]
    [InlineData(0, 8, 8, 8, false, false)]
    [InlineData(8, 8, 0, 8, false, false)]
    [InlineData(4, 0, 0, 32, false, false)]
    [InlineData(0, 32, 4, 0, false, false)]
    [InlineData(0, 9, 8, 8, false, true)]
    [InlineData(8, 8, 0, 9, false, true)]
    [InlineData(2, 28, 10, 2, false, true)]
    [InlineData(10, 2, 2, 28, false, true)]
    [InlineData(0, 8, 0, 8, false, true)]
    [InlineData(0, 8, 0, 8, true, false)]
    [InlineData(0, 8, 0, 7, true, true)]
    public void Spans_overlap_when_they_share_a_float_and_only_then(int writtenStart, int writtenLength, int readStart, int readLength,
        bool sameIsSafe, bool overlaps)
    {
        var buffer = new float[32];
        void Check() => ArgumentChecks.NoOverlap(buffer.AsSpan(writtenStart, writtenLength), "written",
            buffer.AsSpan(readStart, readLength), "read", sameIsSafe);
        if (overlaps) Assert.Equal("written", Assert.Throws<ArgumentException>(Check).ParamName);
        else Check();
    }

    [Fact]
    public void A_step_into_or_from_the_streaming_state_is_rejected_before_it_changes_the_state()
    {
        // LSTM 8→32, 2 layers: HiddenState holds 64 floats, CellState 64, room for a step's input (8) or output (32 or 4).
        var model = new LstmStacked();
        model.InitializeParameters(3);
        TestHelpers.RandomValues(model.HiddenState.Length, seed: 4).CopyTo(model.HiddenState);
        TestHelpers.RandomValues(model.CellState.Length, seed: 5).CopyTo(model.CellState);
        float[] h = model.HiddenState.ToArray(), c = model.CellState.ToArray();
        float[] x = TestHelpers.RandomInput(model, 1, 1, seed: 6);

        AssertRejected(() => model.Step(x, model.HiddenState[..LstmStacked.StateSize]), "output", "HiddenState");
        AssertRejected(() => model.Step(x, model.CellState[32..]), "output", "CellState");
        AssertRejected(() => model.StepPredict(x, model.HiddenState[..LstmStacked.OutputSize]), "prediction", "HiddenState");
        AssertRejected(() => model.Step(model.HiddenState[..LstmStacked.InputSize], new float[LstmStacked.StateSize]), "HiddenState", "input");
        AssertRejected(() => model.StepPredict(model.CellState[8..16], new float[LstmStacked.OutputSize]), "CellState", "input");
        TestHelpers.AssertBitEqual(h, model.HiddenState, "h after the rejected steps");
        TestHelpers.AssertBitEqual(c, model.CellState, "c after the rejected steps");

        void AssertRejected(Action step, string written, string read)
        {
            var exception = Assert.Throws<ArgumentException>(step);
            Assert.Equal(written, exception.ParamName);
            Assert.Contains($"{written} overlaps {read}", exception.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Final_state_into_the_initial_state_span_equals_separate_buffers(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        model.InitializeParameters(7);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 2);
        int layers = model.NumLayers * model.NumDirections;
        float[] h0 = TestHelpers.RandomValues(layers * Batch * model.StateSize, seed: 3);
        float[] c0 = model.Cell == CellKind.Lstm ? TestHelpers.RandomValues(layers * Batch * model.HiddenSize, seed: 4) : [];
        var output = new float[Batch * Steps * model.OutputFeatures];
        var hN = new float[h0.Length];
        var cN = new float[c0.Length];
        model.Forward(input, Batch, output, h0, c0, hN, cN);

        float[] h = (float[])h0.Clone(), c = (float[])c0.Clone();
        var inPlaceOutput = new float[output.Length];
        model.Forward(input, Batch, inPlaceOutput, h, c, h, c);
        TestHelpers.AssertBitEqual(output, inPlaceOutput, "output");
        TestHelpers.AssertBitEqual(hN, h, "hN written over h0");
        TestHelpers.AssertBitEqual(cN, c, "cN written over c0");
    }

    [Fact]
    public void Partly_overlapping_spans_are_rejected()
    {
        IRecurrentModel model = new LstmProjectionBidirectional();
        int layers = model.NumLayers * model.NumDirections, hLength = layers * Batch * model.StateSize;
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 5);
        var output = new float[Batch * Steps * model.OutputFeatures];
        var h = new float[hLength + 1];
        var c = new float[layers * Batch * model.HiddenSize];
        Assert.Equal("hN", Assert.Throws<ArgumentException>(
            () => model.Forward(input, Batch, output, h.AsSpan(0, hLength), default, h.AsSpan(1), default)).ParamName);
        var states = new float[hLength + c.Length - 1];
        Assert.Equal("cN", Assert.Throws<ArgumentException>(
            () => model.Forward(input, Batch, output, default, default, states.AsSpan(0, hLength), states.AsSpan(hLength - 1))).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(
            () => model.Forward(input, Batch, output, output.AsSpan(0, hLength), default, default, default)).ParamName);
    }

    [Fact]
    public void Backward_rejects_gradient_outputs_over_its_upstream_or_the_model_buffers()
    {
        var model = new GruThreeLayers();
        model.InitializeParameters(3);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 6);
        var predictions = new float[Batch * Steps * GruThreeLayers.OutputSize];
        model.TrainPredictSequence(input, Batch, predictions);
        float[] upstream = TestHelpers.RandomValues(predictions.Length, seed: 7);
        int inputGradient = input.Length;
        var shared = new float[Math.Max(upstream.Length, inputGradient) * 2];
        upstream.CopyTo(shared, 0);
        Assert.Equal("inputGradient", Assert.Throws<ArgumentException>(
            () => model.Backward(shared.AsSpan(0, upstream.Length), shared.AsSpan(1, inputGradient))).ParamName);
        Assert.Equal("inputGradient", Assert.Throws<ArgumentException>(
            () => model.Backward(upstream, model.Gradients[..inputGradient])).ParamName);
        Assert.Equal("inputGradient", Assert.Throws<ArgumentException>(
            () => model.Backward(upstream, model.EditParameters()[..inputGradient])).ParamName);
    }

    [Fact]
    public void Cross_entropy_in_place_equals_separate_buffers()
    {
        const int rows = 6, classes = 5;
        float[] logits = TestHelpers.RandomValues(rows * classes, seed: 8);
        int[] targets = [0, 4, 2, 2, 1, 3];
        var gradient = new float[logits.Length];
        float loss = Losses.CrossEntropy(logits, classes, targets, gradient);

        float[] inPlace = (float[])logits.Clone();
        float inPlaceLoss = Losses.CrossEntropy(inPlace, classes, targets, inPlace);
        Assert.Equal(BitConverter.SingleToInt32Bits(loss), BitConverter.SingleToInt32Bits(inPlaceLoss));
        TestHelpers.AssertBitEqual(gradient, inPlace, "gradient written over the logits");

        var shifted = new float[logits.Length + 1];
        logits.CopyTo(shifted, 0);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(
            () => Losses.CrossEntropy(shifted.AsSpan(0, logits.Length), classes, targets, shifted.AsSpan(1))).ParamName);
    }

    [Fact]
    public void Mean_squared_error_in_place_equals_separate_buffers()
    {
        float[] prediction = TestHelpers.RandomValues(12, seed: 9), target = TestHelpers.RandomValues(12, seed: 10);
        var gradient = new float[12];
        float loss = Losses.MeanSquaredError(prediction, target, gradient);

        float[] overPrediction = (float[])prediction.Clone(), overTarget = (float[])target.Clone();
        Assert.Equal(loss, Losses.MeanSquaredError(overPrediction, target, overPrediction));
        Assert.Equal(loss, Losses.MeanSquaredError(prediction, overTarget, overTarget));
        TestHelpers.AssertBitEqual(gradient, overPrediction, "gradient written over the prediction");
        TestHelpers.AssertBitEqual(gradient, overTarget, "gradient written over the target");

        var shifted = new float[13];
        prediction.CopyTo(shifted, 0);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(
            () => Losses.MeanSquaredError(shifted.AsSpan(0, 12), target, shifted.AsSpan(1))).ParamName);
    }
}
