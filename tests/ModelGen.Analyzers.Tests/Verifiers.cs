using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using ModelGen.Generator;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// What every analyzer and code-fix test shares: .NET 10 references without a download, the ModelGen runtime,
/// the real generator running before the analyzers (so the call-site checks see the generated methods, and any
/// compiler error in generated code fails the test), and the latest C#.
/// </summary>
internal static class TestSetup
{
    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(LstmModelAttribute).Assembly.Location),
    ];

    public static void Configure(SolutionState state)
    {
        state.AdditionalReferences.AddRange(References);
    }

    public static Solution Transform(Solution solution, ProjectId projectId, LanguageVersion languageVersion)
    {
        Project project = solution.GetProject(projectId)!;
        var options = (CSharpCompilationOptions)project.CompilationOptions!;
        var parse = (CSharpParseOptions)project.ParseOptions!;
        // Test sources leave their own public types undocumented (CS1591); the generator's tests check the
        // generated documentation.
        options = options
            .WithAllowUnsafe(true)
            .WithWarningLevel(9999)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithSpecificDiagnosticOptions(options.SpecificDiagnosticOptions.SetItem("CS1591", ReportDiagnostic.Suppress));
        return solution
            .WithProjectCompilationOptions(projectId, options)
            .WithProjectParseOptions(projectId, parse.WithLanguageVersion(languageVersion));
    }
}

/// <summary>An analyzer test with the generator and ModelGen's references.</summary>
internal sealed class AnalyzerTest<TAnalyzer> : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public AnalyzerTest(string source, params DiagnosticResult[] expected)
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestCode = source;
        ExpectedDiagnostics.AddRange(expected);
        TestSetup.Configure(TestState);
        // The generated sources are checked by the generator's own tests; here they only have to compile.
        TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        // Warnings too: generated code must be as clean as a project with warnings as errors needs it.
        CompilerDiagnostics = CompilerDiagnostics.Warnings;
        SolutionTransforms.Add((solution, projectId) => TestSetup.Transform(solution, projectId, LanguageVersion));
    }

    public LanguageVersion LanguageVersion { get; set; } = LanguageVersion.Latest;

    protected override IEnumerable<Type> GetSourceGenerators() => [typeof(ModelGenerator)];
}

/// <summary>A code-fix test with the generator and ModelGen's references.</summary>
internal sealed class CodeFixTest<TAnalyzer, TCodeFix> : CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
    where TAnalyzer : DiagnosticAnalyzer, new()
    where TCodeFix : CodeFixProvider, new()
{
    public CodeFixTest(string source, string fixedSource, params DiagnosticResult[] expected)
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestCode = source;
        FixedCode = fixedSource;
        ExpectedDiagnostics.AddRange(expected);
        TestSetup.Configure(TestState);
        TestSetup.Configure(FixedState);
        TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        CompilerDiagnostics = CompilerDiagnostics.Warnings;
        SolutionTransforms.Add((solution, projectId) => TestSetup.Transform(solution, projectId, LanguageVersion.Latest));
    }

    protected override IEnumerable<Type> GetSourceGenerators() => [typeof(ModelGenerator)];
}
