using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace ModelGen.Samples.Tests;

/// <summary>
/// ModelGen's errors as <c>dotnet build</c> prints them, in a project outside the repository that references the
/// runtime and the generator as the README says. An option of another cell (<c>ProjSize</c> on a GRU,
/// <c>Nonlinearity</c> on an LSTM) must be MG0004, and must not hide the other ModelGen errors: the compiler stops
/// before the analyzers at a declaration error such as CS0246, so the build may report no CS error at all.
/// </summary>
public partial class BuildDiagnosticsTests(ITestOutputHelper log)
{
    private const string Source = """
        using ModelGen;

        [GruModel(InputSize = 2, HiddenSize = 3, ProjSize = 1)]
        public partial class Gru;

        [LstmModel(InputSize = 2, HiddenSize = 3, Nonlinearity = RnnNonlinearity.Relu)]
        public partial class Lstm;

        [RnnModel(InputSize = 2, HiddenSize = 3)]
        public class NotPartial;
        """;

    [GeneratedRegex(@"Models\.cs\((?<line>\d+),(?<column>\d+)\): error (?<id>[A-Z]+\d+)")]
    private static partial Regex ErrorLine();

    [Fact]
    [Trait("Category", "Samples")]
    public async Task Dotnet_build_reports_MG0004_and_the_other_ModelGen_errors_with_no_compiler_error()
    {
        using var temp = new TempFolder("modelgen-mg0004-build");
        string root = DotnetProcess.RepositoryRoot;
        File.WriteAllText(Path.Combine(temp.Path, "User.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{Path.Combine(root, "src", "ModelGen", "ModelGen.csproj")}" />
                <ProjectReference Include="{Path.Combine(root, "generator", "ModelGen.Generator", "ModelGen.Generator.csproj")}"
                                  OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(temp.Path, "Models.cs"), Source);

        ProcessResult build = await DotnetProcess.DotnetAsync(["build", Path.Combine(temp.Path, "User.csproj"), "-nologo", "-clp:NoSummary"]);
        log.WriteLine(build.ToString());

        Assert.NotEqual(0, build.ExitCode);
        // MSBuild prints them in any order, some twice (as they happen and in the summary): each once, by position.
        string[] errors = [.. ErrorLine().Matches(build.StandardOutput)
            .Select(m => (Id: m.Groups["id"].Value, Line: int.Parse(m.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture),
                Column: int.Parse(m.Groups["column"].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .Distinct()
            .OrderBy(e => e.Line).ThenBy(e => e.Column)
            .Select(e => $"{e.Id} at {e.Line},{e.Column}")];
        // Line 3 column 42 is "ProjSize = 1", line 6 column 43 "Nonlinearity = ...", line 10 column 14 "NotPartial".
        Assert.Equal(["MG0004 at 3,42", "MG0004 at 6,43", "MG0007 at 10,14"], errors);
        Assert.DoesNotMatch(@"error CS\d+", build.StandardOutput);
        Assert.Contains("ProjSize is not an option of [GruModel]", build.StandardOutput, StringComparison.Ordinal);
    }
}
