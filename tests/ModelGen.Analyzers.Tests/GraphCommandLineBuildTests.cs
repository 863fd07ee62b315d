using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// <c>[SequenceModel]</c> errors in a command-line build, following csc's phases as <see cref="CommandLineBuildTests"/>
/// does: generators, then the parse and declaration errors that stop the build, then the analyzers. A graph's
/// modules are partial properties: when the generator emits nothing for an invalid graph, they have no
/// implementation part, and the compiler's error for that must not be one that stops the build before MG0019–MG0024
/// are reported.
/// </summary>
public class GraphCommandLineBuildTests
{
    internal static (ImmutableArray<Diagnostic> Stopping, ImmutableArray<Diagnostic> Analyzers, ImmutableArray<Diagnostic> Emit) Build(string source) =>
        CommandLineBuildTests.Build(source, CommandLineBuildTests.WithRuntime);

    private static string At(Diagnostic diagnostic, string source) => CommandLineBuildTests.At(diagnostic, source);

    private const string InvalidGraphs = """
        using ModelGen;
        [SequenceModel]
        public partial class Mismatch
        {
            [Lstm(InputSize = 8, HiddenSize = 16, Bidirectional = true)] public partial Lstm Rnn { get; }
            [Linear(InFeatures = 16, OutFeatures = 2)] public partial Linear Fc { get; }
        }
        [SequenceModel]
        public partial class Misplaced
        {
            [Linear(InFeatures = 4, OutFeatures = 8)] public partial Linear Fc { get; }
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8)] public partial Embedding Embed { get; }
        }
        [SequenceModel]
        public partial class Padding
        {
            [Embedding(NumEmbeddings = 10, EmbeddingDim = 8, PaddingIdx = 10)] public partial Embedding Embed { get; }
        }
        [SequenceModel]
        public partial class Names
        {
            [Linear(InFeatures = 4, OutFeatures = 4, Name = "fc")] public partial Linear Fc1 { get; }
            [Linear(InFeatures = 4, OutFeatures = 4, Name = "fc")] public partial Linear Fc2 { get; }
        }
        [SequenceModel]
        public partial class Property
        {
            [Linear(InFeatures = 4, OutFeatures = 4)] public Linear Fc { get; }
        }
        [SequenceModel]
        public partial class Empty;
        """;

    [Fact]
    public void Every_graph_error_is_reported_with_no_compiler_error_before_the_analyzers()
    {
        (ImmutableArray<Diagnostic> stopping, ImmutableArray<Diagnostic> analyzers, _) = Build(InvalidGraphs);
        Assert.Equal(
            ["MG0019 InFeatures = 16", "MG0020 Embed", "MG0021 PaddingIdx = 10", "MG0022 Name = \"fc\"", "MG0023 Fc", "MG0024 SequenceModel"],
            analyzers.OrderBy(d => d.Location.SourceSpan.Start).Select(d => At(d, InvalidGraphs)));
        // Nothing stops the build before the analyzers: otherwise 'dotnet build' shows none of the errors above.
        Assert.Equal([], stopping.Select(d => At(d, InvalidGraphs)));
    }

    /// <summary>
    /// What a user of an invalid graph sees from the compiler beside the ModelGen error: ideally nothing (as for the
    /// recurrent models: "the generator emits nothing, so no compiler error follows").
    /// </summary>
    [Fact]
    public void An_invalid_graph_leaves_no_compiler_error_of_its_own()
    {
        (_, _, ImmutableArray<Diagnostic> emit) = Build(InvalidGraphs);
        Assert.Equal([], emit.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => At(d, InvalidGraphs)));
    }

    /// <summary>
    /// A type holds one model (MG0011): a [SequenceModel] that also carries [LstmModel] must be an error of the
    /// declaration, not two generated files of the same name (the generator then fails with CS8785).
    /// </summary>
    [Fact]
    public void A_sequence_model_with_a_recurrent_model_attribute_is_MG0011()
    {
        const string source = """
            using ModelGen;
            [SequenceModel]
            [LstmModel(InputSize = 4, HiddenSize = 4)]
            public partial class M
            {
                [Linear(InFeatures = 4, OutFeatures = 2)] public partial Linear Fc { get; }
            }
            """;
        (_, ImmutableArray<Diagnostic> analyzers, _) = Build(source);
        Assert.Contains(analyzers, d => d.Id == DiagnosticDescriptors.DuplicateModelAttributeId);
    }
}
