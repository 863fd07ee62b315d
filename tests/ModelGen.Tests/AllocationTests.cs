using static ModelGen.Tests.AllocationMeasurement;

namespace ModelGen.Tests;

/// <summary>
/// Warm calls allocate nothing: the workspace grows once, on the first call that needs more rows (B·T) than
/// any before, and is reused from then on.
/// </summary>
public class AllocationTests
{
    private const int Batch = 4;
    private const int Steps = 6;

    /// <summary>The calls of every method, each with buffers allocated up front.</summary>
    private static IEnumerable<(string Name, Action Call)> Calls(IStreamingHeadModel model)
    {
        model.InitializeParameters(1);
        var b = new InferenceBuffers(model, Batch, Steps);

        yield return ("Forward", () => model.Forward(b.Input, Batch, b.Output, default, default, default, default));
        yield return ("Forward with h0/c0/hN/cN", () => model.Forward(b.Input, Batch, b.Output, b.H0, b.C0, b.HN, b.CN));
        yield return ("PredictLast", () => model.PredictLast(b.Input, Batch, b.Last));
        yield return ("PredictLast with h0/c0", () => model.PredictLast(b.Input, Batch, b.Last, b.H0, b.C0));
        yield return ("PredictSequence", () => model.PredictSequence(b.Input, Batch, b.Sequence));
        yield return ("PredictSequence with h0/c0", () => model.PredictSequence(b.Input, Batch, b.Sequence, b.H0, b.C0));
        yield return ("ResetState (same batch)", () => model.ResetState(Batch));
        yield return ("Step", () => model.Step(b.StepInput, b.StepOutput));
        yield return ("StepPredict", () => model.StepPredict(b.StepInput, b.StepPrediction));
    }

    [Theory]
    [InlineData("lstm_stacked")]
    [InlineData("lstm_projection")]
    [InlineData("gru_basic")]
    [InlineData("gru_three_layers")]
    [InlineData("rnn_tanh")]
    public void Warm_calls_allocate_nothing(string name)
    {
        var model = (IStreamingHeadModel)TestModels.Create(name);
        model.ResetState(Batch);
        var failures = new List<string>();
        foreach ((string call, Action action) in Calls(model))
        {
            long bytes = WarmAllocations(action);
            if (bytes != 0) failures.Add($"{call}: {bytes} bytes");
        }
        Assert.True(failures.Count == 0, $"{name} allocated on warm calls: {string.Join("; ", failures)}");
    }

    [Fact]
    public void Warm_calls_of_a_bidirectional_model_allocate_nothing()
    {
        var model = new LstmProjectionBidirectional();
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        var output = new float[Batch * Steps * LstmProjectionBidirectional.OutputFeatures];
        var hN = new float[4 * Batch * LstmProjectionBidirectional.StateSize];
        var cN = new float[4 * Batch * LstmProjectionBidirectional.HiddenSize];
        var last = new float[Batch * LstmProjectionBidirectional.OutputSize];
        Assert.Equal(0, WarmAllocations(() => model.Forward(input, Batch, output, hN, cN, hN, cN)));
        Assert.Equal(0, WarmAllocations(() => model.PredictLast(input, Batch, last)));
    }

    [Fact]
    public void Workspace_grows_once_for_a_longer_sequence_and_never_shrinks()
    {
        var model = new LstmStacked();
        float[] shortInput = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        float[] longInput = TestHelpers.RandomInput(model, Batch, 3 * Steps, seed: 2);
        var shortOutput = new float[Batch * Steps * LstmStacked.OutputFeatures];
        var longOutput = new float[Batch * 3 * Steps * LstmStacked.OutputFeatures];
        void Short() => model.Forward(shortInput, Batch, shortOutput);
        void Long() => model.Forward(longInput, Batch, longOutput);

        Assert.Equal(0, WarmAllocations(Short));
        Assert.True(AllocatedBy(Long) > 0, "the first call with three times the rows must grow the workspace");
        Assert.Equal(0, AllocatedBy(Long));
        Assert.Equal(0, AllocatedBy(Short));
    }

    [Fact]
    public void Workspace_grows_once_for_a_bigger_batch()
    {
        var model = new GruBasic();
        float[] small = TestHelpers.RandomInput(model, 1, Steps, seed: 1);
        float[] big = TestHelpers.RandomInput(model, 2 * Batch, Steps, seed: 2);
        var smallPrediction = new float[GruBasic.OutputSize];
        var bigPrediction = new float[2 * Batch * GruBasic.OutputSize];
        void Small() => model.PredictLast(small, 1, smallPrediction);
        void Big() => model.PredictLast(big, 2 * Batch, bigPrediction);

        Assert.Equal(0, WarmAllocations(Small));
        Assert.True(AllocatedBy(Big) > 0, "the first call with a bigger batch must grow the workspace");
        Assert.Equal(0, AllocatedBy(Big));
        Assert.Equal(0, AllocatedBy(Small));
    }

    [Fact]
    public void Streaming_state_is_reallocated_only_when_its_batch_changes()
    {
        var model = new RnnTanh();
        model.ResetState(Batch);
        var input = new float[2 * Batch * RnnTanh.InputSize];
        var output = new float[2 * Batch * RnnTanh.StateSize];
        Assert.Equal(0, AllocatedBy(() => model.ResetState(Batch)));
        Assert.True(AllocatedBy(() => model.ResetState(2 * Batch)) > 0, "a bigger streaming batch needs a bigger state");
        Assert.True(AllocatedBy(() => model.Step(input, output)) > 0, "the first step of a bigger batch grows the workspace");
        Assert.Equal(0, AllocatedBy(() => model.Step(input, output)));
    }
}
