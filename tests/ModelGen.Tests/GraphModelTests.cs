namespace ModelGen.Tests;

/// <summary>A language-model graph: tokens → Embedding → LSTM → Dropout → LayerNorm → Linear, per step; it streams.</summary>
[SequenceModel]
public partial class AllocationLanguageModel
{
    [Embedding(NumEmbeddings = 20, EmbeddingDim = 6, PaddingIdx = 0)] public partial Embedding Embed { get; }
    [Lstm(InputSize = 6, HiddenSize = 10, NumLayers = 2, Dropout = 0.1f)] public partial Lstm Rnn { get; }
    [Dropout(0.2f)] public partial Dropout Drop { get; }
    [LayerNorm(NormalizedShape = 10)] public partial LayerNorm Norm { get; }
    [Linear(InFeatures = 10, OutFeatures = 20)] public partial Linear Head { get; }
}

/// <summary>A classifier graph over features: bidirectional GRU → max over time → Linear → GELU → Linear.</summary>
[SequenceModel]
public partial class AllocationClassifier
{
    [Gru(InputSize = 4, HiddenSize = 8, Bidirectional = true)] public partial Gru Rnn { get; }
    [Reduce(ReduceMode.Max)] public partial Reduction Pool { get; }
    [Linear(InFeatures = 16, OutFeatures = 8)] public partial Linear Fc1 { get; }
    [GELU] public partial Activation Act { get; }
    [Linear(InFeatures = 8, OutFeatures = 3)] public partial Linear Fc2 { get; }
}

/// <summary>Warm calls of generated graphs (forward, training forward, backward, streaming) allocate nothing.</summary>
public class GraphAllocationTests
{
    [Fact]
    public void Warm_calls_of_a_token_graph_allocate_nothing()
    {
        const int Batch = 3, Steps = 7;
        var model = new AllocationLanguageModel();
        model.InitializeParameters(1);
        int[] tokens = [.. Enumerable.Range(0, Batch * Steps).Select(i => 1 + i % 19)];
        int[] lengths = [7, 3, 5];
        var output = new float[Batch * Steps * AllocationLanguageModel.OutputSize];
        var state = new float[AllocationLanguageModel.RecurrentStateSize * Batch];
        var stateGradient = new float[state.Length];
        var upstream = TestHelpers.RandomValues(output.Length, seed: 2);

        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => model.Forward(tokens, Batch, output, lengths)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => model.Forward(tokens, Batch, output, lengths, state, state)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() =>
        {
            model.TrainForward(tokens, Batch, output, lengths, state, state);
            model.Backward(upstream, state, stateGradient);
        }));

        model.ResetState(Batch);
        var stepOutput = new float[Batch * AllocationLanguageModel.OutputSize];
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => model.Step(tokens.AsSpan(0, Batch), stepOutput)));
    }

    [Fact]
    public void Warm_calls_of_a_feature_graph_allocate_nothing()
    {
        const int Batch = 2, Steps = 5;
        var model = new AllocationClassifier();
        model.InitializeParameters(1);
        float[] input = TestHelpers.RandomValues(Batch * Steps * AllocationClassifier.InputSize, seed: 3);
        int[] lengths = [2, 5];
        var output = new float[Batch * AllocationClassifier.OutputSize];
        var inputGradient = new float[input.Length];
        var upstream = TestHelpers.RandomValues(output.Length, seed: 4);

        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => model.Forward(input, Batch, output, lengths)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() =>
        {
            model.TrainForward(input, Batch, output, lengths);
            model.Backward(upstream, inputGradient);
        }));
    }

    [Fact]
    public void Reading_a_graph_s_parameters_and_modules_changes_nothing_and_edits_reach_the_next_forward()
    {
        const int Batch = 2, Steps = 5;
        var model = new AllocationClassifier();
        model.InitializeParameters(5);
        float[] input = TestHelpers.RandomValues(Batch * Steps * AllocationClassifier.InputSize, seed: 6);
        var before = new float[Batch * AllocationClassifier.OutputSize];
        model.Forward(input, Batch, before);

        Assert.Equal(AllocationClassifier.OutputSize, model.Fc2.Bias.Length);
        Assert.Equal("Linear(in_features=8, out_features=3, bias=True)", model.Fc2.ToString());
        var again = new float[before.Length];
        model.Forward(input, Batch, again);
        Assert.Equal(before, again);

        TestHelpers.Writable(model, model.Fc2.Bias)[0] += 1f;
        model.Forward(input, Batch, again);
        Assert.Equal(before[0] + 1f, again[0], 5);
        Assert.Equal(before[1], again[1]);
    }
}

// The wrong constant-length buffers below are on purpose: the run-time checks are under test (MG0017 would stop the build).
#pragma warning disable MG0017

/// <summary>Bad arguments of generated graph calls: an exception naming the argument and the expected shape, nothing written.</summary>
public class GraphArgumentTests
{
    private static (AllocationClassifier Model, float[] Input, float[] Output) Classifier()
    {
        var model = new AllocationClassifier();
        model.InitializeParameters(1);
        return (model, TestHelpers.RandomValues(2 * 5 * AllocationClassifier.InputSize, seed: 1), new float[2 * AllocationClassifier.OutputSize]);
    }

    [Fact]
    public void A_wrong_output_length_names_output_and_its_shape_and_writes_nothing()
    {
        (AllocationClassifier model, float[] input, _) = Classifier();
        var output = new float[7];
        Array.Fill(output, 42f);
        var error = Assert.Throws<ArgumentException>(() => model.Forward(input, 2, output));
        Assert.Equal("output", error.ParamName);
        Assert.Contains("[B, 3] = [2, 3]", error.Message, StringComparison.Ordinal);
        Assert.Contains("got 7", error.Message, StringComparison.Ordinal);
        Assert.All(output, value => Assert.Equal(42f, value));
    }

    [Fact]
    public void An_input_that_is_no_whole_number_of_steps_names_input()
    {
        (AllocationClassifier model, _, float[] output) = Classifier();
        var error = Assert.Throws<ArgumentException>(() => model.Forward(new float[2 * 4 + 1], 2, output));
        Assert.Equal("input", error.ParamName);
        Assert.Contains("[B, T, 4]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lengths_must_be_one_per_row_and_within_the_steps()
    {
        (AllocationClassifier model, float[] input, float[] output) = Classifier();
        Assert.Equal("lengths", Assert.Throws<ArgumentException>(() => model.Forward(input, 2, output, [5])).ParamName);
        Assert.Equal("lengths", Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(input, 2, output, [5, 6])).ParamName);
        Assert.Equal("lengths", Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(input, 2, output, [0, 5])).ParamName);
    }

    [Fact]
    public void States_must_have_the_state_size_and_tokens_the_vocabulary()
    {
        (AllocationClassifier model, float[] input, float[] output) = Classifier();
        var error = Assert.Throws<ArgumentException>(() => model.Forward(input, 2, output, initialState: new float[3]));
        Assert.Equal("initialState", error.ParamName);
        Assert.Contains($"[{AllocationClassifier.RecurrentStateSize} · 2]", error.Message, StringComparison.Ordinal);

        var language = new AllocationLanguageModel();
        var tokens = new int[] { 1, 2, 20, 3 };
        var outOfRange = Assert.Throws<ArgumentOutOfRangeException>(() => language.Forward(tokens, 1, new float[4 * AllocationLanguageModel.OutputSize]));
        Assert.Equal("tokens", outOfRange.ParamName);
        Assert.Contains("tokens[2] = 20", outOfRange.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backward_needs_a_training_forward_and_an_upstream_of_its_shape()
    {
        (AllocationClassifier model, float[] input, float[] output) = Classifier();
        Assert.Throws<InvalidOperationException>(() => model.Backward(output));
        model.TrainForward(input, 2, output);
        Assert.Equal("upstream", Assert.Throws<ArgumentException>(() => model.Backward(new float[5])).ParamName);
    }
}
