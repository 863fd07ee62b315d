using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using ModelGen.Generator;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// MG0004 as a command-line build (<c>dotnet build</c>, csc) reports it. csc runs the generators, then takes the
/// parse and declaration diagnostics and stops if any of them is an error; only a compilation that gets past
/// that runs the analyzers, beside the compilation of the method bodies. An option of another cell used to be a
/// CS0246 in the declarations, so the build stopped there and showed neither MG0004 nor any other ModelGen error.
/// These tests follow csc's phases on the real generator, analyzers and runtime.
/// </summary>
public class CommandLineBuildTests
{
    private static readonly CSharpParseOptions Parse = new(LanguageVersion.Latest);

    /// <summary>
    /// The phases of csc: generators, then the parse and declaration errors that stop the build, then the
    /// analyzers and every diagnostic of emitting.
    /// </summary>
    internal static (ImmutableArray<Diagnostic> Stopping, ImmutableArray<Diagnostic> Analyzers, ImmutableArray<Diagnostic> Emit) Build(
        string source, IEnumerable<MetadataReference> references)
    {
        var compilation = CSharpCompilation.Create("UserProject", [CSharpSyntaxTree.ParseText(source, Parse, path: "Models.cs")], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()], parseOptions: Parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> driverDiagnostics);
        Assert.Empty(driverDiagnostics);
        ImmutableArray<Diagnostic> stopping =
        [
            .. output.GetParseDiagnostics().Concat(output.GetDeclarationDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error),
        ];
        ImmutableArray<Diagnostic> analyzers = output
            .WithAnalyzers([new ModelDeclarationAnalyzer(), new TensorShapeAnalyzer()])
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        using var assembly = new MemoryStream();
        return (stopping, analyzers, output.Emit(assembly).Diagnostics);
    }

    internal static readonly ImmutableArray<MetadataReference> WithRuntime =
        [.. Net100.References.All, MetadataReference.CreateFromFile(typeof(LstmModelAttribute).Assembly.Location)];

    internal static string At(Diagnostic diagnostic, string source) =>
        $"{diagnostic.Id} {source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length)}";

    [Fact]
    public void Options_of_another_cell_get_MG0004_with_no_compiler_error_before_the_analyzers()
    {
        const string source = """
            using ModelGen;
            [GruModel(InputSize = 2, HiddenSize = 3, ProjSize = 1)] public partial class Gru;
            [LstmModel(InputSize = 2, HiddenSize = 3, Nonlinearity = RnnNonlinearity.Relu)] public partial class Lstm;
            [RnnModel(InputSize = 2, HiddenSize = 3, ProjSize = 4)] public partial class Rnn;
            [RnnModel(InputSize = 2, HiddenSize = 3)] public class NotPartial;
            [LstmModel(InputSize = 2, HiddenSize = 3, ProjSize = 1, OutputSize = 1)] public partial class Valid;
            """;
        (ImmutableArray<Diagnostic> stopping, ImmutableArray<Diagnostic> analyzers, ImmutableArray<Diagnostic> emit) = Build(source, WithRuntime);

        // Nothing stops the build before the analyzers, and the compiler reports no error of its own at all.
        Assert.Empty(stopping);
        Assert.DoesNotContain(emit, d => d.Severity == DiagnosticSeverity.Error);
        // Every ModelGen error of the file is reported, each where it is made.
        Assert.Equal(
            ["MG0004 ProjSize = 1", "MG0004 Nonlinearity = RnnNonlinearity.Relu", "MG0004 ProjSize = 4", "MG0007 NotPartial"],
            analyzers.OrderBy(d => d.Location.SourceSpan.Start).Select(d => At(d, source)));
        Assert.All(analyzers, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Equal("ProjSize is not an option of [GruModel]: only an LSTM has a projection (use [LstmModel] or remove it)",
            analyzers.OrderBy(d => d.Location.SourceSpan.Start).First(d => d.Id == "MG0004").GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Why the attributes declare the options of every cell: an attribute without the property (ModelGen's before
    /// this change, written out here) makes the argument a CS0246 among the declaration errors, where csc stops.
    /// </summary>
    [Fact]
    public void An_attribute_without_the_property_stops_the_build_before_the_analyzers()
    {
        const string source = """
            namespace ModelGen
            {
                public abstract class RecurrentModelAttribute : System.Attribute
                {
                    public int InputSize { get; set; }
                    public int HiddenSize { get; set; }
                }
                public sealed class GruModelAttribute : RecurrentModelAttribute;
            }
            [ModelGen.GruModel(InputSize = 2, HiddenSize = 3, ProjSize = 1)] public partial class Gru;
            """;
        (ImmutableArray<Diagnostic> stopping, _, _) = Build(source, Net100.References.All);
        Assert.Equal(["CS0246 ProjSize"], stopping.Select(d => At(d, source)));
    }

    [Fact]
    public void Every_model_attribute_accepts_every_option_and_hides_those_of_other_cells()
    {
        foreach (Type attribute in new[] { typeof(LstmModelAttribute), typeof(GruModelAttribute), typeof(RnnModelAttribute) })
        {
            foreach (string option in new[] { "ProjSize", "Nonlinearity" })
            {
                System.Reflection.PropertyInfo property = attribute.GetProperty(option)
                    ?? throw new Xunit.Sdk.XunitException($"{attribute.Name} has no {option}");
                bool own = option == "ProjSize" ? attribute == typeof(LstmModelAttribute) : attribute == typeof(RnnModelAttribute);
                var browsable = (System.ComponentModel.EditorBrowsableAttribute?)Attribute.GetCustomAttribute(property, typeof(System.ComponentModel.EditorBrowsableAttribute));
                Assert.Equal(own ? null : System.ComponentModel.EditorBrowsableState.Never, browsable?.State);
                Assert.True(property.CanWrite);
            }
        }
    }

    [Fact]
    public void The_code_fix_span_is_the_argument_the_build_reports()
    {
        const string source = "using ModelGen;\n[GruModel(InputSize = 2, HiddenSize = 3, ProjSize = 1)] public partial class Gru;";
        Diagnostic diagnostic = Assert.Single(Build(source, WithRuntime).Analyzers);
        LinePosition start = diagnostic.Location.GetLineSpan().StartLinePosition;
        Assert.Equal(("Models.cs", 1, 41), (diagnostic.Location.GetLineSpan().Path, start.Line, start.Character));
        Assert.Equal(DiagnosticDescriptors.OptionNotOnCellId, diagnostic.Id);
    }
}
