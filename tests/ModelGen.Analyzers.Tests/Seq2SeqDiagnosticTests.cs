using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// The declaration diagnostics of <c>[Seq2SeqModel]</c> encoder–decoders and of <c>[Attention]</c> modules: MG0025
/// for each reason of docs/diagnostics/MG0025.md, MG0026 for each difference of the bridged recurrent modules, both
/// at the offending <c>typeof</c> argument with the full message; MG0020 for the attention placements, MG0001/MG0002
/// on the attention's arguments; a graph with errors of its own is not reported again as MG0025. As
/// <see cref="GraphDiagnosticTests"/>, compiler diagnostics are not compared here; that valid encoder–decoders compile
/// warning-free is <see cref="GraphCompilationTests"/>' subject.
/// </summary>
public class Seq2SeqDiagnosticTests
{
    private static Task Verify(string source, params DiagnosticResult[] expected) => GraphDiagnosticTests.Verify(source, expected);

    private static DiagnosticResult Expect(DiagnosticDescriptor descriptor, int location, params object[] arguments) =>
        new DiagnosticResult(descriptor).WithLocation(location).WithArguments(arguments);

    private static DiagnosticResult Part(int location, string part, string role, string why) =>
        Expect(DiagnosticDescriptors.Seq2SeqPartInvalid, location, part, role, "Speller", why);

    private static DiagnosticResult Bridge(string why) =>
        Expect(DiagnosticDescriptors.BridgeMismatch, 1, "Decoder", "Encoder", why);

    /// <summary>Token ids → GRU(16, 32): its outputs are the memory [B, Ts, 32], its h_n starts the decoder.</summary>
    internal const string Encoder = """
        [SequenceModel]
        public partial class Encoder
        {
            [Embedding(NumEmbeddings = 30, EmbeddingDim = 16, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
        }
        """;

    /// <summary>Token ids → GRU(16, 32) → logits over 40 target tokens, without attention.</summary>
    internal const string Decoder = """
        [SequenceModel]
        public partial class Decoder
        {
            [Embedding(NumEmbeddings = 40, EmbeddingDim = 16, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
            [Linear(InFeatures = 32, OutFeatures = 40)] public partial Linear Fc { get; }
        }
        """;

    /// <summary>Luong: the GRU's output of each step is the query of a general attention, then combine → tanh → logits.</summary>
    internal const string LuongDecoder = """
        [SequenceModel]
        public partial class Decoder
        {
            [Embedding(NumEmbeddings = 40, EmbeddingDim = 16, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
            [Attention(AttentionScore.General, KeySize = 32)] public partial Attention Attn { get; }
            [Linear(InFeatures = 64, OutFeatures = 32)] public partial Linear Combine { get; }
            [Tanh] public partial Activation Squash { get; }
            [Linear(InFeatures = 32, OutFeatures = 40)] public partial Linear Fc { get; }
        }
        """;

    /// <summary>Bahdanau: additive attention before the GRU, whose hidden state is the query; the GRU reads [embedding; context].</summary>
    internal const string BahdanauDecoder = """
        [SequenceModel]
        public partial class Decoder
        {
            [Embedding(NumEmbeddings = 40, EmbeddingDim = 16, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Attention(AttentionScore.Additive, KeySize = 32, AttentionSize = 24)] public partial Attention Attn { get; }
            [Gru(InputSize = 48, HiddenSize = 32)] public partial Gru Rnn { get; }
            [Linear(InFeatures = 32, OutFeatures = 40)] public partial Linear Fc { get; }
        }
        """;

    private const string Model = """
        [Seq2SeqModel({|#0:typeof(Encoder)|}, {|#1:typeof(Decoder)|})]
        public partial class Speller;
        """;

    /// <summary>The model over <paramref name="encoder"/> and <paramref name="decoder"/>, the typeof arguments marked #0 and #1.</summary>
    internal static string Seq2Seq(string encoder, string decoder) => encoder + "\n" + decoder + "\n" + Model;

    // ---- Valid encoder–decoders ----

    [Fact]
    public Task An_encoder_decoder_without_attention_reports_nothing() => Verify(Strip(Seq2Seq(Encoder, Decoder)));

    [Fact]
    public Task An_encoder_decoder_with_luong_attention_reports_nothing() => Verify(Strip(Seq2Seq(Encoder, LuongDecoder)));

    [Fact]
    public Task An_encoder_decoder_with_bahdanau_attention_reports_nothing() => Verify(Strip(Seq2Seq(Encoder, BahdanauDecoder)));

    [Fact]
    public Task Two_layer_lstms_with_a_projection_and_dot_attention_report_nothing() => Verify(
        """
        [SequenceModel]
        public partial class Encoder
        {
            [Embedding(NumEmbeddings = 30, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Lstm(InputSize = 8, HiddenSize = 16, ProjSize = 6, NumLayers = 2)] public partial Lstm Rnn { get; }
        }
        [SequenceModel]
        public partial class Decoder
        {
            [Embedding(NumEmbeddings = 20, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Lstm(InputSize = 8, HiddenSize = 16, ProjSize = 6, NumLayers = 2)] public partial Lstm Rnn { get; }
            [Attention(AttentionScore.Dot, KeySize = 6)] public partial Attention Attn { get; }
            [Linear(InFeatures = 12, OutFeatures = 20)] public partial Linear Fc { get; }
        }
        [Seq2SeqModel(typeof(Encoder), typeof(Decoder))]
        public partial class Speller;
        """);

    [Fact]
    public Task Graphs_and_the_model_in_other_namespaces_and_nested_types_report_nothing() => Verify(
        """
        namespace Parts
        {
        """ + Encoder + Decoder + """
        }
        namespace Models
        {
            public partial class Outer
            {
                [Seq2SeqModel(typeof(Parts.Encoder), typeof(Parts.Decoder))]
                internal partial class Speller;
            }
        }
        """);

    private static string Strip(string source) =>
        source.Replace("{|#0:", "", StringComparison.Ordinal).Replace("{|#1:", "", StringComparison.Ordinal).Replace("|}", "", StringComparison.Ordinal);

    // ---- MG0025: the encoder or decoder is not a graph the model can use ----

    [Fact]
    public Task MG0025_a_class_that_is_not_a_graph() => Verify(
        "public class Encoder { }\n" + Decoder + "\n" + Model,
        Part(0, "Encoder", "encoder", "it is not a [SequenceModel] graph"));

    [Fact]
    public Task MG0025_a_recurrent_model_is_not_a_graph() => Verify(
        Encoder + "\n[GruModel(InputSize = 8, HiddenSize = 32, OutputSize = 40)] public partial class Decoder;\n" + Model,
        Part(1, "Decoder", "decoder", "it is not a [SequenceModel] graph"));

    [Fact]
    public Task MG0025_a_graph_of_features() => Verify(
        Seq2Seq(
            """
            [SequenceModel]
            public partial class Encoder
            {
                [Linear(InFeatures = 8, OutFeatures = 16)] public partial Linear In { get; }
                [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
            }
            """,
            Decoder),
        Part(0, "Encoder", "encoder", "it must read token ids: its first module must be an Embedding"));

    [Fact]
    public Task MG0025_two_recurrent_modules() => Verify(
        Seq2Seq(
            Encoder,
            """
            [SequenceModel]
            public partial class Decoder
            {
                [Embedding(NumEmbeddings = 40, EmbeddingDim = 16)] public partial Embedding Embed { get; }
                [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
                [Gru(InputSize = 32, HiddenSize = 32)] public partial Gru Again { get; }
                [Linear(InFeatures = 32, OutFeatures = 40)] public partial Linear Fc { get; }
            }
            """),
        Part(1, "Decoder", "decoder", "it must have exactly one recurrent module (Lstm, Gru or Rnn), which the bridge connects; it has 2"));

    [Fact]
    public Task MG0025_no_recurrent_module() => Verify(
        Seq2Seq(
            """
            [SequenceModel]
            public partial class Encoder
            {
                [Embedding(NumEmbeddings = 30, EmbeddingDim = 16)] public partial Embedding Embed { get; }
                [Linear(InFeatures = 16, OutFeatures = 32)] public partial Linear Fc { get; }
            }
            """,
            Decoder),
        Part(0, "Encoder", "encoder", "it must have exactly one recurrent module (Lstm, Gru or Rnn), which the bridge connects; it has 0"));

    [Fact]
    public Task MG0025_a_bidirectional_recurrent_module() => Verify(
        Seq2Seq(Encoder.Replace("HiddenSize = 32", "HiddenSize = 32, Bidirectional = true", StringComparison.Ordinal), Decoder),
        Part(0, "Encoder", "encoder", "its recurrent module 'Rnn' is bidirectional; the bridge carries a unidirectional state"));

    [Fact]
    public Task MG0025_a_reduction_over_time() => Verify(
        Seq2Seq(
            Encoder,
            """
            [SequenceModel]
            public partial class Decoder
            {
                [Embedding(NumEmbeddings = 40, EmbeddingDim = 16)] public partial Embedding Embed { get; }
                [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
                [Reduce(ReduceMode.Last)] public partial Reduction Pool { get; }
                [Linear(InFeatures = 32, OutFeatures = 40)] public partial Linear Fc { get; }
            }
            """),
        Part(1, "Decoder", "decoder", "it must give an output per step, so it cannot reduce over time"));

    [Fact]
    public Task MG0025_an_encoder_with_attention() => Verify(
        Seq2Seq(
            """
            [SequenceModel]
            public partial class Encoder
            {
                [Embedding(NumEmbeddings = 30, EmbeddingDim = 16)] public partial Embedding Embed { get; }
                [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
                [Attention(AttentionScore.Dot, KeySize = 32)] public partial Attention Attn { get; }
            }
            """,
            Decoder),
        Part(0, "Encoder", "encoder", "an encoder has no memory to attend to"));

    [Theory]
    [InlineData("public Decoder(int width) => Width = width; public int Width { get; }")]
    [InlineData("public Decoder() { }")]
    public Task MG0025_a_graph_with_constructors_of_its_own(string constructor) => Verify(
        Seq2Seq(Encoder, Decoder.Replace("public partial class Decoder\n{", "public partial class Decoder\n{\n    " + constructor, StringComparison.Ordinal)),
        Part(1, "Decoder", "decoder", "it declares constructors of its own, but the encoder–decoder model creates its parts over its own parameter buffer"));

    [Fact]
    public Task MG0025_a_graph_with_a_primary_constructor() => Verify(
        Seq2Seq(Encoder.Replace("public partial class Encoder", "public partial class Encoder(int width)", StringComparison.Ordinal)
                + "\npublic partial class Encoder { public int Width => width; }", Decoder),
        Part(0, "Encoder", "encoder", "it declares constructors of its own, but the encoder–decoder model creates its parts over its own parameter buffer"));

    [Fact]
    public Task MG0025_the_decoders_key_size_is_not_the_encoders_output() => Verify(
        Seq2Seq(Encoder, LuongDecoder.Replace("KeySize = 32", "KeySize = 16", StringComparison.Ordinal).Replace("InFeatures = 64", "InFeatures = 48", StringComparison.Ordinal)),
        Part(1, "Decoder", "decoder", "KeySize of its attention 'Attn' is 16, but the encoder 'Encoder' writes 32 features per step"));

    [Fact]
    public Task MG0025_the_key_size_counts_what_follows_the_encoders_recurrent_module() => Verify(
        Seq2Seq(
            """
            [SequenceModel]
            public partial class Encoder
            {
                [Embedding(NumEmbeddings = 30, EmbeddingDim = 16)] public partial Embedding Embed { get; }
                [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
                [Linear(InFeatures = 32, OutFeatures = 20)] public partial Linear Out { get; }
            }
            """,
            BahdanauDecoder),
        Part(1, "Decoder", "decoder", "KeySize of its attention 'Attn' is 32, but the encoder 'Encoder' writes 20 features per step"));

    [Fact]
    public Task MG0025_a_model_cannot_be_its_own_part() => Verify(
        Decoder + "\n[Seq2SeqModel({|#0:typeof(Speller)|}, typeof(Decoder))]\npublic partial class Speller;",
        Part(0, "Speller", "encoder", "a model cannot be its own part"));

    [Fact]
    public Task MG0025_both_parts_are_reported_at_their_own_argument() => Verify(
        Seq2Seq(
            Encoder.Replace("HiddenSize = 32", "HiddenSize = 32, Bidirectional = true", StringComparison.Ordinal),
            "public class Decoder { }"),
        Part(0, "Encoder", "encoder", "its recurrent module 'Rnn' is bidirectional; the bridge carries a unidirectional state"),
        Part(1, "Decoder", "decoder", "it is not a [SequenceModel] graph"));

    /// <summary>
    /// The constructor's arguments may be named and in another order: the encoder's problem belongs at the
    /// <c>encoder:</c> argument, wherever it is written.
    /// </summary>
    [Fact]
    public Task MG0025_named_arguments_in_another_order_are_reported_at_their_own_argument() => Verify(
        "public class Plain { }\n" + Decoder + """

        [Seq2SeqModel(decoder: typeof(Decoder), {|#0:encoder: typeof(Plain)|})]
        public partial class Speller;
        """,
        Part(0, "Plain", "encoder", "it is not a [SequenceModel] graph"));

    // ---- A graph with errors of its own is not reported again ----

    [Fact]
    public Task A_graph_with_its_own_error_is_not_reported_again_as_MG0025() => Verify(
        Seq2Seq(Encoder.Replace("InputSize = 16", "{|#2:InputSize = 15|}", StringComparison.Ordinal), Decoder),
        Expect(DiagnosticDescriptors.ModuleInputMismatch, 2, "InputSize", "Rnn", "16", "Embed", "15"));

    [Fact]
    public Task A_decoder_with_a_misplaced_attention_gets_MG0020_alone() => Verify(
        Seq2Seq(
            Encoder,
            """
            [SequenceModel]
            public partial class Decoder
            {
                [Embedding(NumEmbeddings = 40, EmbeddingDim = 16)] public partial Embedding Embed { get; }
                [Attention(AttentionScore.Dot, KeySize = 32)] public partial Attention {|#2:Attn|} { get; }
                [Linear(InFeatures = 48, OutFeatures = 32)] public partial Linear Mix { get; }
                [Gru(InputSize = 32, HiddenSize = 32)] public partial Gru Rnn { get; }
                [Linear(InFeatures = 32, OutFeatures = 40)] public partial Linear Fc { get; }
            }
            """),
        Expect(DiagnosticDescriptors.ModuleMisplaced, 2, "Attn",
            "attention takes its query from a recurrent module: put it after the Lstm, Gru or Rnn (Luong: the query is the step's output) or directly before it (Bahdanau: the query is the hidden state before the step)"));

    [Fact]
    public Task A_graph_without_modules_gets_MG0024_alone() => Verify(
        Encoder + "\n[{|#2:SequenceModel|}] public partial class Decoder;\n" + Model,
        Expect(DiagnosticDescriptors.GraphWithoutModules, 2, "Decoder",
            "has no modules: declare them as partial properties with module attributes, e.g. [Linear(InFeatures = 8, OutFeatures = 4)] public partial Linear Fc { get; }"));

    // ---- MG0026: the decoder cannot start from the encoder's final state ----

    [Fact]
    public Task MG0026_another_cell() => Verify(
        Seq2Seq(Encoder, Decoder.Replace("[Gru(", "[Lstm(", StringComparison.Ordinal).Replace("partial Gru Rnn", "partial Lstm Rnn", StringComparison.Ordinal)),
        Bridge("the encoder's 'Rnn' is Gru, the decoder's 'Rnn' Lstm"));

    [Fact]
    public Task MG0026_another_number_of_layers() => Verify(
        Seq2Seq(Encoder, Decoder.Replace("HiddenSize = 32)", "HiddenSize = 32, NumLayers = 2)", StringComparison.Ordinal)),
        Bridge("NumLayers of the decoder's 'Rnn' is 2, the encoder's 'Rnn' has 1"));

    [Fact]
    public Task MG0026_another_hidden_size() => Verify(
        Seq2Seq(Encoder, Decoder.Replace("HiddenSize = 32", "HiddenSize = 24", StringComparison.Ordinal).Replace("InFeatures = 32", "InFeatures = 24", StringComparison.Ordinal)),
        Bridge("HiddenSize of the decoder's 'Rnn' is 24, the encoder's 'Rnn' has 32"));

    [Fact]
    public Task MG0026_another_proj_size() => Verify(
        Seq2Seq(
            Encoder.Replace("[Gru(InputSize = 16, HiddenSize = 32)] public partial Gru", "[Lstm(InputSize = 16, HiddenSize = 32, ProjSize = 8)] public partial Lstm", StringComparison.Ordinal),
            Decoder.Replace("[Gru(InputSize = 16, HiddenSize = 32)] public partial Gru", "[Lstm(InputSize = 16, HiddenSize = 32)] public partial Lstm", StringComparison.Ordinal)),
        Bridge("ProjSize of the decoder's 'Rnn' is 0, the encoder's 'Rnn' has 8"));

    [Fact]
    public Task MG0026_names_the_modules_of_each_side() => Verify(
        Seq2Seq(
            Encoder.Replace("Gru Rnn", "Gru Encode", StringComparison.Ordinal),
            Decoder.Replace("Gru Rnn", "Gru Decode", StringComparison.Ordinal).Replace("HiddenSize = 32", "HiddenSize = 24", StringComparison.Ordinal).Replace("InFeatures = 32", "InFeatures = 24", StringComparison.Ordinal)),
        Bridge("HiddenSize of the decoder's 'Decode' is 24, the encoder's 'Encode' has 32"));

    // ---- MG0020: where an attention module can stand ----

    [Fact]
    public Task MG0020_attention_without_a_recurrent_module_around_it() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Attention(AttentionScore.Dot, KeySize = 8)] public partial Attention {|#0:Attn|} { get; }
            [Linear(InFeatures = 16, OutFeatures = 4)] public partial Linear Fc { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "Attn",
            "attention takes its query from a recurrent module: put it after the Lstm, Gru or Rnn (Luong: the query is the step's output) or directly before it (Bahdanau: the query is the hidden state before the step)"));

    [Fact]
    public Task MG0020_a_second_attention() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [Attention(AttentionScore.Dot, KeySize = 8)] public partial Attention First { get; }
            [Attention(AttentionScore.General, KeySize = 8)] public partial Attention {|#0:Second|} { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "Second", "a graph attends to its memory once; it already has an attention module"));

    [Fact]
    public Task MG0020_luong_attention_on_a_bidirectional_module() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Lstm(InputSize = 8, HiddenSize = 8, Bidirectional = true)] public partial Lstm Rnn { get; }
            [Attention(AttentionScore.General, KeySize = 8)] public partial Attention {|#0:Attn|} { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "Attn",
            "its query would come from a bidirectional recurrent module, and a decoder runs one step at a time; make that module unidirectional"));

    [Fact]
    public Task MG0020_bahdanau_attention_before_a_bidirectional_module() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Attention(AttentionScore.Additive, KeySize = 8, AttentionSize = 4)] public partial Attention {|#0:Attn|} { get; }
            [Gru(InputSize = 16, HiddenSize = 8, Bidirectional = true)] public partial Gru Rnn { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "Attn",
            "its query would come from a bidirectional recurrent module, and a decoder runs one step at a time; make that module unidirectional"));

    [Fact]
    public Task MG0020_attention_after_a_reduction() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [Reduce(ReduceMode.Last)] public partial Reduction Pool { get; }
            [Attention(AttentionScore.Dot, KeySize = 8)] public partial Attention {|#0:Attn|} { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModuleMisplaced, 0, "Attn", "it needs steps, but the reduction before it has already reduced them to one row per sequence"));

    [Fact]
    public Task MG0020_attention_later_than_directly_after_the_recurrent_module_is_luong_and_reports_nothing() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [Linear(InFeatures = 8, OutFeatures = 8)] public partial Linear Mix { get; }
            [Attention(AttentionScore.General, KeySize = 6)] public partial Attention Attn { get; }
            [Linear(InFeatures = 14, OutFeatures = 10)] public partial Linear Fc { get; }
        }
        """);

    // ---- MG0001 / MG0002 on the attention's arguments ----

    [Theory]
    [InlineData("Dot")]
    [InlineData("General")]
    public Task MG0001_missing_key_size(string score) => Verify(
        $$"""
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [{|#0:Attention|}(AttentionScore.{{score}})] public partial Attention Attn { get; }
        }
        """,
        Expect(DiagnosticDescriptors.RequiredSizeMissing, 0, "Attention", "KeySize", "set it on 'Attn', e.g. [Attention(KeySize = 16, …)]"));

    [Fact]
    public Task MG0001_missing_attention_size_of_an_additive_attention() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [{|#0:Attention|}(AttentionScore.Additive, KeySize = 8)] public partial Attention Attn { get; }
        }
        """,
        Expect(DiagnosticDescriptors.RequiredSizeMissing, 0, "Attention", "AttentionSize", "set it on 'Attn', e.g. [Attention(AttentionSize = 16, …)]"));

    [Fact]
    public Task MG0001_both_sizes_of_an_additive_attention_missing_are_both_reported() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [{|#0:ModelGen.Attention|}(AttentionScore.Additive)] public partial Attention Attn { get; }
        }
        """,
        Expect(DiagnosticDescriptors.RequiredSizeMissing, 0, "Attention", "KeySize", "set it on 'Attn', e.g. [Attention(KeySize = 16, …)]"),
        Expect(DiagnosticDescriptors.RequiredSizeMissing, 0, "Attention", "AttentionSize", "set it on 'Attn', e.g. [Attention(AttentionSize = 16, …)]"));

    [Theory]
    [InlineData("Dot")]
    [InlineData("General")]
    public Task MG0002_attention_size_set_without_an_additive_score(string score) => Verify(
        $$"""
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [Attention(AttentionScore.{{score}}, KeySize = 8, {|#0:AttentionSize = 6|})] public partial Attention Attn { get; }
        }
        """,
        Expect(DiagnosticDescriptors.SizeOutOfRange, 0, "AttentionSize", "unset: only AttentionScore.Additive has a hidden layer", "6"));

    [Theory]
    [InlineData("{|#0:KeySize = 0|}, AttentionSize = 4", "KeySize", "0")]
    [InlineData("KeySize = 8, {|#0:AttentionSize = -2|}", "AttentionSize", "-2")]
    public Task MG0002_sizes_of_an_attention_below_one(string arguments, string name, string actual) => Verify(
        $$"""
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [Attention(AttentionScore.Additive, {{arguments}})] public partial Attention Attn { get; }
        }
        """,
        Expect(DiagnosticDescriptors.SizeOutOfRange, 0, name, "at least 1", actual));

    [Fact]
    public Task MG0002_an_undefined_score() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [Attention({|#0:(AttentionScore)3|}, KeySize = 8)] public partial Attention Attn { get; }
        }
        """,
        Expect(DiagnosticDescriptors.SizeOutOfRange, 0, "score", "a defined AttentionScore", "(AttentionScore)3"));

    [Fact]
    public Task MG0023_an_attention_property_must_have_the_attention_type() => Verify(
        """
        [SequenceModel]
        public partial class M
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
            [Attention(AttentionScore.Dot, KeySize = 8)] public partial Linear {|#0:Attn|} { get; }
        }
        """,
        Expect(DiagnosticDescriptors.ModulePropertyInvalid, 0, "Attn", "Attention", "Attention", "its type is ModelGen.Linear, not ModelGen.Attention"));

    // ---- A dot score needs a query as wide as the keys ----

    /// <summary>
    /// A dot score is <c>q · k</c>, so the runtime's AttentionKernel refuses a spec with Q ≠ K (CheckSpec): a graph
    /// whose dot attention's query (here the GRU's 8 outputs) is not KeySize (6) wide must get an MG error rather than
    /// compile into a model that throws on its first call.
    /// </summary>
    [Fact]
    public void A_dot_attention_whose_query_is_not_key_size_wide_gets_an_error()
    {
        const string source = """
            using ModelGen;
            [SequenceModel]
            public partial class M
            {
                [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
                [Gru(InputSize = 8, HiddenSize = 8)] public partial Gru Rnn { get; }
                [Attention(AttentionScore.Dot, KeySize = 6)] public partial Attention Attn { get; }
                [Linear(InFeatures = 14, OutFeatures = 4)] public partial Linear Fc { get; }
            }
            """;
        (_, ImmutableArray<Diagnostic> analyzers, _) = GraphCommandLineBuildTests.Build(source);
        Diagnostic error = Assert.Single(analyzers, d => d.Id.StartsWith("MG", StringComparison.Ordinal));
        Assert.Equal("MG0002", error.Id);
        Assert.Equal("KeySize must be 8, the features of the query: dot attention scores q · k (General or Additive score keys of another size), but it is 6",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("KeySize = 6", source.Substring(error.Location.SourceSpan.Start, error.Location.SourceSpan.Length));
    }
}
