using Xunit.Sdk;

namespace ModelGen.Tests;

/// <summary>
/// Training steps on the declared models: warm steps allocate nothing, training is deterministic, Backward checks
/// its preconditions and arguments, gradients accumulate as PyTorch's <c>.grad</c> does, and the training record
/// is independent of the inference workspace.
/// </summary>
public class TrainingStepTests
{
    private const int Batch = 3;
    private const int Steps = 5;

    public static TheoryData<string> Models() => TestModels.All();

    private static IHeadModel Create(string name, ulong seed = 1)
    {
        var model = (IHeadModel)TestModels.Create(name);
        model.InitializeParameters(seed);
        return model;
    }

    private static float[] H0(IRecurrentModel model, int batch, int seed) =>
        TestHelpers.RandomValues(model.NumLayers * model.NumDirections * batch * model.StateSize, seed);

    private static float[] C0(IRecurrentModel model, int batch, int seed) =>
        model.Cell == CellKind.Lstm
            ? TestHelpers.RandomValues(model.NumLayers * model.NumDirections * batch * model.HiddenSize, seed)
            : [];

    private static int[] Classes(int count, int classes, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => random.Next(classes))];
    }

    /// <summary>Bytes allocated on this thread by the third of three calls.</summary>
    private static long ThirdCallAllocations(Action step)
    {
        step();
        step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        step();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    // ---- Allocations -------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Models))]
    public void Warm_regression_step_allocates_nothing(string name)
    {
        IHeadModel model = Create(name);
        var optimizer = new Adam(model.ParameterCount, 1e-3f);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        float[] target = TestHelpers.RandomValues(Batch * model.OutputSize, seed: 2);
        var prediction = new float[target.Length];
        var gradient = new float[target.Length];

        long bytes = ThirdCallAllocations(() =>
        {
            model.TrainPredictLast(input, Batch, prediction);
            Losses.MeanSquaredError(prediction, target, gradient);
            model.ZeroGradients();
            model.Backward(gradient, default, default, default);
            optimizer.Step(model);
        });

        Assert.Equal(0, bytes);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Warm_sequence_classification_step_with_input_gradient_allocates_nothing(string name)
    {
        IHeadModel model = Create(name);
        var optimizer = new AdamW(model.ParameterCount, 1e-3f);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        int[] targets = Classes(Batch * Steps, model.OutputSize, seed: 2);
        var logits = new float[Batch * Steps * model.OutputSize];
        var gradient = new float[logits.Length];
        var inputGradient = new float[input.Length];

        long bytes = ThirdCallAllocations(() =>
        {
            model.TrainPredictSequence(input, Batch, logits);
            Losses.CrossEntropy(logits, model.OutputSize, targets, gradient);
            model.ZeroGradients();
            model.Backward(gradient, inputGradient, default, default);
            GradientClipping.ClipByNorm(model.Gradients, 1f);
            optimizer.Step(model);
        });

        Assert.Equal(0, bytes);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Warm_forward_and_backward_with_initial_state_gradients_allocates_nothing(string name)
    {
        IHeadModel model = Create(name);
        var optimizer = new Sgd(model.ParameterCount, 1e-2f, momentum: 0.9f);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        float[] h0 = H0(model, Batch, seed: 2), c0 = C0(model, Batch, seed: 3);
        var output = new float[Batch * Steps * model.OutputFeatures];
        float[] upstream = TestHelpers.RandomValues(output.Length, seed: 4);
        var hN = new float[h0.Length];
        var cN = new float[c0.Length];
        var inputGradient = new float[input.Length];
        var h0Gradient = new float[h0.Length];
        var c0Gradient = new float[c0.Length];

        long bytes = ThirdCallAllocations(() =>
        {
            model.TrainForward(input, Batch, output, h0, c0, hN, cN);
            model.ZeroGradients();
            model.Backward(upstream, inputGradient, h0Gradient, c0Gradient);
            optimizer.Step(model);
        });

        Assert.Equal(0, bytes);
    }

    // ---- Determinism -------------------------------------------------------------------------------------------

    /// <summary>20 Adam steps of MSE on PredictLast from a zero state, on a fixed batch; returns the parameters.</summary>
    private static float[] Train(IHeadModel model, ulong seed)
    {
        model.InitializeParameters(seed);
        model.ZeroGradients();
        var optimizer = new Adam(model.ParameterCount, 1e-2f);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 7);
        float[] target = TestHelpers.RandomValues(Batch * model.OutputSize, seed: 8);
        var prediction = new float[target.Length];
        var gradient = new float[target.Length];
        for (int step = 0; step < 20; step++)
        {
            model.TrainPredictLast(input, Batch, prediction);
            Losses.MeanSquaredError(prediction, target, gradient);
            model.ZeroGradients();
            model.Backward(gradient, default, default, default);
            optimizer.Step(model);
        }
        return model.Parameters.ToArray();
    }

    /// <summary>Leaves non-zero values everywhere in the model's workspaces, the record and the gradients.</summary>
    private static void Dirty(IHeadModel model)
    {
        model.InitializeParameters(99);
        const int batch = 2 * Batch, steps = 2 * Steps;
        float[] input = TestHelpers.RandomInput(model, batch, steps, seed: 98);
        float[] h0 = H0(model, batch, seed: 97), c0 = C0(model, batch, seed: 96);
        var predictions = new float[batch * steps * model.OutputSize];
        model.TrainPredictSequence(input, batch, predictions, h0, c0);
        model.Backward(TestHelpers.RandomValues(predictions.Length, seed: 95), new float[input.Length], new float[h0.Length], new float[c0.Length]);
        model.PredictLast(input, batch, new float[batch * model.OutputSize], h0, c0);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Same_seed_gives_bit_identical_parameters_after_20_Adam_steps(string name)
    {
        float[] first = Train((IHeadModel)TestModels.Create(name), seed: 5);
        float[] second = Train((IHeadModel)TestModels.Create(name), seed: 5);
        TestHelpers.AssertBitEqual(first, second, $"{name} parameters of the second run");

        // A model whose workspaces, training record and gradients hold the values of a bigger earlier run must
        // train exactly alike: nothing stale may leak into a step.
        IHeadModel used = (IHeadModel)TestModels.Create(name);
        Dirty(used);
        TestHelpers.AssertBitEqual(first, Train(used, seed: 5), $"{name} parameters of a run on a used model");

        // And the steps did something: the parameters moved away from their initial values.
        IHeadModel fresh = Create(name, seed: 5);
        Assert.NotEqual(fresh.Parameters.ToArray(), first);
    }

    // ---- Backward's checks -------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Models))]
    public void Backward_before_a_training_forward_throws(string name)
    {
        IHeadModel model = Create(name);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        var upstream = new float[Batch * model.OutputSize];

        Assert.Throws<InvalidOperationException>(() => model.Backward(upstream, default, default, default));

        // An inference forward records nothing.
        model.PredictLast(input, Batch, new float[Batch * model.OutputSize]);
        model.Forward(input, Batch, new float[Batch * Steps * model.OutputFeatures], default, default, default, default);
        Assert.Throws<InvalidOperationException>(() => model.Backward(upstream, default, default, default));
        Assert.All(model.Gradients.ToArray(), g => Assert.Equal(0f, g));
    }

    [Theory]
    [InlineData("lstm_projection_bidirectional")]
    [InlineData("gru_three_layers")]
    [InlineData("rnn_relu")]
    public void Backward_with_an_upstream_of_the_wrong_shape_names_upstream_and_the_expected_shape(string name)
    {
        IHeadModel model = Create(name);
        int outputs = model.OutputSize, features = model.OutputFeatures;
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);

        model.TrainPredictLast(input, Batch, new float[Batch * outputs]);
        AssertUpstreamRejected(model, Batch * outputs + 1, $"[B, O] = [{Batch}, {outputs}]");
        AssertUpstreamRejected(model, Batch * Steps * outputs, $"[B, O] = [{Batch}, {outputs}]");

        model.TrainPredictSequence(input, Batch, new float[Batch * Steps * outputs]);
        AssertUpstreamRejected(model, Batch * outputs, $"[B, T, O] = [{Batch}, {Steps}, {outputs}]");

        model.TrainForward(input, Batch, new float[Batch * Steps * features], default, default, default, default);
        AssertUpstreamRejected(model, Batch * Steps * outputs, $"[B, T, D*Hout] = [{Batch}, {Steps}, {features}]");
        AssertUpstreamRejected(model, 0, $"[B, T, D*Hout] = [{Batch}, {Steps}, {features}]");

        // A rejected call adds nothing.
        Assert.All(model.Gradients.ToArray(), g => Assert.Equal(0f, g));
    }

    private static void AssertUpstreamRejected(IHeadModel model, int length, string expectedShape)
    {
        var error = Assert.Throws<ArgumentException>(() => model.Backward(new float[length], default, default, default));
        Assert.Equal("upstream", error.ParamName);
        Assert.Contains(expectedShape, error.Message, StringComparison.Ordinal);
        Assert.Contains(length.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    // ---- Accumulation ------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Models))]
    public void Gradients_accumulate_over_backward_calls_and_ZeroGradients_resets_them(string name)
    {
        IHeadModel model = Create(name);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        float[] h0 = H0(model, Batch, seed: 2), c0 = C0(model, Batch, seed: 3);
        float[] upstream = TestHelpers.RandomValues(Batch * model.OutputSize, seed: 4);
        model.TrainPredictLast(input, Batch, new float[upstream.Length], h0, c0);

        model.ZeroGradients();
        var inputGradient = new float[input.Length];
        var h0Gradient = new float[h0.Length];
        var c0Gradient = new float[c0.Length];
        model.Backward(upstream, inputGradient, h0Gradient, c0Gradient);
        float[] once = model.Gradients.ToArray();
        Assert.Contains(once, g => g != 0);

        // The second call adds the same gradient again; the input and state gradients are overwritten, not added.
        var inputGradient2 = new float[input.Length];
        var h0Gradient2 = new float[h0.Length];
        var c0Gradient2 = new float[c0.Length];
        model.Backward(upstream, inputGradient2, h0Gradient2, c0Gradient2);
        float[] twice = model.Gradients.ToArray();
        AssertTwice(once, twice, name);
        TestHelpers.AssertBitEqual(inputGradient, inputGradient2, "input gradient of the second call");
        TestHelpers.AssertBitEqual(h0Gradient, h0Gradient2, "h0 gradient of the second call");
        TestHelpers.AssertBitEqual(c0Gradient, c0Gradient2, "c0 gradient of the second call");

        model.ZeroGradients();
        Assert.All(model.Gradients.ToArray(), g => Assert.Equal(0f, g));

        // The record is still there: one more call from zero gives the first result exactly.
        model.Backward(upstream, default, default, default);
        TestHelpers.AssertBitEqual(once, model.Gradients, "gradients after ZeroGradients and one Backward");
    }

    /// <summary>
    /// <paramref name="twice"/> = 2·<paramref name="once"/>. Backward adds each time step's contribution into the
    /// gradient buffer as it goes, so the second call computes g + c₁ + c₂ + … rather than g + (c₁ + c₂ + …): the
    /// two agree to float rounding of the partial sums (a few ulps of the largest contribution), not bit for bit.
    /// Measured: at most 2.2e-7 of max(|2g|, max|g|) over the declared models. The bound 4e-6 of it is still
    /// five orders of magnitude below what a Backward that overwrote instead of adding (or added twice) shows.
    /// </summary>
    private static void AssertTwice(float[] once, float[] twice, string name)
    {
        float scale = once.Max(MathF.Abs);
        for (int i = 0; i < once.Length; i++)
        {
            double expected = 2.0 * once[i];
            double tolerance = 4e-6 * Math.Max(Math.Abs(expected), scale);
            if (!(Math.Abs(twice[i] - expected) <= tolerance))
            {
                throw new XunitException($"{name}: gradient[{i}] after two Backward calls = {twice[i]:R}, expected 2 × {once[i]:R} (tolerance {tolerance:G3}).");
            }
        }
    }

    // ---- The training record and the inference workspace --------------------------------------------------------

    [Theory]
    [MemberData(nameof(Models))]
    public void Inference_between_a_training_forward_and_Backward_does_not_change_Backward(string name)
    {
        IHeadModel model = Create(name);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        float[] h0 = H0(model, Batch, seed: 2), c0 = C0(model, Batch, seed: 3);
        float[] upstream = TestHelpers.RandomValues(Batch * model.OutputSize, seed: 4);
        var prediction = new float[upstream.Length];

        (float[] Parameters, float[] Input, float[] H0, float[] C0) Backward()
        {
            var inputGradient = new float[input.Length];
            var h0Gradient = new float[h0.Length];
            var c0Gradient = new float[c0.Length];
            model.ZeroGradients();
            model.Backward(upstream, inputGradient, h0Gradient, c0Gradient);
            return (model.Gradients.ToArray(), inputGradient, h0Gradient, c0Gradient);
        }

        model.TrainPredictLast(input, Batch, prediction, h0, c0);
        var expected = Backward();

        model.TrainPredictLast(input, Batch, prediction, h0, c0);
        // Inference calls of every kind, with other data, a bigger batch and a longer sequence (which grow and
        // overwrite the inference workspace).
        const int batch = 2 * Batch, steps = 3 * Steps;
        float[] otherInput = TestHelpers.RandomInput(model, batch, steps, seed: 10);
        float[] otherH0 = H0(model, batch, seed: 11), otherC0 = C0(model, batch, seed: 12);
        model.PredictLast(otherInput, batch, new float[batch * model.OutputSize], otherH0, otherC0);
        model.PredictSequence(otherInput, batch, new float[batch * steps * model.OutputSize], otherH0, otherC0);
        model.Forward(otherInput, batch, new float[batch * steps * model.OutputFeatures], otherH0, otherC0,
            new float[otherH0.Length], new float[otherC0.Length]);
        model.PredictLast(TestHelpers.RandomInput(model, Batch, Steps, seed: 13), Batch, new float[Batch * model.OutputSize]);
        if (model is IStreamingHeadModel streaming)
        {
            streaming.ResetState(batch);
            streaming.StepPredict(TestHelpers.RandomInput(model, batch, 1, seed: 14), new float[batch * model.OutputSize]);
            streaming.Step(TestHelpers.RandomInput(model, batch, 1, seed: 15), new float[batch * model.StateSize]);
        }
        var actual = Backward();

        TestHelpers.AssertBitEqual(expected.Parameters, actual.Parameters, $"{name} parameter gradients");
        TestHelpers.AssertBitEqual(expected.Input, actual.Input, $"{name} input gradient");
        TestHelpers.AssertBitEqual(expected.H0, actual.H0, $"{name} h0 gradient");
        TestHelpers.AssertBitEqual(expected.C0, actual.C0, $"{name} c0 gradient");
    }
}
