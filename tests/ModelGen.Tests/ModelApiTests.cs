using System.Reflection;

namespace ModelGen.Tests;

/// <summary>
/// The public surface of generated models: parameter table and accessors, argument validation, streaming,
/// initial states and batch handling.
/// </summary>
public class ModelApiTests
{
    private const int Batch = 3;
    private const int Steps = 5;

    // ---- Parameter table ----

    /// <summary>PyTorch's state_dict order: layer, direction, then weight_ih, weight_hh, bias_ih, bias_hh, weight_hr; the head last.</summary>
    private static (int Module, int Layer, int Direction, int Kind) StateDictKey(string name)
    {
        if (name == "head.weight") return (1, 0, 0, 0);
        if (name == "head.bias") return (1, 0, 0, 1);
        string[] kinds = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"];
        Assert.StartsWith("rnn.", name, StringComparison.Ordinal);
        string rest = name["rnn.".Length..];
        bool reverse = rest.EndsWith("_reverse", StringComparison.Ordinal);
        if (reverse) rest = rest[..^"_reverse".Length];
        int split = rest.LastIndexOf("_l", StringComparison.Ordinal);
        int kind = Array.IndexOf(kinds, rest[..split]);
        Assert.True(kind >= 0, $"unknown tensor kind in {name}");
        int layer = int.Parse(rest[(split + 2)..], System.Globalization.CultureInfo.InvariantCulture);
        return (0, layer, reverse ? 1 : 0, kind);
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Parameter_table_is_contiguous_in_state_dict_order_and_sums_to_ParameterCount(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        IReadOnlyList<ParameterInfo> table = model.ParameterTable;
        int offset = 0;
        for (int i = 0; i < table.Count; i++)
        {
            ParameterInfo info = table[i];
            Assert.Equal(offset, info.Offset);
            Assert.Equal(info.Shape.Aggregate(1, (a, b) => a * b), info.Length);
            Assert.True(info.Length > 0, $"{info.Name} is empty");
            if (i > 0) Assert.True(StateDictKey(table[i - 1].Name).CompareTo(StateDictKey(info.Name)) < 0, $"{table[i - 1].Name} before {info.Name}");
            offset += info.Length;
        }
        Assert.Equal(model.ParameterCount, offset);
        Assert.Equal(model.ParameterCount, model.Parameters.Length);
        Assert.Equal(table.Count, table.Select(p => p.Name).Distinct().Count());
    }

    [Fact]
    public void Parameter_table_of_a_projected_bidirectional_lstm_lists_pytorchs_tensors()
    {
        string[] expected =
        [
            "rnn.weight_ih_l0 [128, 5]", "rnn.weight_hh_l0 [128, 8]", "rnn.bias_ih_l0 [128]", "rnn.bias_hh_l0 [128]", "rnn.weight_hr_l0 [8, 32]",
            "rnn.weight_ih_l0_reverse [128, 5]", "rnn.weight_hh_l0_reverse [128, 8]", "rnn.bias_ih_l0_reverse [128]", "rnn.bias_hh_l0_reverse [128]", "rnn.weight_hr_l0_reverse [8, 32]",
            "rnn.weight_ih_l1 [128, 16]", "rnn.weight_hh_l1 [128, 8]", "rnn.bias_ih_l1 [128]", "rnn.bias_hh_l1 [128]", "rnn.weight_hr_l1 [8, 32]",
            "rnn.weight_ih_l1_reverse [128, 16]", "rnn.weight_hh_l1_reverse [128, 8]", "rnn.bias_ih_l1_reverse [128]", "rnn.bias_hh_l1_reverse [128]", "rnn.weight_hr_l1_reverse [8, 32]",
            "head.weight [32, 16]", "head.bias [32]",
        ];
        Assert.Equal(expected, LstmProjectionBidirectional.ParameterTable.Select(p => $"{p.Name} {p.ShapeText}"));
        Assert.Equal(LstmProjectionBidirectional.ParameterCount, LstmProjectionBidirectional.ParameterTable.Sum(p => p.Length));
    }

    [Fact]
    public void Parameter_table_of_a_model_without_bias_has_no_bias_tensors()
    {
        Assert.Equal(["rnn.weight_ih_l0", "rnn.weight_hh_l0", "head.weight", "head.bias"], LstmNoBias.ParameterTable.Select(p => p.Name));
    }

    [Fact]
    public void Named_accessors_are_views_of_the_parameter_buffer()
    {
        var model = new LstmProjectionBidirectional();
        TestHelpers.AssertSameMemory(model.GetParameter("rnn.weight_ih_l0"), model.WeightIhL0, nameof(model.WeightIhL0));
        TestHelpers.AssertSameMemory(model.GetParameter("rnn.weight_hh_l1_reverse"), model.WeightHhL1Reverse, nameof(model.WeightHhL1Reverse));
        TestHelpers.AssertSameMemory(model.GetParameter("rnn.weight_hr_l0"), model.WeightHrL0, nameof(model.WeightHrL0));
        TestHelpers.AssertSameMemory(model.GetParameter("rnn.bias_ih_l1"), model.BiasIhL1, nameof(model.BiasIhL1));
        TestHelpers.AssertSameMemory(model.GetParameter("head.weight"), model.HeadWeight, nameof(model.HeadWeight));
        TestHelpers.AssertSameMemory(model.GetParameter("head.bias"), model.HeadBias, nameof(model.HeadBias));

        TestHelpers.Writable(model, model.HeadBias)[31] = 12.5f;
        Assert.Equal(12.5f, model.Parameters[^1]);
    }

    /// <summary><c>WeightHhL1Reverse</c> → <c>rnn.weight_hh_l1_reverse</c>; <c>HeadBias</c> → <c>head.bias</c>.</summary>
    private static string TensorNameOf(string accessor)
    {
        var words = new List<string>();
        int start = 0;
        for (int i = 1; i <= accessor.Length; i++)
        {
            if (i == accessor.Length || char.IsUpper(accessor[i]))
            {
                words.Add(accessor[start..i].ToLowerInvariant());
                start = i;
            }
        }
        return words[0] == "head" ? "head." + string.Join("_", words.Skip(1)) : "rnn." + string.Join("_", words);
    }

    /// <summary>Every generated ReadOnlySpan&lt;float&gt; accessor other than <c>Parameters</c>, found by reflection.</summary>
    private static void AssertEveryAccessorIsItsParameter<TModel>() where TModel : IRecurrentModel, new()
    {
        var model = new TModel();
        var seen = new List<string>();
        foreach (PropertyInfo property in typeof(TModel).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType != typeof(ReadOnlySpan<float>) || property.Name is "Parameters") continue;
            var getter = property.GetMethod!.CreateDelegate<Func<TModel, ReadOnlySpan<float>>>();
            string tensor = TensorNameOf(property.Name);
            TestHelpers.AssertSameMemory(model.GetParameter(tensor), getter(model), $"{typeof(TModel).Name}.{property.Name}");
            seen.Add(tensor);
        }
        Assert.Equal(model.ParameterTable.Select(p => p.Name).Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_generated_accessor_is_the_slice_of_its_pytorch_name()
    {
        AssertEveryAccessorIsItsParameter<LstmProjectionBidirectional>();
        AssertEveryAccessorIsItsParameter<GruStackedBidirectional>();
        AssertEveryAccessorIsItsParameter<LstmNoBias>();
        AssertEveryAccessorIsItsParameter<RnnTanh>();
        AssertEveryAccessorIsItsParameter<GruThreeLayers>();
    }

    [Fact]
    public void GetParameter_of_an_unknown_name_throws_KeyNotFoundException_naming_it()
    {
        var model = new LstmBasic();
        KeyNotFoundException e = Assert.Throws<KeyNotFoundException>(() => model.GetParameter("rnn.weight_hr_l0"));
        Assert.Contains("'rnn.weight_hr_l0'", e.Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => model.GetParameter("weight_ih_l0"));
    }

    // ---- Argument validation ----

    private static void AssertArgumentError(Action call, string parameter, params string[] messageParts)
    {
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(parameter, e.ParamName);
        foreach (string part in messageParts) Assert.Contains(part, e.Message, StringComparison.Ordinal);
    }

    // LstmProjectionBidirectional: I = 5, H = 32, Hout = 8, D = 2, L = 2, O = 32.
    private static readonly float[] Input = new float[Batch * Steps * 5];
    private static readonly float[] Output = new float[Batch * Steps * 16];
    private static readonly float[] States = new float[4 * Batch * 8];
    private static readonly float[] Cells = new float[4 * Batch * 32];

    // The calls below pass wrong constant-length buffers on purpose, to test the run-time checks; ModelGen's
    // call-site analyzer (MG0017) would otherwise stop them at compile time.
#pragma warning disable MG0017
    [Fact]
    public void Input_length_not_a_multiple_of_batch_times_input_size_is_rejected()
    {
        var model = new LstmProjectionBidirectional();
        AssertArgumentError(() => model.Forward(new float[Batch * 5 * 2 + 1], Batch, Output), "input",
            "[B, T, I] = [3, T, 5]", "multiple of 15", "got 31 floats");
        AssertArgumentError(() => model.Forward([], Batch, Output), "input", "T >= 1", "got 0 floats");
    }

    [Fact]
    public void Wrong_output_length_is_rejected_with_the_expected_shape()
    {
        var model = new LstmProjectionBidirectional();
        AssertArgumentError(() => model.Forward(Input, Batch, new float[Output.Length - 1]), "output",
            "[B, T, D*Hout] = [3, 5, 16] (240 floats)", "got 239 floats");
    }

    [Fact]
    public void Wrong_initial_and_final_state_lengths_are_rejected_with_the_expected_shape()
    {
        IRecurrentModel model = new LstmProjectionBidirectional();
        float[] shortH = new float[States.Length - 8], shortC = new float[Cells.Length + 1];
        AssertArgumentError(() => model.Forward(Input, Batch, Output, shortH, Cells, States, Cells), "h0",
            "[L*D, B, Hout] = [4, 3, 8] (96 floats)", "got 88 floats");
        AssertArgumentError(() => model.Forward(Input, Batch, Output, States, shortC, States, Cells), "c0",
            "[L*D, B, H] = [4, 3, 32] (384 floats)", "got 385 floats");
        AssertArgumentError(() => model.Forward(Input, Batch, Output, States, Cells, shortH, Cells), "hN",
            "[L*D, B, Hout] = [4, 3, 8]", "got 88 floats");
        AssertArgumentError(() => model.Forward(Input, Batch, Output, States, Cells, States, shortC), "cN",
            "[L*D, B, H] = [4, 3, 32]", "got 385 floats");
    }

    [Fact]
    public void Cell_state_passed_to_a_gru_through_the_interface_is_rejected()
    {
        IRecurrentModel gru = new GruBasic();
        float[] input = new float[Batch * Steps * 4], output = new float[Batch * Steps * 16], h = new float[Batch * 16];
        AssertArgumentError(() => gru.Forward(input, Batch, output, h, h, h, default), "c0", "only an LSTM");
        AssertArgumentError(() => gru.Forward(input, Batch, output, h, default, h, h), "cN", "only an LSTM");
        IHeadModel head = new GruBasic();
        AssertArgumentError(() => head.PredictLast(input, Batch, new float[Batch * 3], h, h), "c0", "only an LSTM");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Batch_size_below_one_is_rejected(int batchSize)
    {
        var model = new LstmProjectionBidirectional();
        AssertArgumentError(() => model.Forward(Input, batchSize, Output), "batchSize");
        AssertArgumentError(() => model.PredictLast(Input, batchSize, new float[32]), "batchSize");
        AssertArgumentError(() => model.PredictSequence(Input, batchSize, new float[32]), "batchSize");
        var streaming = new GruBasic();
        AssertArgumentError(() => streaming.ResetState(batchSize), "batchSize");
    }

    [Fact]
    public void Wrong_prediction_lengths_are_rejected_with_the_expected_shape()
    {
        var model = new LstmProjectionBidirectional();
        AssertArgumentError(() => model.PredictLast(Input, Batch, new float[Batch * 32 + 2]), "prediction",
            "[B, O] = [3, 32] (96 floats)", "got 98 floats");
        AssertArgumentError(() => model.PredictSequence(Input, Batch, new float[Batch * 32]), "predictions",
            "[B, T, O] = [3, 5, 32] (480 floats)", "got 96 floats");
    }

    [Fact]
    public void Wrong_step_lengths_are_rejected_with_the_expected_shape()
    {
        var model = new LstmStacked();  // I = 8, Hout = 32, O = 4
        model.ResetState(Batch);
        AssertArgumentError(() => model.Step(new float[8], new float[Batch * 32]), "input", "[B, I] = [3, 8] (24 floats)", "got 8 floats");
        AssertArgumentError(() => model.Step(new float[Batch * 8], new float[Batch * 31]), "output", "[B, Hout] = [3, 32] (96 floats)", "got 93 floats");
        AssertArgumentError(() => model.StepPredict(new float[Batch * 8], new float[4]), "prediction", "[B, O] = [3, 4] (12 floats)", "got 4 floats");
        AssertArgumentError(() => model.StepPredict(new float[Batch * 8 + 1], new float[Batch * 4]), "input", "[B, I] = [3, 8]", "got 25 floats");
    }

    [Fact]
    public void A_rejected_call_does_not_touch_the_streaming_state()
    {
        var model = new GruBasic();
        model.ResetState(2);
        model.HiddenState.Fill(0.25f);
        Assert.ThrowsAny<ArgumentException>(() => model.Step(new float[3], new float[32]));
        Assert.All(model.HiddenState.ToArray(), value => Assert.Equal(0.25f, value));
    }
#pragma warning restore MG0017

    // ---- Streaming ----

    [Theory]
    [MemberData(nameof(TestModels.Streaming), MemberType = typeof(TestModels))]
    public void ResetState_sizes_and_zeros_the_state(string name)
    {
        var model = (IStreamingModel)TestModels.Create(name);
        Assert.Equal(1, model.StreamBatchSize);
        Assert.Equal(model.NumLayers * model.StateSize, model.HiddenState.Length);
        foreach (int batch in new[] { 4, 4, 2, 2 })
        {
            model.HiddenState.Fill(1f);
            model.CellState.Fill(1f);
            model.ResetState(batch);
            Assert.Equal(batch, model.StreamBatchSize);
            Assert.Equal(model.NumLayers * batch * model.StateSize, model.HiddenState.Length);
            Assert.Equal(model.Cell == CellKind.Lstm ? model.NumLayers * batch * model.HiddenSize : 0, model.CellState.Length);
            Assert.All(model.HiddenState.ToArray(), value => Assert.Equal(0f, value));
            Assert.All(model.CellState.ToArray(), value => Assert.Equal(0f, value));
        }
    }

    /// <summary>The model of that name with seeded parameters.</summary>
    private static IRecurrentModel Seeded(string name, ulong seed = 11)
    {
        IRecurrentModel model = TestModels.Create(name);
        model.InitializeParameters(seed);
        return model;
    }

    [Theory]
    [MemberData(nameof(TestModels.Streaming), MemberType = typeof(TestModels))]
    public void Streaming_every_step_equals_forward_over_the_sequence(string name)
    {
        var model = (IStreamingHeadModel)Seeded(name);
        int hout = model.StateSize, outputs = model.OutputSize, layers = model.NumLayers;
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 3);
        var output = new float[Batch * Steps * hout];
        var hN = new float[layers * Batch * hout];
        var cN = new float[model.CellState.Length == 0 ? 0 : layers * Batch * model.HiddenSize];
        model.Forward(input, Batch, output, default, default, hN, cN);
        var predictions = new float[Batch * Steps * outputs];
        model.PredictSequence(input, Batch, predictions);

        var streamed = new float[output.Length];
        var streamedPredictions = new float[predictions.Length];
        var stepOutput = new float[Batch * hout];
        var stepPrediction = new float[Batch * outputs];
        model.ResetState(Batch);
        for (int t = 0; t < Steps; t++)
        {
            model.Step(TestHelpers.TimeStep(input, Batch, Steps, model.InputSize, t), stepOutput);
            TestHelpers.SetTimeStep(stepOutput, Batch, Steps, hout, t, streamed);
        }
        TestHelpers.AssertClose(output, streamed, 1e-6, "streamed output");
        TestHelpers.AssertClose(hN, model.HiddenState, 1e-6, "streamed h");
        TestHelpers.AssertClose(cN, model.CellState, 1e-6, "streamed c");

        model.ResetState(Batch);
        for (int t = 0; t < Steps; t++)
        {
            model.StepPredict(TestHelpers.TimeStep(input, Batch, Steps, model.InputSize, t), stepPrediction);
            TestHelpers.SetTimeStep(stepPrediction, Batch, Steps, outputs, t, streamedPredictions);
        }
        TestHelpers.AssertClose(predictions, streamedPredictions, 1e-6, "streamed predictions");
    }

    [Fact]
    public void Writing_the_hidden_state_changes_the_next_step_like_an_initial_state()
    {
        var model = (LstmStacked)Seeded("lstm_stacked");
        float[] input = TestHelpers.RandomInput(model, Batch, 1, seed: 4);
        float[] h0 = TestHelpers.RandomValues(model.HiddenState.Length * Batch, seed: 5);
        float[] c0 = TestHelpers.RandomValues(model.CellState.Length * Batch, seed: 6);
        var fromZero = new float[Batch * LstmStacked.StateSize];
        var fromState = new float[fromZero.Length];
        var expected = new float[fromZero.Length];

        model.ResetState(Batch);
        model.Step(input, fromZero);
        model.ResetState(Batch);
        h0.CopyTo(model.HiddenState);
        c0.CopyTo(model.CellState);
        model.Step(input, fromState);
        model.Forward(input, Batch, expected, h0, c0, default, default);

        Assert.NotEqual(fromZero, fromState);
        TestHelpers.AssertClose(expected, fromState, 1e-6, "step after writing the state");
    }

    [Fact]
    public void Writing_the_cell_state_alone_changes_the_next_step()
    {
        var model = (LstmBasic)Seeded("lstm_basic");
        float[] input = TestHelpers.RandomInput(model, 1, 1, seed: 8);
        var fromZero = new float[LstmBasic.StateSize];
        var fromCell = new float[LstmBasic.StateSize];
        model.Step(input, fromZero);
        model.ResetState();
        model.CellState.Fill(2f);
        model.Step(input, fromCell);
        Assert.NotEqual(fromZero, fromCell);
    }

    // ---- Initial states and batches ----

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Forward_with_explicit_zero_state_equals_forward_with_empty_state(string name)
    {
        IRecurrentModel model = Seeded(name);
        int states = model.NumLayers * model.NumDirections * Batch;
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 9);
        var empty = new float[Batch * Steps * model.OutputFeatures];
        var zeros = new float[empty.Length];
        model.Forward(input, Batch, empty, default, default, default, default);
        model.Forward(input, Batch, zeros, new float[states * model.StateSize],
            model.Cell == CellKind.Lstm ? new float[states * model.HiddenSize] : default, default, default);
        TestHelpers.AssertBitEqual(empty, zeros, "output");
        Assert.Contains(empty, value => value != 0);
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Each_sequence_of_a_batch_gives_what_it_gives_alone(string name)
    {
        IRecurrentModel model = Seeded(name);
        int features = model.OutputFeatures, inputs = Steps * model.InputSize;
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 10);
        var output = new float[Batch * Steps * features];
        var hN = new float[model.NumLayers * model.NumDirections * Batch * model.StateSize];
        model.Forward(input, Batch, output, default, default, hN, default);

        for (int b = 0; b < Batch; b++)
        {
            var alone = new float[Steps * features];
            var hAlone = new float[hN.Length / Batch];
            model.Forward(TestHelpers.Row(input, b, inputs), 1, alone, default, default, hAlone, default);
            TestHelpers.AssertClose(alone, TestHelpers.Row(output, b, Steps * features), 1e-6, $"sequence {b}");
            for (int layer = 0; layer < model.NumLayers * model.NumDirections; layer++)
            {
                TestHelpers.AssertClose(TestHelpers.Row(hAlone, layer, model.StateSize),
                    TestHelpers.Row(hN, layer * Batch + b, model.StateSize), 1e-6, $"h_n of sequence {b}, layer {layer}");
            }
        }
    }

    /// <summary>head(x) = W x + b over the rows of a forward output, in double.</summary>
    private static float[] ApplyHead(IRecurrentModel model, float[] rows)
    {
        int f = model.OutputFeatures, o = model.OutputSize, count = rows.Length / f;
        float[] weight = model.GetParameter("head.weight").ToArray(), bias = model.GetParameter("head.bias").ToArray();
        var result = new float[count * o];
        for (int r = 0; r < count; r++)
        {
            for (int n = 0; n < o; n++)
            {
                double sum = bias[n];
                for (int k = 0; k < f; k++) sum += (double)weight[n * f + k] * rows[r * f + k];
                result[r * o + n] = (float)sum;
            }
        }
        return result;
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Predictions_are_the_head_applied_to_the_forward_output(string name)
    {
        var model = (IHeadModel)Seeded(name);
        int features = model.OutputFeatures;
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 12);
        var output = new float[Batch * Steps * features];
        model.Forward(input, Batch, output, default, default, default, default);

        var sequence = new float[Batch * Steps * model.OutputSize];
        model.PredictSequence(input, Batch, sequence);
        TestHelpers.AssertClose(ApplyHead(model, output), sequence, 1e-5, "PredictSequence");

        var lastSteps = new float[Batch * features];
        for (int b = 0; b < Batch; b++) output.AsSpan((b * Steps + Steps - 1) * features, features).CopyTo(lastSteps.AsSpan(b * features));
        var last = new float[Batch * model.OutputSize];
        model.PredictLast(input, Batch, last);
        TestHelpers.AssertClose(ApplyHead(model, lastSteps), last, 1e-5, "PredictLast");
    }
}
