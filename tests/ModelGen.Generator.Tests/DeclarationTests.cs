using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Generator.Tests;

/// <summary>Where a model may be declared, and what the generator does with declarations it cannot honour.</summary>
public class DeclarationTests
{
    public static TheoryData<string> ValidDeclarations() => new()
    {
        // file-scoped namespace
        "namespace A.B; [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M;",
        // block namespace, internal sealed
        "namespace A { [ModelGen.GruModel(InputSize = 2, HiddenSize = 3, OutputSize = 1)] internal sealed partial class M { } }",
        // global namespace
        "[ModelGen.RnnModel(InputSize = 2, HiddenSize = 3, Bidirectional = true, OutputSize = 2)] public partial class M;",
        // nested in a partial class, struct, record and generic class
        "namespace A; public partial class Outer { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, ProjSize = 2)] public partial class M; }",
        "namespace A; public partial struct Outer { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M; }",
        "namespace A; public partial record Outer { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M; }",
        "namespace A; public partial class Outer<T> { [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] public partial class M; }",
        "namespace A; public partial class Outer { public partial class Middle { [ModelGen.RnnModel(InputSize = 2, HiddenSize = 3)] private partial class M; } }",
        // a record class, a class with its own members and base type
        "namespace A; [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, OutputSize = 1)] public partial record M(int Tag);",
        "namespace A; public class Base { } [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] public partial class M : Base { public int Extra => 1; }",
        // a base that overrides ToString: the generated ToString overrides it in turn
        "namespace A; public class Base { public override string ToString() => \"base\"; } [ModelGen.GruModel(InputSize = 2, HiddenSize = 3, OutputSize = 1)] public partial class M : Base;",
        // keywords as names, a lowercase name (its CS8981 warning stays in the user's file), an interface container
        "namespace @if.@class; public partial class @record { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class @event; }",
        "[ModelGen.GruModel(InputSize = 2, HiddenSize = 3, OutputSize = 1)] public partial class lower;",
        "namespace A; public partial interface IOuter { [ModelGen.RnnModel(InputSize = 2, HiddenSize = 3)] public partial class M; }",
        // members and a base that share nothing with the generated members
        "namespace A; public class Base { public void Forward(float[] x) { } } [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M : Base { public void Forward(int steps) { } }",
    };

    [Theory]
    [MemberData(nameof(ValidDeclarations))]
    public void Valid_declaration_generates_code_that_compiles_without_warnings(string source)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Single(result.GeneratedSources);
        Assert.Empty(GeneratorHarness.Problems(output));
        // The analyzers, which share the generator's validation, find nothing either.
        Assert.Empty(AnalyzerDiagnostics(output));
    }

    /// <summary>Declarations the generator cannot honour, and the ModelGen diagnostic each gets (none: the compiler's own error).</summary>
    public static TheoryData<string, string> UnsupportedDeclarations() => new()
    {
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public class NotPartial;", "MG0007" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public static partial class Static;", "MG0008" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class Generic<T>;", "MG0009" },
        { "public class Outer { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class InNonPartial; }", "MG0010" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3), ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] public partial class Two;", "MG0011" },
        { "[ModelGen.LstmModel(HiddenSize = 3)] public partial class NoInput;", "MG0001" },
        { "[ModelGen.LstmModel(InputSize = 2)] public partial class NoHidden;", "MG0001" },
        { "[ModelGen.LstmModel(InputSize = -1, HiddenSize = 3)] public partial class Negative;", "MG0002" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, NumLayers = 0)] public partial class NoLayers;", "MG0002" },
        { "[ModelGen.RnnModel(InputSize = 1, HiddenSize = 1, NumLayers = 2000000000)] public partial class TooManyLayers;", "MG0002" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, ProjSize = 3)] public partial class ProjTooBig;", "MG0003" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, ProjSize = -1)] public partial class ProjNegative;", "MG0003" },
        { "[ModelGen.GruModel(InputSize = 2, HiddenSize = 3, OutputSize = -2)] public partial class NegativeHead;", "MG0002" },
        { "[ModelGen.GruModel(InputSize = 2, HiddenSize = 3, ProjSize = 1)] public partial class GruProjection;", "MG0004" },
        { "[ModelGen.RnnModel(InputSize = 2, HiddenSize = 3, Nonlinearity = (ModelGen.RnnNonlinearity)7)] public partial class BadEnum;", "MG0005" },
        { "[ModelGen.LstmModel(InputSize = 100000, HiddenSize = 100000)] public partial class Overflow;", "MG0006" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class Collides { public int Parameters; }", "MG0012" },
        { "public class Base { public int NumLayers; } [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class Hides : Base;", "MG0013" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class OwnToString { public override string ToString() => \"\"; }", "MG0012" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class OwnSummary { public string Summary() => \"\"; }", "MG0012" },
        { "public class SealedBase { public sealed override string ToString() => \"\"; } [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class SealedToString : SealedBase;", "MG0013" },
        { "public class HidingBase { public new string ToString() => \"\"; } [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class HiddenToString : HidingBase;", "MG0013" },
        { "public class Base { public class SharedWeights { } } [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] public partial class HidesNested : Base;", "MG0013" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class InferenceContext;", "MG0014" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class ModelSpec;", "MG0014" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] file partial class FileLocal;", "MG0015" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = UnknownConstant)] public partial class Broken;", "" },
        { "[ModelGen.LstmModel(2, 3)] public partial class Positional;", "" },
        { "public partial class Outer<out T> { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class InVariantClass; }", "" },
        { "public partial struct Outer<in T> { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class InVariantStruct; }", "" },
        { "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] protected partial class ProtectedInNamespace;", "" },
        { "private partial class Outer { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class InPrivateOuter; }", "" },
        { "public partial struct Outer { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] protected partial class ProtectedInStruct; }", "" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedDeclarations))]
    public void Unsupported_declaration_generates_nothing_and_gets_its_diagnostic(string source, string id)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Empty(result.GeneratedSources);
        // Whatever the user's code gets wrong, nothing is reported inside generated code.
        Assert.DoesNotContain(output.GetDiagnostics(), d => GeneratorHarness.IsGenerated(d.Location));
        // The reason is a ModelGen diagnostic in the user's code, unless the compiler already reports one there.
        string[] reported = [.. AnalyzerDiagnostics(output).Select(d => d.Id).Distinct()];
        if (id.Length == 0)
        {
            Assert.Empty(reported);
            Assert.Contains(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
        }
        else
        {
            Assert.Equal([id], reported);
        }
    }

    [Fact]
    public void Csharp_10_generates_nothing_and_gets_MG0016()
    {
        var parse = GeneratorHarness.ParseOptions.WithLanguageVersion(LanguageVersion.CSharp10);
        Compilation compilation = GeneratorHarness.Compilation("[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M { }");
        compilation = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(compilation.SyntaxTrees.Single().GetText(), parse));
        GeneratorDriver driver = GeneratorHarness.Driver().WithUpdatedParseOptions(parse).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        Assert.Empty(driver.GetRunResult().Results.Single().GeneratedSources);
        Assert.Equal(["MG0016"], AnalyzerDiagnostics(output).Select(d => d.Id));
    }

    private static ImmutableArray<Diagnostic> AnalyzerDiagnostics(Compilation compilation) =>
        compilation.WithAnalyzers([new ModelDeclarationAnalyzer(), new TensorShapeAnalyzer()])
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();

    [Fact]
    public void Generated_members_are_documented()
    {
        // GenerateDocumentationFile makes the compiler report every public member without XML docs (CS1591).
        (_, Compilation output) = GeneratorHarness.Run(
            "/// <summary>Doc.</summary>\n[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, OutputSize = 1)] public partial class M;");
        using var pe = new MemoryStream();
        using var xml = new MemoryStream();
        var emit = output.Emit(pe, xmlDocumentationStream: xml);
        Assert.True(emit.Success);
        Assert.Empty(emit.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Contains("M:M.PredictLast(", System.Text.Encoding.UTF8.GetString(xml.ToArray()));
    }

    [Fact]
    public void Documentation_check_catches_an_undocumented_member()
    {
        // The check above would be worthless if undocumented public members went unreported here.
        Compilation compilation = GeneratorHarness.Compilation("/// <summary>Doc.</summary>\npublic class M { public void Undocumented() { } }");
        using var pe = new MemoryStream();
        using var xml = new MemoryStream();
        var emit = compilation.Emit(pe, xmlDocumentationStream: xml);
        Assert.Contains(emit.Diagnostics, d => d.Id == "CS1591");
    }
}
