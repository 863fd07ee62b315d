using ModelGen;

namespace ModelGen.Tests;

/// <summary>
/// A stream of batch 1 runs its own step code (<c>Kernels/StreamingStep.cs</c>) rather than the general
/// forward: its steps must give the very bits of one forward over the whole sequence from the same state.
/// </summary>
public class StreamingStepTests
{
    private const int Steps = 6;

    [Theory]
    [MemberData(nameof(TestModels.Streaming), MemberType = typeof(TestModels))]
    public void Steps_of_batch_one_give_the_bits_of_a_forward_over_the_sequence(string name)
    {
        var model = (IStreamingHeadModel)TestModels.Create(name);
        model.InitializeParameters(21);
        int hout = model.StateSize, layers = model.NumLayers;
        float[] input = TestHelpers.RandomInput(model, 1, Steps, seed: 4);
        // A subnormal input and state: both paths read them flushed to zero.
        input[1] = 1e-40f;
        float[] h0 = TestHelpers.RandomValues(layers * hout, seed: 5);
        h0[0] = -2e-39f;
        float[] c0 = model.Cell == CellKind.Lstm ? TestHelpers.RandomValues(layers * model.HiddenSize, seed: 6) : [];

        var expected = new float[Steps * hout];
        var hN = new float[h0.Length];
        var cN = new float[c0.Length];
        model.Forward(input, 1, expected, h0, c0, hN, cN);
        var expectedPredictions = new float[Steps * model.OutputSize];
        model.PredictSequence(input, 1, expectedPredictions, h0, c0);

        var streamed = new float[expected.Length];
        StartFrom(model, h0, c0);
        for (int t = 0; t < Steps; t++) model.Step(input.AsSpan(t * model.InputSize, model.InputSize), streamed.AsSpan(t * hout, hout));
        TestHelpers.AssertBitEqual(expected, streamed, "Step outputs");
        TestHelpers.AssertBitEqual(hN, model.HiddenState, "h after the steps");
        TestHelpers.AssertBitEqual(cN, model.CellState, "c after the steps");

        var predictions = new float[expectedPredictions.Length];
        StartFrom(model, h0, c0);
        for (int t = 0; t < Steps; t++)
        {
            model.StepPredict(input.AsSpan(t * model.InputSize, model.InputSize),
                predictions.AsSpan(t * model.OutputSize, model.OutputSize));
        }
        TestHelpers.AssertBitEqual(expectedPredictions, predictions, "StepPredict predictions");
        TestHelpers.AssertBitEqual(hN, model.HiddenState, "h after StepPredict");
    }

    [Fact]
    public void A_step_after_editing_the_parameters_uses_the_new_weights()
    {
        var model = new LstmStacked();
        model.InitializeParameters(2);
        float[] input = TestHelpers.RandomInput(model, 1, 1, seed: 7);
        var before = new float[LstmStacked.StateSize];
        model.Step(input, before);

        model.EditParameters()[0] += 0.5f;
        var expected = new float[before.Length];
        model.Forward(input, 1, expected, default, default, default, default);
        var after = new float[before.Length];
        model.ResetState();
        model.Step(input, after);

        Assert.NotEqual(before, after);
        TestHelpers.AssertBitEqual(expected, after, "step after EditParameters");
    }

    private static void StartFrom(IStreamingModel model, float[] h0, float[] c0)
    {
        model.ResetState();
        h0.CopyTo(model.HiddenState);
        c0.CopyTo(model.CellState);
    }

    // NativeAOT's compiler runs a static constructor at build time, and folds the fields it sets as constants, only
    // when the constructor is arithmetic it can interpret: one array field among the sizes (the layers' offsets, once)
    // made the whole constructor run at run time, every size in the step's kernels a memory load, and the NativeAOT
    // step 1.4-1.5x slower. The JIT reads the same fields as constants either way, so only this check sees it.
    [Fact]
    public void The_step_kernels_sizes_are_the_only_static_state_so_NativeAOT_folds_them()
    {
        var fields = typeof(ModelGen.Kernels.StreamingStep<>).GetFields(
            System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic);
        Assert.NotEmpty(fields);
        foreach (var field in fields.Where(f => !f.IsLiteral))
        {
            Assert.True(field.IsInitOnly && field.FieldType == typeof(int),
                $"StreamingStep.{field.Name} is a static {(field.IsInitOnly ? "readonly " : "")}{field.FieldType.Name}; only readonly ints keep its static constructor foldable at build time.");
        }
        Assert.Empty(typeof(ModelGen.Kernels.StreamingStep<>).GetNestedTypes(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic));
    }
}
