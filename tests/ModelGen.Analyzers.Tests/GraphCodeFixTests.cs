using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using ModelGen.CodeFixes;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// MG0019's code fix, <see cref="SetModuleInputSizeCodeFixProvider"/>: before and after, its title, its fix-all, and
/// where it is not offered. Compiler diagnostics are not compared: a fixed graph is valid, and its generated code
/// needs runtime kernels (see <see cref="GraphCompilationTests"/>).
/// </summary>
public class GraphCodeFixTests
{
    private static Task Fix(string source, string fixedSource, params DiagnosticResult[] expected) =>
        new CodeFixTest<ModelDeclarationAnalyzer, SetModuleInputSizeCodeFixProvider>(source, fixedSource, expected)
        {
            CompilerDiagnostics = CompilerDiagnostics.None,
        }.RunAsync();

    private static DiagnosticResult Expect(int location, params object[] arguments) =>
        new DiagnosticResult(DiagnosticDescriptors.ModuleInputMismatch).WithLocation(location).WithArguments(arguments);

    [Fact]
    public Task In_features_after_a_bidirectional_final_hidden_is_set_to_twice_the_hidden_size() => Fix(
        """
        using ModelGen;

        [SequenceModel]
        public partial class TopicClassifier
        {
            [Embedding(NumEmbeddings = 96, EmbeddingDim = 32, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Lstm(InputSize = 32, HiddenSize = 64, Bidirectional = true)] public partial Lstm Rnn { get; }
            [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
            [Linear({|#0:InFeatures = 64|}, OutFeatures = 12)] public partial Linear Fc { get; }
        }
        """,
        """
        using ModelGen;

        [SequenceModel]
        public partial class TopicClassifier
        {
            [Embedding(NumEmbeddings = 96, EmbeddingDim = 32, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Lstm(InputSize = 32, HiddenSize = 64, Bidirectional = true)] public partial Lstm Rnn { get; }
            [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
            [Linear(InFeatures = 128, OutFeatures = 12)] public partial Linear Fc { get; }
        }
        """,
        Expect(0, "InFeatures", "Fc", "128", "Pool", "64"));

    [Fact]
    public Task A_constant_expression_is_replaced_by_the_literal_and_its_comment_is_kept() => Fix(
        """
        static class Sizes { public const int Hidden = 16; }
        [ModelGen.SequenceModel]
        public partial class M
        {
            [ModelGen.Gru(InputSize = 4, HiddenSize = Sizes.Hidden, Bidirectional = true)] public partial ModelGen.Gru Rnn { get; }
            [ModelGen.LayerNorm({|#0:NormalizedShape = Sizes.Hidden|} /* per direction? */)] public partial ModelGen.LayerNorm Norm { get; }
        }
        """,
        """
        static class Sizes { public const int Hidden = 16; }
        [ModelGen.SequenceModel]
        public partial class M
        {
            [ModelGen.Gru(InputSize = 4, HiddenSize = Sizes.Hidden, Bidirectional = true)] public partial ModelGen.Gru Rnn { get; }
            [ModelGen.LayerNorm(NormalizedShape = 32 /* per direction? */)] public partial ModelGen.LayerNorm Norm { get; }
        }
        """,
        Expect(0, "NormalizedShape", "Norm", "32", "Rnn", "16"));

    [Fact]
    public Task Fix_all_sets_every_input_size_of_the_document() => Fix(
        """
        using ModelGen;

        [SequenceModel]
        public partial class A
        {
            [Lstm(InputSize = 8, HiddenSize = 16, ProjSize = 4, Bidirectional = true)] public partial Lstm First { get; }
            [Gru({|#0:InputSize = 16|}, HiddenSize = 10)] public partial Gru Second { get; }
            [Linear(InFeatures = 10, OutFeatures = 6)] public partial Linear Fc { get; }
            [LayerNorm({|#1:NormalizedShape = 10|})] public partial LayerNorm Norm { get; }
        }

        [SequenceModel]
        public partial class B
        {
            [Embedding(NumEmbeddings = 20, EmbeddingDim = 5)] public partial Embedding Embed { get; }
            [Rnn({|#2:InputSize = 20|}, HiddenSize = 3)] public partial Rnn Rnn { get; }
        }
        """,
        """
        using ModelGen;

        [SequenceModel]
        public partial class A
        {
            [Lstm(InputSize = 8, HiddenSize = 16, ProjSize = 4, Bidirectional = true)] public partial Lstm First { get; }
            [Gru(InputSize = 8, HiddenSize = 10)] public partial Gru Second { get; }
            [Linear(InFeatures = 10, OutFeatures = 6)] public partial Linear Fc { get; }
            [LayerNorm(NormalizedShape = 6)] public partial LayerNorm Norm { get; }
        }

        [SequenceModel]
        public partial class B
        {
            [Embedding(NumEmbeddings = 20, EmbeddingDim = 5)] public partial Embedding Embed { get; }
            [Rnn(InputSize = 5, HiddenSize = 3)] public partial Rnn Rnn { get; }
        }
        """,
        Expect(0, "InputSize", "Second", "8", "First", "16"),
        Expect(1, "NormalizedShape", "Norm", "6", "Fc", "10"),
        Expect(2, "InputSize", "Rnn", "5", "Embed", "20"));

    [Fact]
    public async Task The_fix_is_titled_with_the_argument_and_the_value()
    {
        const string source = """
            using ModelGen;
            [SequenceModel]
            public partial class M
            {
                [Lstm(InputSize = 4, HiddenSize = 64, Bidirectional = true)] public partial Lstm Rnn { get; }
                [Linear(InFeatures = 64, OutFeatures = 2)] public partial Linear Fc { get; }
            }
            """;
        (Document document, Diagnostic diagnostic) = await DocumentWithDiagnostic(source);
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await new SetModuleInputSizeCodeFixProvider().RegisterCodeFixesAsync(context);
        CodeAction action = Assert.Single(actions);
        Assert.Equal("Set InFeatures to 128", action.Title);
        Assert.Equal(new[] { DiagnosticDescriptors.ModuleInputMismatchId }, new SetModuleInputSizeCodeFixProvider().FixableDiagnosticIds.ToArray());
    }

    [Theory]
    [InlineData("InFeatures", "not a number")]
    [InlineData("InFeatures", "-4")]
    [InlineData("OutFeatures", "128")]
    [InlineData(null, "128")]
    public async Task The_fix_is_not_offered_without_a_usable_argument_and_value(string? argument, string expected)
    {
        const string source = """
            using ModelGen;
            [SequenceModel]
            public partial class M
            {
                [Lstm(InputSize = 4, HiddenSize = 64, Bidirectional = true)] public partial Lstm Rnn { get; }
                [Linear(InFeatures = 64, OutFeatures = 2)] public partial Linear Fc { get; }
            }
            """;
        (Document document, Diagnostic original) = await DocumentWithDiagnostic(source);
        var properties = System.Collections.Immutable.ImmutableDictionary<string, string?>.Empty.Add("Expected", expected);
        if (argument is not null) properties = properties.Add("Argument", argument);
        Diagnostic diagnostic = Diagnostic.Create(original.Descriptor, original.Location, properties);
        var actions = new List<CodeAction>();
        await new SetModuleInputSizeCodeFixProvider().RegisterCodeFixesAsync(
            new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        Assert.Empty(actions);
    }

    /// <summary>The document of the source in an ad-hoc workspace, and the one MG0019 that the analyzer reports in it.</summary>
    private static async Task<(Document, Diagnostic)> DocumentWithDiagnostic(string source)
    {
        var workspace = new AdhocWorkspace();
        Project project = workspace.AddProject("UserProject", LanguageNames.CSharp)
            .WithMetadataReferences(TestSetup.References)
            .WithCompilationOptions(new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary))
            .WithParseOptions(new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(Microsoft.CodeAnalysis.CSharp.LanguageVersion.Latest));
        Document document = project.AddDocument("Models.cs", source);
        Compilation compilation = (await document.Project.GetCompilationAsync())!;
        var diagnostics = await compilation.WithAnalyzers([new ModelDeclarationAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        return (document, Assert.Single(diagnostics));
    }
}
