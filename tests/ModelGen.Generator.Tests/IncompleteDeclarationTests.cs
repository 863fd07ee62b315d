using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Code being typed: a declaration with a syntax error in what the generated code would repeat (names, type
/// parameters, namespaces, the attribute) gets nothing generated and no ModelGen diagnostic, only the compiler's
/// syntax error in the user's file.
/// </summary>
public class IncompleteDeclarationTests
{
    private const string Gru = "[ModelGen.GruModel(InputSize = 1, HiddenSize = 2)]";

    public static TheoryData<string> IncompleteDeclarations() => new()
    {
        // No name yet (Roslyn parses a class with a missing identifier).
        $"{Gru} partial class",
        $"{Gru} partial class {{ }}",
        $"{Gru} public partial record",
        // A type parameter list being typed.
        $"{Gru} partial class M<",
        $"{Gru} partial class M<T,> {{ }}",
        // A namespace name being typed.
        $"namespace A. {{ {Gru} partial class M; }}",
        $"namespace A.B.; {Gru} partial class M;",
        // The attribute being typed.
        "[ModelGen.GruModel(InputSize = 1, HiddenSize = )] partial class M;",
        "[ModelGen.GruModel(InputSize = 1, HiddenSize = 2, NumLayers = 2 partial class M;",
        "[ModelGen.GruModel(InputSize = 1 HiddenSize = 2)] partial class M;",
        "[ModelGen.GruModel(InputSize = 1, HiddenSize = 2] partial class M;",
        "[ModelGen.GruModel(InputSize = 1, HiddenSize = 2)][ partial class M;",
        $"{Gru} [System.Obsolete(] partial class M;",
        // A containing type being typed.
        $"partial class {{ {Gru} partial class M; }}",
        $"partial class Outer< {{ {Gru} partial class M; }}",
        $"namespace A {{ partial class {{ partial class Middle {{ {Gru} partial class M; }} }} }}",
        // A type where only recovery from an error puts it.
        $"class C {{ void F() {{ {Gru} partial class M; }} }}",
    };

    [Theory]
    [MemberData(nameof(IncompleteDeclarations))]
    public async Task Incomplete_declaration_generates_nothing_and_gets_no_ModelGen_diagnostic(string source)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Empty(result.GeneratedSources);
        Assert.Contains(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error && !GeneratorHarness.IsGenerated(d.Location));
        Assert.Empty(await output.WithAnalyzers([new ModelDeclarationAnalyzer(), new TensorShapeAnalyzer()])
            .GetAnalyzerDiagnosticsAsync());
    }

    public static TheoryData<string> DeclarationsWithHarmlessProblems() => new()
    {
        // Typing a member of the model must not make Forward and the rest vanish from IntelliSense.
        $"{Gru} public partial class M {{ public void F() {{ int x = }} }}",
        // A badly formed documentation comment is a warning in the attribute list's leading trivia (CS1570).
        $"/// <summary>A model</summar>\n{Gru} public partial class M;",
    };

    [Theory]
    [MemberData(nameof(DeclarationsWithHarmlessProblems))]
    public void Problem_the_generated_code_does_not_repeat_keeps_the_generated_members(string source)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Single(result.GeneratedSources);
        Assert.DoesNotContain(output.GetDiagnostics(), d => GeneratorHarness.IsGenerated(d.Location));
    }
}
