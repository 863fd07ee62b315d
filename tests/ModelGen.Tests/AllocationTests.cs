namespace ModelGen.Tests;

/// <summary>
/// Warm calls allocate nothing: the workspace grows once, on the first call that needs more rows (B·T) than
/// any before, and is reused from then on.
/// </summary>
public class AllocationTests
{
    private const int Batch = 4;
    private const int Steps = 6;

    /// <summary>Bytes allocated on this thread by one call of <paramref name="call"/> after two warm-up calls.</summary>
    private static long WarmAllocations(Action call)
    {
        call();
        call();
        return AllocatedBy(call);
    }

    private static long AllocatedBy(Action call)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        call();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>The calls of every method, each with buffers allocated up front.</summary>
    private static IEnumerable<(string Name, Action Call)> Calls(IStreamingHeadModel model)
    {
        model.InitializeParameters(1);
        int layers = model.NumLayers, hout = model.StateSize, outputs = model.OutputSize;
        bool lstm = model.Cell == CellKind.Lstm;
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        var output = new float[Batch * Steps * hout];
        float[] h0 = TestHelpers.RandomValues(layers * Batch * hout, seed: 2);
        float[] c0 = lstm ? TestHelpers.RandomValues(layers * Batch * model.HiddenSize, seed: 3) : [];
        var hN = new float[h0.Length];
        var cN = new float[c0.Length];
        var last = new float[Batch * outputs];
        var sequence = new float[Batch * Steps * outputs];
        float[] stepInput = TestHelpers.RandomInput(model, Batch, 1, seed: 4);
        var stepOutput = new float[Batch * hout];
        var stepPrediction = new float[Batch * outputs];

        yield return ("Forward", () => model.Forward(input, Batch, output, default, default, default, default));
        yield return ("Forward with h0/c0/hN/cN", () => model.Forward(input, Batch, output, h0, c0, hN, cN));
        yield return ("PredictLast", () => model.PredictLast(input, Batch, last));
        yield return ("PredictLast with h0/c0", () => model.PredictLast(input, Batch, last, h0, c0));
        yield return ("PredictSequence", () => model.PredictSequence(input, Batch, sequence));
        yield return ("PredictSequence with h0/c0", () => model.PredictSequence(input, Batch, sequence, h0, c0));
        yield return ("ResetState (same batch)", () => model.ResetState(Batch));
        yield return ("Step", () => model.Step(stepInput, stepOutput));
        yield return ("StepPredict", () => model.StepPredict(stepInput, stepPrediction));
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
