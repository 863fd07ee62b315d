namespace ModelGen.Tests;

/// <summary>
/// Features → 2-layer LSTM with a projection → GRU → LayerNorm → Linear, per step: three recurrent layers of sizes
/// that are not whole vectors (padding units in every cell), the upper layers reading the layer below.
/// </summary>
[SequenceModel]
public partial class StreamingFeatureGraph
{
    [Lstm(InputSize = 5, HiddenSize = 10, NumLayers = 2, ProjSize = 6)] public partial Lstm Encoder { get; }
    [Gru(InputSize = 6, HiddenSize = 7)] public partial Gru Decoder { get; }
    [LayerNorm(NormalizedShape = 7)] public partial LayerNorm Norm { get; }
    [Linear(InFeatures = 7, OutFeatures = 3)] public partial Linear Head { get; }
}

/// <summary>Tokens → Embedding → tanh RNN → Linear over the vocabulary: a language model that generates one token per step.</summary>
[SequenceModel]
public partial class StreamingTokenGraph
{
    [Embedding(NumEmbeddings = 12, EmbeddingDim = 6)] public partial Embedding Embed { get; }
    [Rnn(InputSize = 6, HiddenSize = 9)] public partial Rnn Rnn { get; }
    [Linear(InFeatures = 9, OutFeatures = 12)] public partial Linear Head { get; }
}

/// <summary>
/// A graph's <c>Step</c> of one sequence runs each recurrent module's streaming kernel rather than the general
/// forward: its steps must give the very bits of one forward over the whole sequence from the same state, and the
/// same state after it, whatever the arena held before.
/// </summary>
public class GraphStreamingTests
{
    private const int Steps = 6;

    [Fact]
    public void Steps_of_a_feature_graph_give_the_bits_of_a_forward_over_the_sequence()
    {
        var model = new StreamingFeatureGraph();
        model.InitializeParameters(11);
        int inputSize = StreamingFeatureGraph.InputSize, outputSize = StreamingFeatureGraph.OutputSize;
        float[] input = TestHelpers.RandomValues(Steps * inputSize, seed: 4);
        // A subnormal input: both paths read it flushed to zero.
        input[1] = 1e-40f;
        float[] initialState = TestHelpers.RandomValues(StreamingFeatureGraph.RecurrentStateSize, seed: 5);

        var expected = new float[Steps * outputSize];
        var finalState = new float[initialState.Length];
        model.Forward(input, 1, expected, initialState: initialState, finalState: finalState);

        // A forward over a bigger batch first leaves the arena full of other values.
        FillArena(model);
        var streamed = new float[expected.Length];
        model.ResetState();
        initialState.CopyTo(model.StreamingState);
        for (int t = 0; t < Steps; t++) model.Step(input.AsSpan(t * inputSize, inputSize), streamed.AsSpan(t * outputSize, outputSize));

        TestHelpers.AssertBitEqual(expected, streamed, "Step outputs");
        TestHelpers.AssertBitEqual(finalState, model.StreamingState, "state after the steps");
    }

    [Fact]
    public void Steps_of_a_token_graph_give_the_bits_of_a_forward_over_the_sequence()
    {
        var model = new StreamingTokenGraph();
        model.InitializeParameters(12);
        int[] tokens = [3, 0, 11, 7, 7, 2];
        int outputSize = StreamingTokenGraph.OutputSize;
        var expected = new float[tokens.Length * outputSize];
        var finalState = new float[StreamingTokenGraph.RecurrentStateSize];
        model.Forward(tokens, 1, expected, finalState: finalState);

        var streamed = new float[expected.Length];
        model.ResetState();
        for (int t = 0; t < tokens.Length; t++) model.Step(tokens.AsSpan(t, 1), streamed.AsSpan(t * outputSize, outputSize));

        TestHelpers.AssertBitEqual(expected, streamed, "Step logits");
        TestHelpers.AssertBitEqual(finalState, model.StreamingState, "state after the steps");
    }

    [Fact]
    public void A_one_step_forward_of_one_sequence_matches_the_first_step_of_a_longer_one()
    {
        // Forward with B = 1 and T = 1 takes the streaming kernel too, with an initial state or without.
        var model = new StreamingFeatureGraph();
        model.InitializeParameters(13);
        int inputSize = StreamingFeatureGraph.InputSize, outputSize = StreamingFeatureGraph.OutputSize;
        float[] input = TestHelpers.RandomValues(2 * inputSize, seed: 6);
        var whole = new float[2 * outputSize];
        model.Forward(input, 1, whole);

        FillArena(model);
        var first = new float[outputSize];
        var state = new float[StreamingFeatureGraph.RecurrentStateSize];
        model.Forward(input.AsSpan(0, inputSize), 1, first, finalState: state);
        var second = new float[outputSize];
        model.Forward(input.AsSpan(inputSize, inputSize), 1, second, initialState: state, finalState: state);

        TestHelpers.AssertBitEqual(whole.AsSpan(0, outputSize), first, "first step");
        TestHelpers.AssertBitEqual(whole.AsSpan(outputSize), second, "second step, from the carried state");
    }

    [Fact]
    public void Warm_steps_of_one_sequence_allocate_nothing()
    {
        var model = new StreamingFeatureGraph();
        model.InitializeParameters(14);
        float[] input = TestHelpers.RandomValues(StreamingFeatureGraph.InputSize, seed: 7);
        var output = new float[StreamingFeatureGraph.OutputSize];
        model.ResetState();
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => model.Step(input, output)));
    }

    [Fact]
    public void A_step_into_or_from_the_streaming_state_is_rejected_before_it_changes_the_state()
    {
        // The state holds the LSTM's h and c [2, 1, 6], [2, 1, 10] and the GRU's h [1, 1, 7]: 39 floats.
        var model = new StreamingFeatureGraph();
        model.InitializeParameters(15);
        model.ResetState();
        TestHelpers.RandomValues(StreamingFeatureGraph.RecurrentStateSize, seed: 8).CopyTo(model.StreamingState);
        float[] state = model.StreamingState.ToArray();
        float[] input = TestHelpers.RandomValues(StreamingFeatureGraph.InputSize, seed: 9);

        AssertRejected(() => model.Step(input, model.StreamingState[..StreamingFeatureGraph.OutputSize]), "output", "StreamingState");
        AssertRejected(() => model.Step(model.StreamingState[20..(20 + StreamingFeatureGraph.InputSize)], new float[StreamingFeatureGraph.OutputSize]),
            "StreamingState", "input");
        TestHelpers.AssertBitEqual(state, model.StreamingState, "state after the rejected steps");

        static void AssertRejected(Action step, string written, string read)
        {
            var exception = Assert.Throws<ArgumentException>(step);
            Assert.Equal(written, exception.ParamName);
            Assert.Contains($"{written} overlaps {read}", exception.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_forward_whose_output_overlaps_its_initial_state_is_rejected_before_it_writes()
    {
        // The last module writes the output while the recurrent modules' final state goes straight to its span: the
        // output may not overlap the initial state it would overwrite.
        var model = new StreamingFeatureGraph();
        model.InitializeParameters(16);
        float[] input = TestHelpers.RandomValues(StreamingFeatureGraph.InputSize, seed: 10);
        float[] both = TestHelpers.RandomValues(StreamingFeatureGraph.RecurrentStateSize + StreamingFeatureGraph.OutputSize, seed: 11);
        float[] before = [.. both];
        var finalState = new float[StreamingFeatureGraph.RecurrentStateSize];

        var exception = Assert.Throws<ArgumentException>(() => model.Forward(input, 1, both.AsSpan(0, StreamingFeatureGraph.OutputSize),
            initialState: both.AsSpan(1, StreamingFeatureGraph.RecurrentStateSize), finalState: finalState));

        Assert.Equal("output", exception.ParamName);
        Assert.Contains("output overlaps initialState", exception.Message, StringComparison.Ordinal);
        TestHelpers.AssertBitEqual(before, both, "output and initial state after the rejected call");
        Assert.All(finalState, value => Assert.Equal(0f, value));
    }

    /// <summary>Runs a forward of 3 sequences of 9 steps of large values, which writes far more of the arena than a step uses.</summary>
    private static void FillArena(StreamingFeatureGraph model)
    {
        float[] input = TestHelpers.RandomValues(3 * 9 * StreamingFeatureGraph.InputSize, seed: 99);
        for (int i = 0; i < input.Length; i++) input[i] *= 1e3f;
        model.Forward(input, 3, new float[3 * 9 * StreamingFeatureGraph.OutputSize]);
    }
}
