using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using ModelGen.CodeFixes;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// The graph checks as the other analyzer tests run them: the generator runs and every compiler error or warning
/// counts, so a valid graph's generated code must compile. These tests need the runtime kernels the generated
/// graph code calls (<c>ModelGen.Kernels.EmbeddingKernel</c>, <c>LinearKernel</c>, <c>LayerNormKernel</c>,
/// <c>ActivationKernel</c>, <c>ReduceKernel</c>, <c>RecurrentKernel</c>, <c>SequenceLengths</c>); until they are in the
/// runtime, they fail with CS0234/CS0246 in the generated file.
/// </summary>
public class GraphCompilationTests
{
    [Fact]
    public Task The_documented_topic_classifier_compiles_and_reports_nothing() =>
        new AnalyzerTest<ModelDeclarationAnalyzer>("using ModelGen;\n" + GraphDiagnosticTests.TopicClassifier).RunAsync();

    [Fact]
    public Task A_features_graph_compiles_and_reports_nothing() =>
        new AnalyzerTest<ModelDeclarationAnalyzer>("using ModelGen;\n" + GraphDiagnosticTests.FeatureTagger).RunAsync();

    [Fact]
    public Task A_wrong_output_of_a_compiled_graph_gets_MG0017() => new AnalyzerTest<TensorShapeAnalyzer>(
        "using ModelGen;\n" + GraphDiagnosticTests.TopicClassifier + """

        public static class Use
        {
            public static void Run(TopicClassifier model) => model.Forward(new int[2 * 5], 2, {|#0:new float[12]|});
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.ShapeMismatch).WithLocation(0)
            .WithArguments("output", "TopicClassifier.Forward", "12", "[B, 12]", "[2, 12] = 24 floats with B = 2 from 'batchSize'", "floats")).RunAsync();

    [Fact]
    public Task The_fixed_graph_compiles() => new CodeFixTest<ModelDeclarationAnalyzer, SetModuleInputSizeCodeFixProvider>(
        "using ModelGen;\n" + GraphDiagnosticTests.TopicClassifier.Replace("InFeatures = 128", "{|#0:InFeatures = 64|}", StringComparison.Ordinal),
        "using ModelGen;\n" + GraphDiagnosticTests.TopicClassifier,
        // The invalid graph gets only stubs of its module properties, so the compiler reports nothing beside MG0019.
        new DiagnosticResult(DiagnosticDescriptors.ModuleInputMismatch).WithLocation(0).WithArguments("InFeatures", "Fc", "128", "Pool", "64")).RunAsync();

    /// <summary>The encoder–decoders of <see cref="Seq2SeqDiagnosticTests"/>: without attention, Luong (after the GRU) and Bahdanau (before it).</summary>
    public static TheoryData<string> Seq2SeqDecoders() => new() { "plain", "luong", "bahdanau" };

    private static string Seq2Seq(string decoder) => "using ModelGen;\n" + Seq2SeqDiagnosticTests.Seq2Seq(
        Seq2SeqDiagnosticTests.Encoder,
        decoder switch
        {
            "luong" => Seq2SeqDiagnosticTests.LuongDecoder,
            "bahdanau" => Seq2SeqDiagnosticTests.BahdanauDecoder,
            _ => Seq2SeqDiagnosticTests.Decoder,
        }).Replace("{|#0:", "", StringComparison.Ordinal).Replace("{|#1:", "", StringComparison.Ordinal).Replace("|}", "", StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(Seq2SeqDecoders))]
    public Task A_seq2seq_model_compiles_and_reports_nothing(string decoder) =>
        new AnalyzerTest<ModelDeclarationAnalyzer>(Seq2Seq(decoder)).RunAsync();

    [Theory]
    [MemberData(nameof(Seq2SeqDecoders))]
    public void A_seq2seq_model_compiles_in_a_command_line_build_without_errors_or_warnings(string decoder)
    {
        (ImmutableArray<Diagnostic> stopping, ImmutableArray<Diagnostic> analyzers, ImmutableArray<Diagnostic> emit) = GraphCommandLineBuildTests.Build(Seq2Seq(decoder));
        Assert.Empty(stopping);
        Assert.Equal([], analyzers.Select(d => d.ToString()));
        Assert.Equal([], emit.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).Take(10));
    }

    [Fact]
    public void Valid_graphs_compile_in_a_command_line_build_without_errors_or_warnings()
    {
        string source = "using ModelGen;\n" + GraphDiagnosticTests.TopicClassifier + "\n" + GraphDiagnosticTests.FeatureTagger;
        (ImmutableArray<Diagnostic> stopping, ImmutableArray<Diagnostic> analyzers, ImmutableArray<Diagnostic> emit) = GraphCommandLineBuildTests.Build(source);
        Assert.Empty(stopping);
        Assert.Empty(analyzers);
        Assert.Equal([], emit.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).Take(10));
    }
}
