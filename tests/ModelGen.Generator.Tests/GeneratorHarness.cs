using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ModelGen.Generator;

namespace ModelGen.Generator.Tests;

/// <summary>Runs the real generator in memory over user source, as the compiler would.</summary>
internal static class GeneratorHarness
{
    private static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(LstmModelAttribute).Assembly.Location),
    ];

    /// <summary>The parse options of a user project: latest C#, XML documentation checked like a library with GenerateDocumentationFile.</summary>
    public static readonly CSharpParseOptions ParseOptions =
        new(LanguageVersion.Preview, DocumentationMode.Diagnose);

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create(
            "UserAssembly",
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"User{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                warningLevel: 9999,
                generalDiagnosticOption: ReportDiagnostic.Default));

    public static GeneratorDriver Driver() =>
        CSharpGeneratorDriver.Create(
            [new ModelGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns its result and the compilation with the generated sources added.</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(params string[] sources)
    {
        (GeneratorRunResult result, Compilation output, _) = RunWithDriverDiagnostics(Compilation(sources));
        return (result, output);
    }

    /// <summary>
    /// Runs the generator and returns, besides its result and output, the driver's own diagnostics: a generator
    /// that throws gets CS8784 or CS8785 there, and every model of the project loses its code.
    /// </summary>
    public static (GeneratorRunResult Result, Compilation Output, ImmutableArray<Diagnostic> DriverDiagnostics) RunWithDriverDiagnostics(
        Compilation compilation)
    {
        GeneratorDriver driver = Driver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output,
            out ImmutableArray<Diagnostic> diagnostics);
        return (driver.GetRunResult().Results.Single(), output, diagnostics);
    }

    /// <summary>
    /// Every error of the compilation, and every warning located in generated code (the user's own missing XML
    /// docs are the user's business; the generated code must be clean at warning level 9999).
    /// </summary>
    public static ImmutableArray<Diagnostic> Problems(Compilation compilation) =>
        [.. compilation.GetDiagnostics().Where(d =>
            d.Severity == DiagnosticSeverity.Error
            || (d.Severity == DiagnosticSeverity.Warning && IsGenerated(d.Location)))];

    /// <summary>Whether a location is in a source the generator added.</summary>
    public static bool IsGenerated(Location location) =>
        location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true;

    /// <summary>Compiles user source with the generator, fails on any warning or error, and loads the assembly.</summary>
    public static Assembly CompileAndLoad(string source)
    {
        (GeneratorRunResult result, Compilation output) = Run(source);
        Assert.Null(result.Exception);
        Assert.Empty(Problems(output));
        using var image = new MemoryStream();
        var emit = output.Emit(image);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        // A collectible context per model keeps repeated runs from piling up assemblies named alike.
        var context = new AssemblyLoadContext(name: null, isCollectible: true);
        context.Resolving += (_, name) => name.Name == typeof(LstmModelAttribute).Assembly.GetName().Name
            ? typeof(LstmModelAttribute).Assembly
            : null;
        image.Position = 0;
        return context.LoadFromStream(image);
    }
}
