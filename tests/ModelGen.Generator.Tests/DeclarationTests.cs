using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

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
    };

    [Theory]
    [MemberData(nameof(ValidDeclarations))]
    public void Valid_declaration_generates_code_that_compiles_without_warnings(string source)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Single(result.GeneratedSources);
        Assert.Empty(GeneratorHarness.Problems(output));
    }

    public static TheoryData<string> UnsupportedDeclarations() => new()
    {
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public class NotPartial;",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public static partial class Static;",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class Generic<T>;",
        "public class Outer { [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class InNonPartial; }",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3), ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] public partial class Two;",
        "[ModelGen.LstmModel(HiddenSize = 3)] public partial class NoInput;",
        "[ModelGen.LstmModel(InputSize = 2)] public partial class NoHidden;",
        "[ModelGen.LstmModel(InputSize = -1, HiddenSize = 3)] public partial class Negative;",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, NumLayers = 0)] public partial class NoLayers;",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, ProjSize = 3)] public partial class ProjTooBig;",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, ProjSize = -1)] public partial class ProjNegative;",
        "[ModelGen.GruModel(InputSize = 2, HiddenSize = 3, OutputSize = -2)] public partial class NegativeHead;",
        "[ModelGen.LstmModel(InputSize = 100000, HiddenSize = 100000)] public partial class Overflow;",
        "[ModelGen.RnnModel(InputSize = 2, HiddenSize = 3, Nonlinearity = (ModelGen.RnnNonlinearity)7)] public partial class BadEnum;",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = UnknownConstant)] public partial class Broken;",
    };

    [Theory]
    [MemberData(nameof(UnsupportedDeclarations))]
    public void Unsupported_declaration_generates_nothing_and_never_throws(string source)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Empty(result.GeneratedSources);
        // Whatever the user's code gets wrong, nothing is reported inside generated code.
        Assert.DoesNotContain(output.GetDiagnostics(), d => GeneratorHarness.IsGenerated(d.Location));
    }

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
