using Xunit.Abstractions;
using static ModelGen.Tests.AllocationMeasurement;

namespace ModelGen.Tests;

/// <summary>
/// Warm calls of an inference context allocate nothing, as the model's (see <see cref="AllocationTests"/>): its
/// workspace grows once, on the first call that needs more rows (B·T) than any before, and is its own.
/// </summary>
public class ContextAllocationTests(ITestOutputHelper output)
{
    private const int Batch = 4;
    private const int Steps = 6;

    /// <summary>Every call of a streaming context with a head, through its interface, with buffers allocated up front.</summary>
    private static IEnumerable<(string Name, Action Call)> Calls(IRecurrentModel model, IStreamingHeadInferenceContext context)
    {
        var b = new InferenceBuffers(model, Batch, Steps);

        yield return ("Forward", () => context.Forward(b.Input, Batch, b.Output, default, default, default, default));
        yield return ("Forward with h0/c0/hN/cN", () => context.Forward(b.Input, Batch, b.Output, b.H0, b.C0, b.HN, b.CN));
        yield return ("PredictLast", () => context.PredictLast(b.Input, Batch, b.Last));
        yield return ("PredictLast with h0/c0", () => context.PredictLast(b.Input, Batch, b.Last, b.H0, b.C0));
        yield return ("PredictSequence", () => context.PredictSequence(b.Input, Batch, b.Sequence));
        yield return ("PredictSequence with h0/c0", () => context.PredictSequence(b.Input, Batch, b.Sequence, b.H0, b.C0));
        yield return ("ResetState (same batch)", () => context.ResetState(Batch));
        yield return ("Step", () => context.Step(b.StepInput, b.StepOutput));
        yield return ("StepPredict", () => context.StepPredict(b.StepInput, b.StepPrediction));
    }

    [Theory]
    [InlineData("lstm_stacked")]
    [InlineData("lstm_projection")]
    [InlineData("gru_basic")]
    [InlineData("gru_three_layers")]
    [InlineData("rnn_tanh")]
    public void Warm_context_calls_allocate_nothing(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        model.InitializeParameters(1);
        var context = (IStreamingHeadInferenceContext)model.ShareWeights().CreateContext();
        context.ResetState(Batch);
        var failures = new List<string>();
        foreach ((string call, Action action) in Calls(model, context))
        {
            long bytes = WarmAllocations(action);
            output.WriteLine($"{name} {call}: {bytes} bytes");
            if (bytes != 0) failures.Add($"{call}: {bytes} bytes");
        }
        Assert.True(failures.Count == 0, $"{name} allocated on warm context calls: {string.Join("; ", failures)}");
    }

    [Fact]
    public void Warm_calls_of_a_bidirectional_models_context_allocate_nothing()
    {
        var model = new LstmProjectionBidirectional();
        LstmProjectionBidirectional.InferenceContext context = model.ShareWeights().CreateContext();
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        var sequenceOutput = new float[Batch * Steps * LstmProjectionBidirectional.OutputFeatures];
        var hN = new float[4 * Batch * LstmProjectionBidirectional.StateSize];
        var cN = new float[4 * Batch * LstmProjectionBidirectional.HiddenSize];
        var last = new float[Batch * LstmProjectionBidirectional.OutputSize];
        var predictions = new float[Batch * Steps * LstmProjectionBidirectional.OutputSize];
        Assert.Equal(0, WarmAllocations(() => context.Forward(input, Batch, sequenceOutput, hN, cN, hN, cN)));
        Assert.Equal(0, WarmAllocations(() => context.PredictLast(input, Batch, last)));
        Assert.Equal(0, WarmAllocations(() => context.PredictSequence(input, Batch, predictions)));
    }

    [Fact]
    public void Each_context_grows_its_own_workspace_once_and_shares_none()
    {
        var model = new LstmStacked();
        model.InitializeParameters(2);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        float[] longInput = TestHelpers.RandomInput(model, Batch, 3 * Steps, seed: 2);
        var prediction = new float[Batch * LstmStacked.OutputSize];
        LstmStacked.SharedWeights weights = model.ShareWeights();
        LstmStacked.InferenceContext first = weights.CreateContext(), second = weights.CreateContext();

        // The model's warm workspace is not the contexts': each context's first call grows its own.
        Assert.Equal(0, WarmAllocations(() => model.PredictLast(input, Batch, prediction)));
        Assert.True(AllocatedBy(() => first.PredictLast(input, Batch, prediction)) > 0, "a new context's first call grows its workspace");
        Assert.True(AllocatedBy(() => second.PredictLast(input, Batch, prediction)) > 0, "so does another's");
        Assert.Equal(0, AllocatedBy(() => first.PredictLast(input, Batch, prediction)));
        Assert.True(AllocatedBy(() => first.PredictLast(longInput, Batch, prediction)) > 0, "three times the rows grow the workspace");
        Assert.Equal(0, AllocatedBy(() => first.PredictLast(longInput, Batch, prediction)));
        Assert.Equal(0, AllocatedBy(() => first.PredictLast(input, Batch, prediction)));
        // Interleaved warm calls of two contexts allocate nothing either.
        Assert.Equal(0, AllocatedBy(() =>
        {
            second.PredictLast(input, Batch, prediction);
            first.PredictLast(longInput, Batch, prediction);
            second.PredictLast(input, Batch, prediction);
        }));
    }

    [Fact]
    public void A_contexts_streaming_state_is_reallocated_only_when_its_batch_changes()
    {
        var model = new RnnTanh();
        RnnTanh.InferenceContext context = model.ShareWeights().CreateContext();
        context.ResetState(Batch);
        var input = new float[2 * Batch * RnnTanh.InputSize];
        var stepOutput = new float[2 * Batch * RnnTanh.StateSize];
        Assert.Equal(0, AllocatedBy(() => context.ResetState(Batch)));
        Assert.True(AllocatedBy(() => context.ResetState(2 * Batch)) > 0, "a bigger streaming batch needs a bigger state");
        Assert.True(AllocatedBy(() => context.Step(input, stepOutput)) > 0, "the first step of a bigger batch grows the workspace");
        Assert.Equal(0, AllocatedBy(() => context.Step(input, stepOutput)));
    }
}
