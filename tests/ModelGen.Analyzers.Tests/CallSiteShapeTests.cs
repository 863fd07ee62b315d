using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// MG0017 and MG0018 at the call site: every kind of constant-length expression, wrong (reported, with the
/// expected shape) and right (not reported); expressions whose length is not a compile-time constant are never
/// reported; every generated method is checked through its TensorShape attributes.
/// </summary>
public class CallSiteShapeTests
{
    // Forecaster: I = 8, H = Hout = 32, L * D = 2, O = 4.
    private const string Declarations = """
        using System;
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Runtime.InteropServices;
        using ModelGen;

        [LstmModel(InputSize = 8, HiddenSize = 32, NumLayers = 2, OutputSize = 4)]
        public partial class Forecaster;

        [GruModel(InputSize = 3, HiddenSize = 5, Bidirectional = true, OutputSize = 2)]
        public partial class Tagger;

        [InlineArray(12)] public struct Buffer12 { private float _element; }
        [InlineArray(16)] public struct Buffer16 { private float _element; }
        public unsafe struct Fixed { public fixed float Data[16]; }

        """;

    private static string Calls(string body) => Declarations + $$"""
        public static unsafe class Use
        {
            private static readonly float[] s_field = new float[12];
            private static float[] Make() => new float[12];
            private static void Replace(ref float[] array) => array = new float[8];
            private static void Get(out float[] array) => array = new float[8];

            public static void Run(Forecaster model, Tagger tagger, Fixed fx, int n, float[] given, List<float> list)
            {
                Buffer12 buffer12 = default;
                Buffer16 buffer16 = default;
                Console.WriteLine(buffer12[0] + buffer16[0]);
                {{body}}
            }
        }
        """;

    private static Task Verify(string body, params DiagnosticResult[] expected) =>
        new AnalyzerTest<TensorShapeAnalyzer>(Calls(body), expected).RunAsync();

    private static DiagnosticResult Mismatch(string parameter, string method, long length, string shape, string need) =>
        new DiagnosticResult(DiagnosticDescriptors.ShapeMismatch).WithLocation(0)
            .WithArguments(parameter, method, length.ToString(System.Globalization.CultureInfo.InvariantCulture), shape, need, "floats");

    /// <summary>Setup statements, an input of 12 floats (not a multiple of I = 8) and one of 16 floats, written the same way.</summary>
    public static TheoryData<string, string, string> ConstantLengthForms() => new()
    {
        { "", "new float[12]", "new float[16]" },
        { "", "new float[3 * 4]", "new float[2 * 8]" },
        { "", "new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }", "new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }" },
        { "", "new[] { 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f }", "new[] { 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f }" },
        { "", "[1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f]", "[1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f]" },
        { "", "[.. new float[8], 1f, 2f, 3f, 4f]", "[.. new float[8], .. stackalloc float[8]]" },
        { "", "stackalloc float[12]", "stackalloc float[16]" },
        { "", "stackalloc float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }", "stackalloc float[] { 1, 2, 3, 4, 5, 6, 7, 8 }" },
        { "", "stackalloc[] { 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f }", "stackalloc[] { 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f }" },
        { "", "buffer12", "buffer16" },
        { "", "buffer16[..12]", "buffer16[..8]" },
        { "", "new Span<float>(fx.Data, 12)", "new Span<float>(fx.Data, 16)" },
        { "", "new ReadOnlySpan<float>(new float[12])", "new ReadOnlySpan<float>(new float[16])" },
        { "", "new Span<float>(given, 4, 12)", "new Span<float>(given, 4, 16)" },
        { "", "MemoryMarshal.CreateReadOnlySpan(ref fx.Data[0], 12)", "MemoryMarshal.CreateReadOnlySpan(ref fx.Data[0], 16)" },
        { "", "given.AsSpan(2, 12)", "given.AsSpan(2, 16)" },
        { "", "new float[20].AsSpan(8)", "new float[20].AsSpan(4)" },
        { "", "given.AsSpan().Slice(3, 12)", "given.AsSpan().Slice(3, 16)" },
        { "", "new float[20].AsSpan().Slice(8)", "new float[20].AsSpan().Slice(4)" },
        { "", "(new float[20])[8..]", "(new float[20])[4..]" },
        { "", "(new float[20])[..^8]", "(new float[20])[2..^2]" },
        { "float[] input = new float[12];", "input", "new float[16]" },
        { "var input = new float[16];", "input[4..]", "input[..8]" },
        { "Span<float> input = stackalloc float[12];", "input", "input[..8]" },
        { "ReadOnlySpan<float> input = [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f];", "input", "input[4..]" },
        { "float[] input = new float[12]; Span<float> view = input;", "view", "view[..8]" },
        { "float[] input = new float[12]; input[0] = 1; Console.WriteLine(input.Length);", "input", "input[..8]" },
        { "", "n > 0 ? new float[12] : new float[12]", "n > 0 ? new float[16] : new float[16]" },
    };

    [Theory]
    [MemberData(nameof(ConstantLengthForms))]
    public Task MG0017_wrong_constant_length_is_reported_with_the_expected_shape(string setup, string wrong, string right)
    {
        _ = right;
        return Verify($"{setup} model.Forward({{|#0:{wrong}|}}, 1, given);",
            Mismatch("input", "Forecaster.Forward", 12, "[B, T, 8]", "[1, T, 8]: a non-zero multiple of 8 floats with B = 1 from 'batchSize'"));
    }

    [Theory]
    [MemberData(nameof(ConstantLengthForms))]
    public Task MG0017_right_constant_length_is_not_reported(string setup, string wrong, string right)
    {
        _ = wrong;
        return Verify($"{setup} model.Forward({right}, 1, given);");
    }

    /// <summary>Setup statements and an input of 12 floats whose length is not a compile-time constant (or not tracked).</summary>
    public static TheoryData<string, string> NonConstantForms() => new()
    {
        { "", "new float[n]" },
        { "", "new float[n + 4]" },
        { "", "given" },
        { "", "Make()" },
        { "", "s_field" },
        { "", "list.ToArray()" },
        { "", "CollectionsMarshal.AsSpan(list)" },
        { "", "new Span<float>(given)" },
        { "", "given.AsSpan(n)" },
        { "", "given.AsSpan(2, n)" },
        { "", "new float[20].AsSpan(n)" },
        { "", "(new float[20])[n..]" },
        { "", "n > 0 ? new float[12] : new float[24]" },
        { "", "[.. given, 1f]" },
        { "float[] input = new float[12]; input = given;", "input" },
        { "float[] input = new float[12]; if (n > 0) input = new float[8];", "input" },
        { "float[] input = new float[12]; input ??= given;", "input" },
        { "float[] input = new float[12]; Replace(ref input);", "input" },
        { "float[] input = new float[12]; Get(out input);", "input" },
        { "float[] input = new float[12]; (input, n) = (given, 1);", "input" },
        { "float[] input = new float[12]; ref float[] alias = ref input; alias = given;", "input" },
        { "float[] input = new float[12]; Action swap = () => input = given; swap();", "input" },
        { "float[] input = new float[12]; void Swap() => input = given; Swap();", "input" },
        { "float[] input; input = new float[12];", "input" },
        { "Get(out float[] input);", "input" },
        { "if (given is float[] input)", "input" },
    };

    [Theory]
    [MemberData(nameof(NonConstantForms))]
    public Task Non_constant_lengths_are_never_reported(string setup, string input) => Verify(
        $"{setup} model.Forward({input}, 1, given);");

    // ---- Every shaped parameter of every generated method ----

    [Fact]
    public Task Output_must_match_the_batch_and_the_steps_that_the_input_implies() => Verify(
        "model.Forward(new float[16], 2, {|#0:new float[100]|});",
        Mismatch("output", "Forecaster.Forward", 100, "[B, T, 32]", "[2, 1, 32] = 64 floats with B = 2 from 'batchSize' and T = 1 from 'input'"));

    [Fact]
    public Task Constant_batch_that_does_not_divide_the_input_is_reported_on_the_input() => Verify(
        "model.Forward({|#0:new float[24]|}, 2, given);",
        Mismatch("input", "Forecaster.Forward", 24, "[B, T, 8]", "[2, T, 8]: a non-zero multiple of 16 floats with B = 2 from 'batchSize'"));

    [Fact]
    public Task Steps_times_batch_from_the_input_check_the_output_when_the_batch_is_not_constant() => Verify(
        "model.Forward(new float[48], n, {|#0:new float[100]|});",
        Mismatch("output", "Forecaster.Forward", 100, "[B, T, 32]", "[B, T, 32] = 192 floats with B*T = 6 from 'input'"));

    [Fact]
    public Task Output_alone_fixes_the_steps_when_the_input_is_not_constant() => Verify(
        "model.PredictSequence(given, 2, new float[24], {|#0:new float[100]|});",
        Mismatch("h0", "Forecaster.PredictSequence", 100, "[2, B, 32]", "[2, 2, 32] = 128 floats with B = 2 from 'batchSize', or an empty span"));

    [Fact]
    public Task Initial_and_final_states_are_checked() => Verify(
        "model.Forward(new float[16], 2, new float[64], new float[128], {|#0:new float[64]|}, default, {|#1:new float[129]|});",
        Mismatch("c0", "Forecaster.Forward", 64, "[2, B, 32]", "[2, 2, 32] = 128 floats with B = 2 from 'batchSize', or an empty span"),
        new DiagnosticResult(DiagnosticDescriptors.ShapeMismatch).WithLocation(1).WithArguments(
            "cN", "Forecaster.Forward", "129", "[2, B, 32]", "[2, 2, 32] = 128 floats with B = 2 from 'batchSize', or an empty span", "floats"));

    [Fact]
    public Task Last_step_prediction_is_checked() => Verify(
        "model.PredictLast(new float[16], 2, {|#0:new float[4]|});",
        Mismatch("prediction", "Forecaster.PredictLast", 4, "[B, 4]", "[2, 4] = 8 floats with B = 2 from 'batchSize'"));

    [Fact]
    public Task Sequence_predictions_are_checked() => Verify(
        "model.PredictSequence(new float[48], 2, {|#0:new float[8]|});",
        Mismatch("predictions", "Forecaster.PredictSequence", 8, "[B, T, 4]", "[2, 3, 4] = 24 floats with B = 2 from 'batchSize' and T = 3 from 'input'"));

    [Fact]
    public Task Streaming_step_output_must_match_the_batch_its_input_implies() => Verify(
        "model.Step(new float[8], {|#0:new float[64]|});",
        Mismatch("output", "Forecaster.Step", 64, "[B, 32]", "[1, 32] = 32 floats with B = 1 from 'input'"));

    [Fact]
    public Task Streaming_step_input_must_be_a_multiple_of_the_input_size() => Verify(
        "model.StepPredict({|#0:new float[12]|}, new float[4]);",
        Mismatch("input", "Forecaster.StepPredict", 12, "[B, 8]", "[B, 8]: a non-zero multiple of 8 floats"));

    [Fact]
    public Task Bidirectional_model_shapes_are_its_own() => Verify(
        "tagger.Forward(new float[6], 1, {|#0:new float[5]|});",
        Mismatch("output", "Tagger.Forward", 5, "[B, T, 10]", "[1, 2, 10] = 20 floats with B = 1 from 'batchSize' and T = 2 from 'input'"));

    [Fact]
    public Task Calls_of_an_inference_context_are_checked_as_the_models_are() => Verify(
        """
        Forecaster.InferenceContext context = model.ShareWeights().CreateContext();
        context.Forward(new float[2 * 5 * 8], 2, new float[2 * 5 * 32], new float[128], new float[128], new float[128], new float[128]);
        context.PredictLast(new float[16], 2, {|#0:new float[4]|});
        context.Step(new float[8], {|#1:new float[64]|});
        tagger.ShareWeights().CreateContext().PredictSequence(new float[9], 3, new float[6]);
        """,
        Mismatch("prediction", "InferenceContext.PredictLast", 4, "[B, 4]", "[2, 4] = 8 floats with B = 2 from 'batchSize'"),
        new DiagnosticResult(DiagnosticDescriptors.ShapeMismatch).WithLocation(1).WithArguments(
            "output", "InferenceContext.Step", "64", "[B, 32]", "[1, 32] = 32 floats with B = 1 from 'input'", "floats"));

    [Fact]
    public Task Empty_input_is_reported() => Verify(
        "model.Forward({|#0:default|}, 1, given);",
        Mismatch("input", "Forecaster.Forward", 0, "[B, T, 8]", "[1, T, 8]: a non-zero multiple of 8 floats with B = 1 from 'batchSize'"));

    [Fact]
    public Task Named_arguments_in_any_order_are_matched_to_their_parameters() => Verify(
        "model.Forward(output: {|#0:new float[10]|}, batchSize: 1, input: new float[8]);",
        Mismatch("output", "Forecaster.Forward", 10, "[B, T, 32]", "[1, 1, 32] = 32 floats with B = 1 from 'batchSize' and T = 1 from 'input'"));

    [Fact]
    public Task Correct_calls_of_every_generated_method_report_nothing() => Verify(
        """
        model.Forward(new float[2 * 5 * 8], 2, new float[2 * 5 * 32]);
        model.Forward(new float[2 * 5 * 8], 2, new float[2 * 5 * 32], new float[128], new float[128], new float[128], new float[128]);
        model.Forward(new float[2 * 5 * 8], 2, new float[2 * 5 * 32], default, Span<float>.Empty, [], ReadOnlySpan<float>.Empty.ToArray());
        model.PredictLast(new float[2 * 5 * 8], 2, new float[8]);
        model.PredictLast(new float[2 * 5 * 8], 2, new float[8], h0: new float[128]);
        model.PredictSequence(stackalloc float[2 * 5 * 8], 2, stackalloc float[2 * 5 * 4], c0: default);
        model.Step(new float[3 * 8], new float[3 * 32]);
        model.StepPredict([1, 2, 3, 4, 5, 6, 7, 8], [0, 0, 0, 0]);
        tagger.Forward(new float[6], 1, new float[20], new float[10], new float[10]);
        tagger.PredictSequence(new float[9], 3, new float[6]);
        """);

    [Fact]
    public Task Calls_through_the_interfaces_are_not_checked() => Verify(
        "((IRecurrentModel)model).Forward(new float[12], 1, new float[5], default, default, default, default);");

    // ---- MG0018 ----

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public Task MG0018_constant_batch_size_below_one_is_reported_on_the_argument(string batch) => Verify(
        $"model.Forward(new float[16], {{|#0:{batch}|}}, new float[64]);",
        new DiagnosticResult(DiagnosticDescriptors.InvalidBatchSize).WithLocation(0)
            .WithArguments("batchSize", "Forecaster.Forward", batch));

    [Fact]
    public Task MG0018_constant_batch_size_of_one_and_variable_batch_sizes_report_nothing() => Verify(
        "model.Forward(new float[16], 1, new float[64]); model.Forward(new float[16], n, new float[64]); model.ResetState(0);");

    // ---- Any method with the attribute, generated or not ----

    [Fact]
    public Task A_hand_written_method_with_shape_attributes_is_checked_too() => new AnalyzerTest<TensorShapeAnalyzer>(
        """
        using System;
        using ModelGen;
        public static class Custom
        {
            public static void Scale([TensorShape("[B, 3, 4]", BatchParameter = "batch")] ReadOnlySpan<float> x, int batch,
                [TensorShape("[B, 2]", BatchParameter = "batch")] Span<float> y) { }
            public static void Run() => Scale(new float[24], 2, {|#0:new float[5]|});
        }
        """,
        Mismatch("y", "Custom.Scale", 5, "[B, 2]", "[2, 2] = 4 floats with B = 2 from 'batch'")).RunAsync();
}
