using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// The declaration diagnostics of <c>[SequenceModel]</c> graphs: MG0019–MG0024, each at its exact place (span and
/// message), MG0001/MG0002/MG0003/MG0005/MG0006 on graph attribute arguments, and valid graphs that report
/// nothing. The generator runs (as it does in a project), but compiler diagnostics are not compared here: that an
/// invalid graph leaves no compiler error of its own is <see cref="GraphCommandLineBuildTests"/>' subject, and that
/// valid graphs compile is <see cref="GraphCompilationTests"/>'.
/// </summary>
public class GraphDiagnosticTests
{
    internal static Task Verify(string source, params DiagnosticResult[] expected) =>
        new AnalyzerTest<ModelDeclarationAnalyzer>("using ModelGen;\n" + source, expected)
        {
            CompilerDiagnostics = CompilerDiagnostics.None,
        }.RunAsync();

    private static DiagnosticResult Expect(DiagnosticDescriptor descriptor, int location, params object[] arguments) =>
        new DiagnosticResult(descriptor).WithLocation(location).WithArguments(arguments);

    /// <summary>The example of the documentation: token ids → bidirectional LSTM → final hidden state → 12 classes.</summary>
    internal const string TopicClassifier = """
        [SequenceModel]
        public partial class TopicClassifier
        {
            [Embedding(NumEmbeddings = 96, EmbeddingDim = 32, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Lstm(InputSize = 32, HiddenSize = 64, Bidirectional = true)] public partial Lstm Rnn { get; }
            [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
            [Linear(InFeatures = 128, OutFeatures = 12)] public partial Linear Fc { get; }
        }
        """;

    /// <summary>Features in (8 per step), per-step features out (3): LSTM → GRU → LayerNorm → Linear.</summary>
    internal const string FeatureTagger = """
        [SequenceModel]
        public partial class FeatureTagger
        {
            [Lstm(InputSize = 8, HiddenSize = 16)] public partial Lstm Encoder { get; }
            [Gru(InputSize = 16, HiddenSize = 24)] public partial Gru Decoder { get; }
            [LayerNorm(NormalizedShape = 24)] public partial LayerNorm Norm { get; }
            [Linear(InFeatures = 24, OutFeatures = 3)] public partial Linear Head { get; }
        }
        """;

    // ---- Valid graphs ----

    [Fact]
    public Task The_documented_topic_classifier_reports_nothing() => Verify(TopicClassifier);

    [Fact]
    public Task A_features_graph_lstm_gru_layer_norm_linear_reports_nothing() => Verify(FeatureTagger);

    [Fact]
    public Task Bidirectional_modules_pass_on_twice_their_hidden_size() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Lstm(InputSize = 8, HiddenSize = 16, Bidirectional = true)] public partial Lstm First { get; }
            [Gru(InputSize = 32, HiddenSize = 8, Bidirectional = true, NumLayers = 3)] public partial Gru Second { get; }
            [Rnn(InputSize = 16, HiddenSize = 5, Nonlinearity = RnnNonlinearity.Relu)] public partial Rnn Third { get; }
            [Linear(InFeatures = 5, OutFeatures = 2)] public partial Linear Head { get; }
        }
        """);

    [Fact]
    public Task Final_hidden_after_a_bidirectional_two_layer_lstm_gives_twice_the_hidden_size() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Lstm(InputSize = 8, HiddenSize = 16, NumLayers = 2, Bidirectional = true, Dropout = 0.25f)] public partial Lstm Rnn { get; }
            [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
            [Linear(InFeatures = 32, OutFeatures = 4)] public partial Linear Fc { get; }
        }
        """);

    [Fact]
    public Task A_projection_makes_the_output_d_times_proj_size() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Lstm(InputSize = 8, HiddenSize = 16, ProjSize = 4, Bidirectional = true)] public partial Lstm Rnn { get; }
            [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
            [Linear(InFeatures = 8, OutFeatures = 4)] public partial Linear Fc { get; }
        }
        """);

    [Fact]
    public Task Activations_dropout_and_reductions_pass_the_features_on() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 8)] public partial Linear In { get; }
            [ReLU] public partial Activation Act { get; }
            [Dropout(0.1f)] public partial Dropout Drop { get; }
            [Gru(InputSize = 8, HiddenSize = 6, Bidirectional = true)] public partial Gru Rnn { get; }
            [LayerNorm(NormalizedShape = 12, ElementwiseAffine = false)] public partial LayerNorm Norm { get; }
            [Tanh] public partial Activation Squash { get; }
            [Reduce(ReduceMode.Max)] public partial Reduction Pool { get; }
            [GELU] public partial Activation Gelu { get; }
            [Sigmoid] public partial Activation Gate { get; }
            [Linear(InFeatures = 12, OutFeatures = 2, Bias = false)] public partial Linear Out { get; }
        }
        """);

    [Fact]
    public Task Sequential_names_negative_padding_idx_and_shared_names_of_parameterless_modules_report_nothing() => Verify(
        """
        [SequenceModel]
        internal partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 4, PaddingIdx = -10)] public partial Embedding Embed { get; }
            [Linear(InFeatures = 4, OutFeatures = 4, Name = "layers.0")] public partial Linear L0 { get; }
            [ReLU(Name = "layers.0")] public partial Activation A0 { get; }
            [Linear(InFeatures = 4, OutFeatures = 4, Name = "layers.1")] public partial Linear L1 { get; }
            [ReLU(Name = "act")] public partial Activation A1 { get; }
            [Linear(InFeatures = 4, OutFeatures = 4, Name = "layers.10")] internal partial Linear L10 { get; }
        }
        """);

    [Fact]
    public Task A_graph_of_one_module_and_a_graph_nested_in_a_partial_type_report_nothing() => Verify(
        """
        [SequenceModel] public partial class Single { [Linear(InFeatures = 4, OutFeatures = 2)] public partial Linear Fc { get; } }
        public partial class Outer
        {
            [SequenceModel] public partial class Inner { [Embedding(NumEmbeddings = 5, EmbeddingDim = 3, PaddingIdx = 4)] public partial Embedding Embed { get; } }
        }
        """);

    // ---- MG0019 module input mismatch ----

    [Fact]
    public Task MG0019_linear_after_a_bidirectional_final_hidden_must_read_twice_the_hidden_size() => Verify(
        TopicClassifier.Replace("InFeatures = 128", "{|#0:InFeatures = 64|}", StringComparison.Ordinal),
        Expect(DiagnosticDescriptors.ModuleInputMismatch, 0, "InFeatures", "Fc", "128", "Pool", "64"));

    [Fact]
    public Task MG0019_recurrent_module_after_a_bidirectional_one_is_reported_on_input_size() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Lstm(InputSize = 8, HiddenSize = 16, Bidirectional = true)] public partial Lstm First { get; }
            [Gru({|#0:InputSize = 16|}, HiddenSize = 8)] public partial Gru Second { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleInputMismatch, 0, "InputSize", "Second", "32", "First", "16"));

    [Fact]
    public Task MG0019_the_features_come_through_dropout_and_activations_and_count_the_projection() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Lstm(InputSize = 8, HiddenSize = 20, ProjSize = 5, NumLayers = 2, Bidirectional = true)] public partial Lstm Rnn { get; }
            [Dropout] public partial Dropout Drop { get; }
            [ReLU] public partial Activation Act { get; }
            [Linear({|#0:InFeatures = 20|}, OutFeatures = 2)] public partial Linear Fc { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleInputMismatch, 0, "InFeatures", "Fc", "10", "Act", "20"));

    [Fact]
    public Task MG0019_every_mismatch_of_a_graph_is_reported_at_its_own_argument() => Verify(
        """
        static class Sizes { public const int Wide = 30; }
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 50, EmbeddingDim = 12)] public partial Embedding Embed { get; }
            [Rnn({|#0:InputSize = 13|}, HiddenSize = 6)] public partial Rnn Rnn { get; }
            [Reduce(ReduceMode.Mean)] public partial Reduction Pool { get; }
            [Linear(InFeatures = 6, OutFeatures = 10)] public partial Linear Fc { get; }
            [LayerNorm({|#1:NormalizedShape = Sizes.Wide|})] public partial LayerNorm Norm { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleInputMismatch, 0, "InputSize", "Rnn", "12", "Embed", "13"),
        Expect(DiagnosticDescriptors.ModuleInputMismatch, 1, "NormalizedShape", "Norm", "10", "Fc", "30"));

    [Fact]
    public void MG0019_carries_the_argument_and_the_expected_value_for_the_code_fix()
    {
        string source = "using ModelGen;\n" + TopicClassifier.Replace("InFeatures = 128", "InFeatures = 64", StringComparison.Ordinal);
        Diagnostic diagnostic = Assert.Single(GraphCommandLineBuildTests.Build(source).Analyzers);
        Assert.Equal(DiagnosticDescriptors.ModuleInputMismatchId, diagnostic.Id);
        Assert.Equal("InFeatures", diagnostic.Properties["Argument"]);
        Assert.Equal("128", diagnostic.Properties["Expected"]);
        Assert.Equal("InFeatures of 'Fc' must be 128, the features per row that 'Pool' passes on, but it is 64",
            diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("InFeatures = 64", source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
    }

    // ---- MG0020 module misplaced ----

    [Fact]
    public Task MG0020_embedding_after_another_module_is_reported_on_its_property() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 8)] public partial Linear Fc { get; }
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding {|#0:Embed|} { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "Embed",
            "an Embedding reads token ids, which only the graph's input has, so it must be the first module"));

    [Fact]
    public Task MG0020_reduction_without_a_recurrent_module_before_it() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Reduce(ReduceMode.Mean)] public partial Reduction {|#0:Pool|} { get; }
            [Linear(InFeatures = 8, OutFeatures = 2)] public partial Linear Fc { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "Pool", "a reduction over time needs a recurrent module (Lstm, Gru or Rnn) before it"));

    [Theory]
    [InlineData("[LayerNorm(NormalizedShape = 16)] public partial LayerNorm Norm { get; }")]
    [InlineData("[Dropout(0.2f)] public partial Dropout Drop { get; }")]
    [InlineData("[Linear(InFeatures = 16, OutFeatures = 16)] public partial Linear Mix { get; }")]
    public Task MG0020_final_hidden_not_right_after_the_recurrent_module(string between) => Verify(
        $$"""
        [SequenceModel]
        public partial class M
        {
            [Gru(InputSize = 4, HiddenSize = 16)] public partial Gru Rnn { get; }
            {{between}}
            [Reduce(ReduceMode.FinalHidden)] public partial Reduction {|#0:Pool|} { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "Pool",
            "ReduceMode.FinalHidden reads the final hidden state h_n of the recurrent module right before it; put it directly after the Lstm, Gru or Rnn"));

    [Theory]
    [InlineData("[Lstm(InputSize = 16, HiddenSize = 4)] public partial Lstm {|#0:Again|} { get; }")]
    [InlineData("[Reduce(ReduceMode.Max)] public partial Reduction {|#0:Again|} { get; }")]
    public Task MG0020_recurrent_module_or_second_reduction_after_a_reduction(string after) => Verify(
        $$"""
        [SequenceModel]
        public partial class M
        {
            [Lstm(InputSize = 4, HiddenSize = 16)] public partial Lstm Rnn { get; }
            [Reduce(ReduceMode.Last)] public partial Reduction Pool { get; }
            {{after}}
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "Again",
            "it needs steps, but the reduction before it has already reduced them to one row per sequence"));

    [Theory]
    [InlineData("[ReLU] public partial Activation {|#0:First|} { get; }")]
    [InlineData("[Dropout] public partial Dropout {|#0:First|} { get; }")]
    [InlineData("[Reduce(ReduceMode.Last)] public partial Reduction {|#0:First|} { get; }")]
    public Task MG0020_first_module_that_states_no_input_size(string first) => Verify(
        $$"""
        [SequenceModel]
        public partial class M
        {
            {{first}}
            [Lstm(InputSize = 4, HiddenSize = 16)] public partial Lstm Rnn { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "First",
            "the first module must say what the graph reads: an Embedding (token ids), a recurrent module (InputSize), a Linear (InFeatures) or a LayerNorm"));

    [Fact]
    public Task MG0020_reductions_other_than_final_hidden_need_not_follow_the_recurrent_module_directly() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Lstm(InputSize = 4, HiddenSize = 16)] public partial Lstm Rnn { get; }
            [LayerNorm(NormalizedShape = 16)] public partial LayerNorm Norm { get; }
            [Reduce(ReduceMode.Last)] public partial Reduction Pool { get; }
            [Linear(InFeatures = 16, OutFeatures = 16)] public partial Linear Fc { get; }
        }
        """);

    // ---- MG0021 PaddingIdx ----

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    [InlineData("-11")]
    public Task MG0021_padding_idx_outside_the_vocabulary_is_reported_on_the_argument(string padding) => Verify(
        $"[SequenceModel] public partial class M {{ [Embedding(NumEmbeddings = 10, EmbeddingDim = 4, {{|#0:PaddingIdx = {padding}|}})] public partial Embedding Embed {{ get; }} }}",
        Expect(DiagnosticDescriptors.PaddingIdxOutOfRange, 0, "10", padding));

    [Theory]
    [InlineData("0")]
    [InlineData("9")]
    [InlineData("-1")]
    [InlineData("-10")]
    public Task MG0021_padding_idx_inside_the_vocabulary_reports_nothing(string padding) => Verify(
        $"[SequenceModel] public partial class M {{ [Embedding(NumEmbeddings = 10, EmbeddingDim = 4, PaddingIdx = {padding})] public partial Embedding Embed {{ get; }} }}");

    // ---- MG0022 module names ----

    [Fact]
    public Task MG0022_two_modules_with_the_same_explicit_name_are_reported_on_the_second_name() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 4, Name = "fc")] public partial Linear Fc1 { get; }
            [Linear(InFeatures = 4, OutFeatures = 2, {|#0:Name = "fc"|})] public partial Linear Fc2 { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleNameCollision, 0, "Fc2", "fc", "'Fc1' has that name already"));

    [Fact]
    public Task MG0022_property_names_with_the_same_snake_case_are_reported_on_the_second_property() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 4)] public partial Linear Fc1 { get; }
            [Linear(InFeatures = 4, OutFeatures = 2)] public partial Linear {|#0:FC1|} { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleNameCollision, 0, "FC1", "fc1", "'Fc1' differs from it only in case, and the generated names of the two would be the same"));

    [Fact]
    public Task MG0022_an_explicit_name_that_is_another_modules_default_name() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Lstm(InputSize = 4, HiddenSize = 4)] public partial Lstm OutputHead { get; }
            [Linear(InFeatures = 4, OutFeatures = 2, {|#0:Name = "output_head"|})] public partial Linear Fc { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleNameCollision, 0, "Fc", "output_head", "'OutputHead' has that name already"));

    [Theory]
    [InlineData("enc", "enc.out")]
    [InlineData("enc.out", "enc")]
    public Task MG0022_nested_names_are_reported(string first, string second) => Verify(
        $$"""
        [SequenceModel]
        public partial class M
        {
            [Gru(InputSize = 4, HiddenSize = 4, Name = "{{first}}")] public partial Gru First { get; }
            [Linear(InFeatures = 4, OutFeatures = 2, {|#0:Name = "{{second}}"|})] public partial Linear Second { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleNameCollision, 0, "Second", second, $"it nests with 'First' ('{first}'), so their keys would mix"));

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData(".fc", "a name cannot start or end with a dot or have an empty part")]
    [InlineData("fc.", "a name cannot start or end with a dot or have an empty part")]
    [InlineData("layers..0", "a name cannot start or end with a dot or have an empty part")]
    [InlineData("my fc", "each part of a name is made of ASCII letters, digits and underscores, as PyTorch's attribute names and nn.Sequential's indices are")]
    [InlineData("a\\\\b", "each part of a name is made of ASCII letters, digits and underscores, as PyTorch's attribute names and nn.Sequential's indices are")]
    public Task MG0022_invalid_names_are_reported_on_the_name_argument(string name, string reason) => Verify(
        $$"""
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 2, {|#0:Name = "{{name}}"|})] public partial Linear Fc { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleNameCollision, 0, "Fc", name.Replace("\\\\", "\\", StringComparison.Ordinal), reason));

    [Fact]
    public Task MG0022_an_invalid_name_of_a_parameterless_module_is_reported_too() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 2)] public partial Linear Fc { get; }
            [ReLU({|#0:Name = ""|})] public partial Activation Act { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleNameCollision, 0, "Act", "", "it is empty"));

    // ---- MG0023 module property ----

    [Theory]
    [InlineData("public Linear {|#0:Fc|} { get; }", "it is not partial")]
    [InlineData("public static partial Linear {|#0:Fc|} { get; }", "it is static")]
    [InlineData("public partial Linear {|#0:Fc|} { get; set; }", "it must have a get accessor only")]
    [InlineData("public partial Linear {|#0:Fc|} { get; init; }", "it must have a get accessor only")]
    [InlineData("public partial Gru {|#0:Fc|} { get; }", "its type is ModelGen.Gru, not ModelGen.Linear")]
    [InlineData("public partial int {|#0:Fc|} { get; }", "its type is int, not ModelGen.Linear")]
    public Task MG0023_invalid_module_property_is_reported_on_its_identifier(string declaration, string reason) => Verify(
        $$"""
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 2)] {{declaration}}
        }
        """,
        Expect(DiagnosticDescriptors.ModulePropertyInvalid, 0, "Fc", "Linear", "Linear", reason));

    [Fact]
    public Task MG0023_activation_property_must_have_the_activation_view_type() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 2)] public partial Linear Fc { get; }
            [ReLU] public partial Linear {|#0:Act|} { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModulePropertyInvalid, 0, "Act", "ReLU", "Activation", "its type is ModelGen.Linear, not ModelGen.Activation"));

    // ---- MG0024 graph without modules ----

    [Theory]
    [InlineData("[{|#0:SequenceModel|}] public partial class M;")]
    [InlineData("[{|#0:SequenceModel|}] public partial class M { public int Width { get; } [System.Obsolete] public Linear? Fc { get; } }")]
    [InlineData("[{|#0:ModelGen.SequenceModel|}] public partial class M { }")]
    public Task MG0024_graph_without_modules_is_reported_on_the_attribute_name(string source) => Verify(
        source,
        Expect(DiagnosticDescriptors.GraphWithoutModules, 0, "M",
            "has no modules: declare them as partial properties with module attributes, e.g. [Linear(InFeatures = 8, OutFeatures = 4)] public partial Linear Fc { get; }"));

    [Fact]
    public Task MG0024_module_in_another_part_is_reported_on_its_property() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 2)] public partial Linear Fc { get; }
        }
        public partial class M
        {
            [Linear(InFeatures = 2, OutFeatures = 1)] public partial Linear {|#0:Head|} { get; }
        }
        """,
        Expect(DiagnosticDescriptors.GraphWithoutModules, 0, "M",
            "must declare its modules in the part that carries the attribute; 'Head' is in another part, where its order is not defined"));

    [Fact]
    public Task MG0024_other_members_in_another_part_report_nothing() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Linear(InFeatures = 4, OutFeatures = 2)] public partial Linear Fc { get; }
        }
        public partial class M
        {
            public int Width => 4;
        }
        """);

    // ---- MG0001 / MG0002 / MG0003 / MG0005 / MG0006 on graph attributes ----

    [Theory]
    [InlineData("[{|#0:Linear|}(OutFeatures = 4)] public partial Linear Fc { get; }", "Linear", "InFeatures", "Fc")]
    [InlineData("[{|#0:Linear|}(InFeatures = 4)] public partial Linear Fc { get; }", "Linear", "OutFeatures", "Fc")]
    [InlineData("[{|#0:Embedding|}(NumEmbeddings = 4)] public partial Embedding Embed { get; }", "Embedding", "EmbeddingDim", "Embed")]
    [InlineData("[{|#0:Gru|}(HiddenSize = 4)] public partial Gru Rnn { get; }", "Gru", "InputSize", "Rnn")]
    [InlineData("[{|#0:ModelGen.Lstm|}(InputSize = 4)] public partial Lstm Rnn { get; }", "Lstm", "HiddenSize", "Rnn")]
    [InlineData("[{|#0:LayerNorm|}] public partial LayerNorm Norm { get; }", "LayerNorm", "NormalizedShape", "Norm")]
    public Task MG0001_missing_required_size_of_a_module_is_reported_on_the_attribute_name(string module, string attribute, string size, string property) => Verify(
        $"[SequenceModel] public partial class M {{ {module} }}",
        Expect(DiagnosticDescriptors.RequiredSizeMissing, 0, attribute, size, $"set it on '{property}', e.g. [{attribute}({size} = 16, …)]"));

    [Fact]
    public Task MG0001_two_missing_sizes_are_both_reported() => Verify(
        "[SequenceModel] public partial class M { [{|#0:Embedding|}] public partial Embedding Embed { get; } }",
        Expect(DiagnosticDescriptors.RequiredSizeMissing, 0, "Embedding", "NumEmbeddings", "set it on 'Embed', e.g. [Embedding(NumEmbeddings = 16, …)]"),
        Expect(DiagnosticDescriptors.RequiredSizeMissing, 0, "Embedding", "EmbeddingDim", "set it on 'Embed', e.g. [Embedding(EmbeddingDim = 16, …)]"));

    [Theory]
    [InlineData("[Linear(InFeatures = 4, {|#0:OutFeatures = 0|})] public partial Linear Fc { get; }", "OutFeatures", "at least 1", "0")]
    [InlineData("[Embedding({|#0:NumEmbeddings = -3|}, EmbeddingDim = 2)] public partial Embedding Embed { get; }", "NumEmbeddings", "at least 1", "-3")]
    [InlineData("[Lstm(InputSize = 4, {|#0:HiddenSize = 0|})] public partial Lstm Rnn { get; }", "HiddenSize", "at least 1", "0")]
    [InlineData("[Lstm(InputSize = 4, HiddenSize = 4, {|#0:NumLayers = 0|})] public partial Lstm Rnn { get; }", "NumLayers", "between 1 and 1024", "0")]
    [InlineData("[Gru(InputSize = 4, HiddenSize = 4, {|#0:NumLayers = 1025|})] public partial Gru Rnn { get; }", "NumLayers", "between 1 and 1024", "1025")]
    [InlineData("[Rnn(InputSize = 4, HiddenSize = 4, {|#0:Dropout = 1f|})] public partial Rnn Rnn { get; }", "Dropout", "in [0, 1)", "1")]
    [InlineData("[Gru(InputSize = 4, HiddenSize = 4, {|#0:Dropout = -0.5f|})] public partial Gru Rnn { get; }", "Dropout", "in [0, 1)", "-0.5")]
    [InlineData("[LayerNorm(NormalizedShape = 4, {|#0:Eps = 0|})] public partial LayerNorm Norm { get; }", "Eps", "above 0 and below 1", "0")]
    [InlineData("[Dropout({|#0:1.5f|})] public partial Dropout Drop { get; }", "p", "in [0, 1)", "1.5")]
    [InlineData("[Dropout({|#0:p: 1f|})] public partial Dropout Drop { get; }", "p", "in [0, 1)", "1")]
    [InlineData("[Reduce({|#0:(ReduceMode)7|})] public partial Reduction Pool { get; }", "mode", "a defined ReduceMode", "(ReduceMode)7")]
    public Task MG0002_out_of_range_module_argument_is_reported_on_the_argument(string module, string name, string expected, string actual) => Verify(
        $"[SequenceModel] public partial class M {{ [Lstm(InputSize = 4, HiddenSize = 4)] public partial Lstm First {{ get; }} {module} }}",
        Expect(DiagnosticDescriptors.SizeOutOfRange, 0, name, expected, actual));

    [Theory]
    [InlineData("8", "7")]
    [InlineData("-1", "7")]
    public Task MG0003_impossible_proj_size_of_an_lstm_module_is_reported_on_the_argument(string proj, string highest) => Verify(
        $"[SequenceModel] public partial class M {{ [Lstm(InputSize = 4, HiddenSize = 8, {{|#0:ProjSize = {proj}|}})] public partial Lstm Rnn {{ get; }} }}",
        Expect(DiagnosticDescriptors.ProjSizeOutOfRange, 0, proj, highest));

    [Fact]
    public Task MG0005_undefined_nonlinearity_of_an_rnn_module_is_reported_on_the_argument() => Verify(
        "[SequenceModel] public partial class M { [Rnn(InputSize = 4, HiddenSize = 8, {|#0:Nonlinearity = (RnnNonlinearity)5|})] public partial Rnn Rnn { get; } }",
        Expect(DiagnosticDescriptors.InvalidNonlinearity, 0, "(RnnNonlinearity)5"));

    [Fact]
    public Task MG0006_too_many_parameters_are_reported_on_the_sequence_model_attribute() => Verify(
        "[{|#0:SequenceModel|}] public partial class M { [Embedding(NumEmbeddings = 100000, EmbeddingDim = 20000)] public partial Embedding Embed { get; } }",
        Expect(DiagnosticDescriptors.LayoutOverflow, 0, "2000000000 parameters, more than 1073741823"));

    [Fact]
    public Task MG0006_too_wide_a_row_is_reported_on_the_sequence_model_attribute() => Verify(
        "[{|#0:SequenceModel|}] public partial class M { [Linear(InFeatures = 1, OutFeatures = 3000000)] public partial Linear Fc { get; } }",
        Expect(DiagnosticDescriptors.LayoutOverflow, 0, "a row of 3000000 floats, more than 2097151"));

    // ---- The declaration checks of every model ----

    [Fact]
    public Task Type_checks_of_the_recurrent_models_apply_to_graphs() => Verify(
        """
        public class {|#0:Outer|}
        {
            [SequenceModel] public static class {|#1:M|} { }
        }
        """,
        Expect(DiagnosticDescriptors.ContainingTypeNotPartial, 0, "Outer", "M"),
        Expect(DiagnosticDescriptors.TypeNotPartial, 1, "M"),
        Expect(DiagnosticDescriptors.TypeStatic, 1, "M"));
}
