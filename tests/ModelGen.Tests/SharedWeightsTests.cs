namespace ModelGen.Tests;

/// <summary>
/// <c>ShareWeights()</c> and inference contexts: one read-only snapshot of the weights, any number of contexts
/// (one per thread) with their own workspace and streaming state, the results of the plain model bit for bit.
/// </summary>
public class SharedWeightsTests
{
    /// <summary>One call, or one stream of steps from a reset, with its own inputs.</summary>
    private sealed record Job(string Kind, int Batch, int Steps, float[] Input, float[] H0, float[] C0);

    /// <summary>The inference calls of a model or of a context, so that one job runs the same on either.</summary>
    private abstract class Runner
    {
        public abstract void Forward(ReadOnlySpan<float> input, int batch, Span<float> output,
            ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN);
        public abstract void PredictLast(ReadOnlySpan<float> input, int batch, Span<float> prediction, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0);
        public abstract void PredictSequence(ReadOnlySpan<float> input, int batch, Span<float> predictions, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0);
        public abstract void ResetState(int batch);
        public abstract void Step(ReadOnlySpan<float> input, Span<float> output);
        public abstract void StepPredict(ReadOnlySpan<float> input, Span<float> prediction);
    }

    private sealed class ModelRunner(IRecurrentModel model) : Runner
    {
        public override void Forward(ReadOnlySpan<float> input, int batch, Span<float> output, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN) =>
            model.Forward(input, batch, output, h0, c0, hN, cN);
        public override void PredictLast(ReadOnlySpan<float> input, int batch, Span<float> prediction, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0) =>
            ((IHeadModel)model).PredictLast(input, batch, prediction, h0, c0);
        public override void PredictSequence(ReadOnlySpan<float> input, int batch, Span<float> predictions, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0) =>
            ((IHeadModel)model).PredictSequence(input, batch, predictions, h0, c0);
        public override void ResetState(int batch) => ((IStreamingModel)model).ResetState(batch);
        public override void Step(ReadOnlySpan<float> input, Span<float> output) => ((IStreamingModel)model).Step(input, output);
        public override void StepPredict(ReadOnlySpan<float> input, Span<float> prediction) => ((IStreamingHeadModel)model).StepPredict(input, prediction);
    }

    private sealed class ContextRunner(IInferenceContext context) : Runner
    {
        public override void Forward(ReadOnlySpan<float> input, int batch, Span<float> output, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN) =>
            context.Forward(input, batch, output, h0, c0, hN, cN);
        public override void PredictLast(ReadOnlySpan<float> input, int batch, Span<float> prediction, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0) =>
            ((IHeadInferenceContext)context).PredictLast(input, batch, prediction, h0, c0);
        public override void PredictSequence(ReadOnlySpan<float> input, int batch, Span<float> predictions, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0) =>
            ((IHeadInferenceContext)context).PredictSequence(input, batch, predictions, h0, c0);
        public override void ResetState(int batch) => ((IStreamingInferenceContext)context).ResetState(batch);
        public override void Step(ReadOnlySpan<float> input, Span<float> output) => ((IStreamingInferenceContext)context).Step(input, output);
        public override void StepPredict(ReadOnlySpan<float> input, Span<float> prediction) => ((IStreamingHeadInferenceContext)context).StepPredict(input, prediction);
    }

    /// <summary>Mixed calls of every kind the model has, batch sizes 1–5 and sequence lengths 1–12.</summary>
    private static List<Job> Jobs(IRecurrentModel model, int count, int seed)
    {
        var kinds = new List<string> { "Forward", "ForwardStates" };
        if (model.OutputSize > 0) kinds.AddRange(["PredictLast", "PredictSequence"]);
        if (model.NumDirections == 1) kinds.Add("Stream");
        var random = new Random(seed);
        var jobs = new List<Job>();
        int layers = model.NumLayers * model.NumDirections;
        for (int i = 0; i < count; i++)
        {
            int batch = random.Next(1, 6), steps = random.Next(1, 13);
            float[] h0 = TestHelpers.RandomValues(layers * batch * model.StateSize, seed: 3 * i + 1);
            float[] c0 = model.Cell == CellKind.Lstm ? TestHelpers.RandomValues(layers * batch * model.HiddenSize, seed: 3 * i + 2) : [];
            jobs.Add(new Job(kinds[i % kinds.Count], batch, steps, TestHelpers.RandomInput(model, batch, steps, seed: 3 * i + 3), h0, c0));
        }
        return jobs;
    }

    /// <summary>Runs a job and returns everything it wrote, in order.</summary>
    private static float[] Execute(IRecurrentModel model, Runner runner, Job job)
    {
        int b = job.Batch, t = job.Steps, o = model.OutputSize;
        switch (job.Kind)
        {
            case "Forward":
            {
                var output = new float[b * t * model.OutputFeatures];
                runner.Forward(job.Input, b, output, default, default, default, default);
                return output;
            }
            case "ForwardStates":
            {
                var output = new float[b * t * model.OutputFeatures];
                var hN = new float[job.H0.Length];
                var cN = new float[job.C0.Length];
                runner.Forward(job.Input, b, output, job.H0, job.C0, hN, cN);
                return [.. output, .. hN, .. cN];
            }
            case "PredictLast":
            {
                var prediction = new float[b * o];
                runner.PredictLast(job.Input, b, prediction, job.H0, job.C0);
                return prediction;
            }
            case "PredictSequence":
            {
                var predictions = new float[b * t * o];
                runner.PredictSequence(job.Input, b, predictions, job.H0, job.C0);
                return predictions;
            }
            default:
            {
                // A stream from a reset: Step and (with a head) StepPredict in turn.
                runner.ResetState(b);
                var written = new List<float>();
                for (int step = 0; step < t; step++)
                {
                    float[] x = TestHelpers.TimeStep(job.Input, b, t, model.InputSize, step);
                    float[] y = new float[b * (o > 0 && step % 2 == 1 ? o : model.StateSize)];
                    if (o > 0 && step % 2 == 1) runner.StepPredict(x, y);
                    else runner.Step(x, y);
                    written.AddRange(y);
                }
                return [.. written];
            }
        }
    }

    private static bool BitEqual(float[] a, float[] b) =>
        a.Length == b.Length && a.Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.Select(BitConverter.SingleToInt32Bits));

    public static TheoryData<string> ConcurrentModels() => new(
        "lstm_stacked", "lstm_projection", "lstm_nobias", "gru_three_layers", "rnn_tanh", "rnn_relu",
        "lstm_projection_bidirectional", "gru_stacked_bidirectional");

    [Theory]
    [MemberData(nameof(ConcurrentModels))]
    public void Eight_threads_on_shared_weights_get_the_plain_models_results_bit_for_bit(string name)
    {
        const int Threads = 8, CallsPerThread = 200;
        IRecurrentModel model = TestModels.Create(name);
        model.InitializeParameters(11);
        List<Job> jobs = Jobs(model, count: 48, seed: 5);
        // Sequential calls on the plain model.
        var plain = new ModelRunner(model);
        float[][] expected = [.. jobs.Select(job => Execute(model, plain, job))];

        ISharedWeights weights = model.ShareWeights();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int calls = 0;
        using var start = new Barrier(Threads);
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int thread = t;
            threads[t] = new Thread(() =>
            {
                // All threads start together, and create their contexts at the same time too.
                start.SignalAndWait();
                try
                {
                    var runner = new ContextRunner(weights.CreateContext());
                    for (int i = 0; i < CallsPerThread; i++)
                    {
                        // Each thread its own order, so that different calls overlap.
                        int index = (i * 7 + thread * 13) % jobs.Count;
                        float[] actual = Execute(model, runner, jobs[index]);
                        Interlocked.Increment(ref calls);
                        if (!BitEqual(expected[index], actual) && failures.Count < 10)
                        {
                            failures.Enqueue($"thread {thread}, call {i}: job {index} ({jobs[index].Kind}, B = {jobs[index].Batch}, T = {jobs[index].Steps}) differs");
                        }
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue($"thread {thread}: {e}");
                }
            });
            threads[t].Start();
        }
        foreach (Thread thread in threads) thread.Join();
        Assert.True(failures.IsEmpty, string.Join("\n", failures));
        Assert.Equal(Threads * CallsPerThread, calls);
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void A_context_gives_the_models_results_bit_for_bit(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        model.InitializeParameters(3);
        IInferenceContext context = model.ShareWeights().CreateContext();
        var plain = new ModelRunner(model);
        var shared = new ContextRunner(context);
        foreach (Job job in Jobs(model, count: 20, seed: 9))
        {
            TestHelpers.AssertBitEqual(Execute(model, plain, job), Execute(model, shared, job), $"{job.Kind} B = {job.Batch} T = {job.Steps}");
        }
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void A_context_implements_the_interface_of_its_models_kind(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        ISharedWeights weights = model.ShareWeights();
        IInferenceContext context = weights.CreateContext();
        Assert.Same(weights, context.Weights);
        Assert.Equal(model is IHeadModel, context is IHeadInferenceContext);
        Assert.Equal(model is IStreamingModel, context is IStreamingInferenceContext);
        Assert.Equal(model is IStreamingHeadModel, context is IStreamingHeadInferenceContext);
        Assert.Equal(model.ParameterTable, weights.ParameterTable);
        if (context is IStreamingInferenceContext streaming)
        {
            Assert.Equal(1, streaming.StreamBatchSize);
            Assert.Equal(model.NumLayers * model.StateSize, streaming.HiddenState.Length);
            Assert.Equal(model.Cell == CellKind.Lstm ? model.NumLayers * model.HiddenSize : 0, streaming.CellState.Length);
        }
    }

    [Fact]
    public void A_snapshot_is_taken_at_ShareWeights_and_later_changes_to_the_model_do_not_reach_it()
    {
        const int B = 3, T = 5;
        var model = new LstmStacked();
        model.InitializeParameters(1);
        float[] snapshot = model.Parameters.ToArray();
        float[] input = TestHelpers.RandomInput(model, B, T, seed: 1);
        var expected = new float[B * LstmStacked.OutputSize];
        model.PredictLast(input, B, expected);

        LstmStacked.SharedWeights weights = model.ShareWeights();
        LstmStacked.InferenceContext early = weights.CreateContext();
        var actual = new float[expected.Length];
        early.PredictLast(input, B, actual);
        TestHelpers.AssertBitEqual(expected, actual, "before the changes");

        // Every way the model's parameters change: initialisation, writes through each kind of span, a load, an optimiser step.
        model.InitializeParameters(2);
        model.EditParameters()[0] += 1;
        TestHelpers.Writable(model, model.GetParameter("rnn.weight_hh_l1"))[3] = -2;
        TestHelpers.Writable(model, model.HeadBias)[0] = 5;
        var other = new LstmStacked();
        other.InitializeParameters(3);
        using (var stream = new MemoryStream())
        {
            other.SaveSafetensors(stream);
            stream.Position = 0;
            model.LoadSafetensors(stream);
        }
        model.TrainPredictLast(input, B, new float[expected.Length]);
        model.Backward(TestHelpers.RandomValues(expected.Length, seed: 4));
        new Sgd(LstmStacked.ParameterCount, 0.5f).Step(model);
        var changed = new float[expected.Length];
        model.PredictLast(input, B, changed);
        Assert.False(BitEqual(expected, changed), "the model's predictions must have changed");

        // The snapshot, and every context over it, old or new, still has the weights of ShareWeights time.
        TestHelpers.AssertBitEqual(snapshot, weights.Parameters, "the snapshot");
        TestHelpers.AssertBitEqual(snapshot.AsSpan(LstmStacked.ParameterTable[^1].Offset, LstmStacked.OutputSize), weights.GetParameter("head.bias"), "head.bias");
        early.PredictLast(input, B, actual);
        TestHelpers.AssertBitEqual(expected, actual, "a context made before the changes");
        weights.CreateContext().PredictLast(input, B, actual);
        TestHelpers.AssertBitEqual(expected, actual, "a context made after the changes");

        // A new snapshot has the new parameters.
        model.ShareWeights().CreateContext().PredictLast(input, B, actual);
        TestHelpers.AssertBitEqual(changed, actual, "a new snapshot");
    }

    [Fact]
    public void Contexts_have_their_own_streaming_state()
    {
        var model = new GruBasic();
        model.InitializeParameters(5);
        GruBasic.SharedWeights weights = model.ShareWeights();
        GruBasic.InferenceContext first = weights.CreateContext(), second = weights.CreateContext();
        first.ResetState(2);
        Assert.Equal(2, first.StreamBatchSize);
        Assert.Equal(1, second.StreamBatchSize);
        Assert.Equal(1, model.StreamBatchSize);
        float[] x = TestHelpers.RandomValues(2 * GruBasic.InputSize, seed: 1);
        var y = new float[2 * GruBasic.StateSize];
        first.Step(x, y);
        Assert.Contains(first.HiddenState.ToArray(), v => v != 0);
        Assert.All(second.HiddenState.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(model.HiddenState.ToArray(), v => Assert.Equal(0f, v));
        // The state is readable and writable, as the model's.
        model.ResetState(2);
        first.HiddenState.CopyTo(model.HiddenState);
        var fromModel = new float[2 * GruBasic.OutputSize];
        var fromContext = new float[2 * GruBasic.OutputSize];
        model.StepPredict(x, fromModel);
        first.StepPredict(x, fromContext);
        TestHelpers.AssertBitEqual(fromModel, fromContext, "a step from a copied state");
    }

    /// <summary>Calls that a model rejects, and the same calls on a context: the same exception and message.</summary>
    public static TheoryData<string, int> BadCalls()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in new[] { "lstm_stacked", "gru_basic", "rnn_three_layers_bidirectional" })
        {
            for (int call = 0; call < 11; call++) data.Add(name, call);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadCalls))]
    public void A_context_checks_its_arguments_as_the_model_does(string name, int call)
    {
        IRecurrentModel model = TestModels.Create(name);
        Runner plain = new ModelRunner(model), shared = new ContextRunner(model.ShareWeights().CreateContext());
        int i = model.InputSize, f = model.OutputFeatures, o = model.OutputSize, states = model.NumLayers * model.NumDirections * 2 * model.StateSize;
        var buffer = new float[1000];
        Action<Runner> bad = call switch
        {
            0 => r => r.Forward(new float[2 * i + 1], 2, new float[2 * f], default, default, default, default),
            1 => r => r.Forward(new float[2 * i], 0, new float[2 * f], default, default, default, default),
            2 => r => r.Forward(new float[2 * i], 2, new float[2 * f + 1], default, default, default, default),
            3 => r => r.Forward(buffer.AsSpan(0, 2 * i), 2, buffer.AsSpan(1, 2 * f), default, default, default, default),
            4 => r => r.Forward(new float[2 * i], 2, new float[2 * f], new float[states + 1], default, default, default),
            5 => r => r.Forward(new float[2 * i], 2, new float[2 * f], default, new float[model.NumLayers * model.NumDirections * 2 * model.HiddenSize], default, default),
            6 => r => r.PredictLast(new float[2 * i], 2, new float[2 * o + 1], default, default),
            7 => r => r.PredictSequence(new float[0], 2, new float[0], default, default),
            8 => r => r.ResetState(0),
            9 => r => r.Step(new float[i + 1], new float[model.StateSize]),
            _ => r => r.StepPredict(buffer.AsSpan(0, i), buffer.AsSpan(0, o)),
        };
        if (call == 5 && model.Cell == CellKind.Lstm) return; // c0 of the right shape is fine for an LSTM
        if (call >= 8 && model is not IStreamingModel) return; // a bidirectional model and its contexts have no streaming calls
        Exception? expected = Record.Exception(() => bad(plain));
        Exception? actual = Record.Exception(() => bad(shared));
        Assert.NotNull(expected);
        Assert.NotNull(actual);
        Assert.Equal(expected.GetType(), actual.GetType());
        Assert.Equal(expected.Message, actual.Message);
    }

    [Fact]
    public void Weights_of_different_models_are_different_types()
    {
        // A context of one model cannot be given another's weights: each model has its own ModelSpec, so its own
        // SharedWeights<TSpec> and InferenceContext<TSpec>, even at the same sizes.
        Assert.NotEqual(typeof(LstmStacked.SharedWeights), typeof(LstmBasic.SharedWeights));
        Assert.NotEqual(typeof(ModelGen.SharedWeights<LstmStacked.ModelSpec>), typeof(ModelGen.SharedWeights<LstmBasic.ModelSpec>));
        Assert.Equal(typeof(LstmStacked.SharedWeights), typeof(LstmStacked.InferenceContext).GetProperty("Weights")!.PropertyType);
    }

    [Fact]
    public void Contexts_can_be_created_from_many_threads_at_once()
    {
        var model = new LstmProjection();
        model.InitializeParameters(8);
        LstmProjection.SharedWeights weights = model.ShareWeights();
        float[] input = TestHelpers.RandomInput(model, 2, 4, seed: 2);
        var expected = new float[2 * LstmProjection.OutputSize];
        model.PredictLast(input, 2, expected);
        var results = new float[16][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            results[k] = new float[expected.Length];
            weights.CreateContext().PredictLast(input, 2, results[k]);
        });
        Assert.All(results, result => TestHelpers.AssertBitEqual(expected, result));
        Assert.Equal(LstmProjection.ParameterCount, weights.Parameters.Length);
        Assert.True(weights.MemoryBytes >= 8L * LstmProjection.ParameterCount);
    }
}
