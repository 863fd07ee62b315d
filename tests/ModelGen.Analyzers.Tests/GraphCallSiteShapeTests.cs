using Microsoft.CodeAnalysis.Testing;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// MG0017 and MG0018 at calls of a generated graph's methods, whose token and length parameters are
/// <c>ReadOnlySpan&lt;int&gt;</c> (<c>[B, T]</c> and <c>[B]</c>, the lengths may be empty). The generator runs, so
/// the calls bind to the generated methods and their <c>[TensorShape]</c> attributes; compiler diagnostics are
/// not compared, because the generated bodies need runtime kernels (see <see cref="GraphCompilationTests"/>).
/// </summary>
public class GraphCallSiteShapeTests
{
    private static string Calls(string body) => "using System;\nusing ModelGen;\n" + GraphDiagnosticTests.TopicClassifier + "\n"
        + GraphDiagnosticTests.FeatureTagger + "\n" + $$"""
        public static class Use
        {
            public static void Run(TopicClassifier model, FeatureTagger tagger, int n, int[] givenTokens, float[] given)
            {
                {{body}}
            }
        }
        """;

    internal static Task Verify(string body, params DiagnosticResult[] expected) =>
        new AnalyzerTest<TensorShapeAnalyzer>(Calls(body), expected) { CompilerDiagnostics = CompilerDiagnostics.None }.RunAsync();

    private static DiagnosticResult Mismatch(int location, string parameter, string method, long length, string shape, string need) =>
        new DiagnosticResult(DiagnosticDescriptors.ShapeMismatch).WithLocation(location)
            .WithArguments(parameter, method, length.ToString(System.Globalization.CultureInfo.InvariantCulture), shape, need,
                parameter is "tokens" or "lengths" ? "ints" : "floats");

    [Fact]
    public Task Constant_length_wrong_output_of_a_reducing_graph_is_reported() => Verify(
        "model.Forward(new int[2 * 5], 2, {|#0:new float[12]|});",
        Mismatch(0, "output", "TopicClassifier.Forward", 12, "[B, 12]", "[2, 12] = 24 floats with B = 2 from 'batchSize'"));

    /// <remarks>An int buffer is counted in ints, in both halves of the message.</remarks>
    [Theory]
    [InlineData("new int[7]", 7)]
    [InlineData("new int[] { 1, 2, 3 }", 3)]
    [InlineData("[1, 2, 3]", 3)]
    [InlineData("stackalloc int[5]", 5)]
    [InlineData("new ReadOnlySpan<int>(new int[9])", 9)]
    public Task Constant_length_tokens_that_are_no_multiple_of_the_batch_are_reported(string tokens, long length) => Verify(
        $"model.Forward({{|#0:{tokens}|}}, 2, given);",
        Mismatch(0, "tokens", "TopicClassifier.Forward", length, "[B, T]", "[2, T]: a non-zero multiple of 2 ints with B = 2 from 'batchSize'"));

    [Fact]
    public Task Empty_tokens_are_reported() => Verify(
        "model.Forward({|#0:ReadOnlySpan<int>.Empty|}, 1, given);",
        Mismatch(0, "tokens", "TopicClassifier.Forward", 0, "[B, T]", "[1, T]: a non-zero multiple of 1 ints with B = 1 from 'batchSize'"));

    [Fact]
    public Task Tokens_give_the_steps_and_lengths_must_have_one_entry_per_row() => Verify(
        "model.TrainForward(new int[10], 2, new float[24], {|#0:new int[3]|});",
        Mismatch(0, "lengths", "TopicClassifier.TrainForward", 3, "[B]", "[2] = 2 ints with B = 2 from 'batchSize', or an empty span"));

    [Fact]
    public Task Per_step_output_of_a_features_graph_uses_the_steps_the_input_implies() => Verify(
        "tagger.Forward(new float[2 * 5 * 8], 2, {|#0:new float[10]|});",
        Mismatch(0, "output", "FeatureTagger.Forward", 10, "[B, T, 3]", "[2, 5, 3] = 30 floats with B = 2 from 'batchSize' and T = 5 from 'input'"));

    [Fact]
    public Task Streaming_step_of_a_features_graph_is_checked() => Verify(
        "tagger.Step({|#0:new float[12]|}, given);",
        Mismatch(0, "input", "FeatureTagger.Step", 12, "[B, 8]", "[B, 8]: a non-zero multiple of 8 floats"));

    [Fact]
    public Task MG0018_constant_batch_size_below_one_is_reported() => Verify(
        "model.Forward(new int[4], {|#0:0|}, new float[12]);",
        new DiagnosticResult(DiagnosticDescriptors.InvalidBatchSize).WithLocation(0).WithArguments("batchSize", "TopicClassifier.Forward", "0"));

    [Fact]
    public Task Correct_and_non_constant_calls_report_nothing() => Verify(
        """
        model.Forward(new int[2 * 5], 2, new float[2 * 12]);
        model.Forward([1, 2, 3], 1, new float[12]);
        model.Forward(new int[10], 2, new float[24], new int[] { 5, 3 });
        model.Forward(new int[10], 2, new float[24], default);
        model.Forward(new int[10], 2, new float[24], []);
        model.TrainForward(stackalloc int[6], 3, stackalloc float[36], lengths: ReadOnlySpan<int>.Empty);
        model.Forward(givenTokens, n, given, givenTokens);
        model.Forward(new int[n], 2, new float[24]);
        tagger.Forward(new float[2 * 5 * 8], 2, new float[2 * 5 * 3], [5, 4]);
        tagger.Step(new float[8], new float[3]);
        """);
    /// <remarks>
    /// An encoder–decoder's logits are <c>[B, Tt, V]</c>, Tt from the target tokens, and its attention weights
    /// <c>[B, Tt, Ts]</c>, Ts from the source tokens.
    /// </remarks>
    [Fact]
    public Task Seq2seq_logits_and_attention_follow_the_source_and_target_steps() =>
        new AnalyzerTest<TensorShapeAnalyzer>(
            "using System;\nusing ModelGen;\n" + Seq2SeqDiagnosticTests.Encoder + "\n" + Seq2SeqDiagnosticTests.LuongDecoder + "\n"
            + "[Seq2SeqModel(typeof(Encoder), typeof(Decoder))]\npublic partial class Speller;\n" + """
            public static class Use
            {
                public static void Run(Speller model)
                {
                    model.Forward(new int[2 * 6], new int[2 * 5], 2, {|#0:new float[2 * 5 * 39]|});
                    model.Forward(new int[2 * 6], new int[2 * 5], 2, new float[2 * 5 * 40], attention: {|#1:new float[2 * 5 * 5]|});
                }
            }
            """,
            [
                Mismatch(0, "logits", "Speller.Forward", 390, "[B, Tt, 40]", "[2, 5, 40] = 400 floats with B = 2 from 'batchSize' and Tt = 5 from 'target'"),
                Mismatch(1, "attention", "Speller.Forward", 50, "[B, Tt, Ts]", "[2, 5, 6] = 60 floats with B = 2 from 'batchSize', Tt = 5 from 'target' and Ts = 6 from 'source', or an empty span"),
            ]) { CompilerDiagnostics = CompilerDiagnostics.None }.RunAsync();
}
