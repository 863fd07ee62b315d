using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace ModelGen.Samples.Tests;

/// <summary>
/// The package as a user meets it: <c>dotnet pack</c> of the repository into a folder feed, then a new console app
/// outside the repository that references <c>ModelGen</c> by version from that feed, is fixed by the package's
/// code fix, builds with warnings as errors, runs, and publishes with NativeAOT (<c>-p:PublishAot=true</c> on the
/// command line) to a binary that prints what the JIT printed.
/// </summary>
public partial class PackageTests(ITestOutputHelper log)
{
    private const string AppName = "PackageUser";
    private const string ReloadLine = "reloaded: parameters and predictions bit-identical";

    /// <summary>The start of the message of the package's build targets when a NativeAOT publish keeps x64's default instruction set.</summary>
    private const string InstructionSetMessage = "ModelGen: this NativeAOT binary targets x86-64-v2";

    /// <summary>The runtime setting that caps the JIT's Vector&lt;T&gt; width; the app runs without it.</summary>
    private const string VectorWidthVariable = "DOTNET_MaxVectorTBitWidth";

    // The app: a model declared with the attribute, initialised, predicting, saved and reloaded; plus a second
    // model whose class is not partial (MG0007) until the package's code fix has run.
    private const string ProgramSource = """
        using System.Globalization;
        using System.Runtime.InteropServices;
        using ModelGen;

        const int Batch = 3, Steps = 10;
        var model = new Forecaster();
        model.InitializeParameters(seed: 7);
        Console.WriteLine($"Forecaster: {Forecaster.ParameterCount} parameters: " +
                          string.Join(' ', Forecaster.ParameterTable.Select(p => p.Name + p.ShapeText)));
        Console.WriteLine($"Fixed: {Fixed.ParameterCount} parameters");

        var input = new float[Batch * Steps * Forecaster.InputSize];
        for (int i = 0; i < input.Length; i++) input[i] = MathF.Sin(0.1f * i);
        var predictions = new float[Batch * Forecaster.OutputSize];
        model.PredictLast(input, Batch, predictions);
        Console.WriteLine("predictions: " + string.Join(' ', predictions.Select(p => p.ToString("R", CultureInfo.InvariantCulture))));

        string path = Path.Combine(args[0], "forecaster.safetensors");
        model.SaveSafetensors(path);
        var reloaded = new Forecaster();
        reloaded.LoadSafetensors(path);
        var again = new float[predictions.Length];
        reloaded.PredictLast(input, Batch, again);
        bool same = MemoryMarshal.AsBytes(reloaded.Parameters).SequenceEqual(MemoryMarshal.AsBytes(model.Parameters))
            && MemoryMarshal.AsBytes(again.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(predictions.AsSpan()));
        Console.WriteLine(same ? "reloaded: parameters and predictions bit-identical" : "reloaded: DIFFERENT");
        return same ? 0 : 1;

        [LstmModel(InputSize = 2, HiddenSize = 8, NumLayers = 2, OutputSize = 1)]
        public partial class Forecaster;
        """;

    private const string UnfixedSource = """
        using ModelGen;

        [GruModel(InputSize = 1, HiddenSize = 4)]
        public class Fixed;
        """;

    // LSTM(2, 8, 2) + Linear(8, 1): 4·8·(2 + 8) + 2·4·8, then 4·8·(8 + 8) + 2·4·8, then 8 + 1. GRU(1, 4): 3·4·(1 + 4) + 2·3·4.
    private const int ForecasterParameters = 384 + 576 + 9;
    private const int FixedParameters = 84;

    private const string AppProject = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <InvariantGlobalization>true</InvariantGlobalization>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="ModelGen" Version="@VERSION@" />
          </ItemGroup>
        </Project>
        """;

    [Fact]
    [Trait("Category", "Package")]
    public async Task The_repository_packs_one_package_that_a_new_app_builds_fixes_runs_and_publishes_with_NativeAot()
    {
        var total = Stopwatch.StartNew();
        using var temp = new TempFolder("modelgen-package");
        string feed = Path.Combine(temp.Path, "feed");
        string packages = Path.Combine(temp.Path, "packages");
        string app = Path.Combine(temp.Path, "app");
        string jitWeights = Path.Combine(temp.Path, "jit"), nativeWeights = Path.Combine(temp.Path, "native");
        foreach (string folder in new[] { feed, packages, app, jitWeights, nativeWeights }) Directory.CreateDirectory(folder);
        Assert.False(IsUnder(temp.Path, DotnetProcess.RepositoryRoot), $"{temp.Path} is inside the repository");

        // 1. `dotnet pack` at the repository root writes exactly one package, ModelGen 0.x, and its symbols.
        ProcessResult pack = await Step("dotnet pack (repository root)",
            DotnetProcess.DotnetAsync(["pack", "-c", "Release", "-o", feed]));
        Assert.True(pack.ExitCode == 0, pack.ToString());
        AssertNoWarnings(pack, "dotnet pack");
        string[] written = [.. Directory.GetFiles(feed).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];
        string[] nupkgs = [.. written.Where(f => f.EndsWith(".nupkg", StringComparison.Ordinal))];
        Assert.True(nupkgs.Length == 1, "dotnet pack wrote: " + string.Join(", ", written));
        Match name = PackageFileName().Match(nupkgs[0]);
        Assert.True(name.Success, $"the package is {nupkgs[0]}, not ModelGen.0.x.y.nupkg");
        string version = name.Groups["version"].Value;
        Assert.Equal([$"ModelGen.{version}.nupkg", $"ModelGen.{version}.snupkg"], written);

        // 2. A console app in a folder of its own, outside the repository: the repository's Directory.*.props do not
        // reach it (empty ones stop the search on the way up), its nuget.config has the feed and the normal
        // sources, ModelGen mapped to the feed only, and NuGet's cache is a fresh folder of this test.
        string[] sources = await NormalSources(app);
        File.WriteAllText(Path.Combine(app, "nuget.config"), NuGetConfig(feed, packages, sources));
        foreach (string stop in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(app, stop), "<Project />\n");
        }
        File.WriteAllText(Path.Combine(app, AppName + ".csproj"), AppProject.Replace("@VERSION@", version, StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(app, "Program.cs"), ProgramSource);
        string unfixed = Path.Combine(app, "Fixed.cs");
        File.WriteAllText(unfixed, UnfixedSource);
        var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = packages, [VectorWidthVariable] = null };

        ProcessResult restore = await Step("dotnet restore (app)", App(["restore"]));
        Assert.True(restore.ExitCode == 0, restore.ToString());
        string metadata = Path.Combine(packages, "modelgen", version.ToLowerInvariant(), ".nupkg.metadata");
        Assert.True(File.Exists(metadata), $"ModelGen {version} was not restored into the test's cache {packages}");
        string? restoredFrom = JsonDocument.Parse(File.ReadAllText(metadata)).RootElement.GetProperty("source").GetString();
        Assert.True(restoredFrom is not null && SamePath(restoredFrom, feed), $"ModelGen came from {restoredFrom}, not from the feed {feed}");

        // 3. The package's analyzers report MG0007 on the class that is not partial (and the message has no link)...
        ProcessResult broken = await Step("dotnet build (MG0007 expected)", App(["build", "--no-restore", "-c", "Release"]));
        string[] mg0007 = [.. Lines(broken).Where(l => l.Contains("error MG0007", StringComparison.Ordinal))];
        Assert.True(broken.ExitCode != 0 && mg0007.Length > 0, "the build did not report MG0007 for the class that is not partial:\n" + broken);
        Assert.All(mg0007, line => Assert.DoesNotContain("://", line, StringComparison.Ordinal));

        // ...and the package's code fix makes it partial, as the IDE's light bulb would.
        ProcessResult format = await Step("dotnet format analyzers (code fix MG0007)",
            App(["format", "analyzers", "--no-restore", "--diagnostics", "MG0007", "--severity", "error"]));
        Assert.True(format.ExitCode == 0, format.ToString());
        Assert.Contains("public partial class Fixed", File.ReadAllText(unfixed), StringComparison.Ordinal);

        // 4. Now it builds, warnings as errors, with no warning at all.
        ProcessResult build = await Step("dotnet build (app)", App(["build", "--no-restore", "-c", "Release"]));
        Assert.True(build.ExitCode == 0, build.ToString());
        AssertNoWarnings(build, "dotnet build");

        // 5. It runs under the JIT, kept to the instructions of the default native target (x86-64 without AVX2, so
        // without FMA: the kernels' multiply-adds round twice there), so that step 6 can compare bit for bit.
        string dll = Path.Combine(app, "bin", "Release", "net10.0", AppName + ".dll");
        var jitEnvironment = new Dictionary<string, string?>(environment) { ["DOTNET_EnableAVX2"] = "0" };
        ProcessResult jit = await Step("run (JIT)", DotnetProcess.RunAsync(DotnetProcess.Dotnet, [dll, jitWeights], jitEnvironment, app));
        Assert.True(jit.ExitCode == 0, jit.ToString());
        Assert.Contains($"Forecaster: {ForecasterParameters} parameters: rnn.weight_ih_l0[32, 2] rnn.weight_hh_l0[32, 8]", jit.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("rnn.bias_hh_l1[32] head.weight[1, 8] head.bias[1]", jit.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Fixed: {FixedParameters} parameters", jit.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(PredictionsLine(), jit.StandardOutput);
        Assert.Contains(ReloadLine, jit.StandardOutput, StringComparison.Ordinal);

        // 6. It publishes with NativeAOT from the command line, without a warning, and the native binary prints
        // exactly what the JIT printed and writes the same weights file.
        string publishFolder = Path.Combine(temp.Path, "publish");
        ProcessResult publish = await Step("dotnet publish -p:PublishAot=true (app)",
            App(["publish", "-c", "Release", "-p:PublishAot=true", "-o", publishFolder]));
        Assert.True(publish.ExitCode == 0, publish.ToString());
        AssertNoWarnings(publish, "dotnet publish");
        // The package's build targets say that the default instruction set was used, on x64 where it is x86-64-v2,
        // and stay silent once the project sets one (x86-64-v2 too: a choice stated).
        bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
        Assert.Equal(x64, publish.StandardOutput.Contains(InstructionSetMessage, StringComparison.Ordinal));
        ProcessResult stated = await Step("the instruction-set message with IlcInstructionSet set (app)",
            App(["msbuild", "-nologo", "-t:ModelGenReportNativeInstructionSet", "-p:PublishAot=true", "-p:IlcInstructionSet=x86-64-v2",
                "-p:RuntimeIdentifier=" + RuntimeInformation.RuntimeIdentifier]));
        Assert.True(stated.ExitCode == 0, stated.ToString());
        Assert.DoesNotContain(InstructionSetMessage, stated.StandardOutput, StringComparison.Ordinal);
        string binary = Path.Combine(publishFolder, OperatingSystem.IsWindows() ? AppName + ".exe" : AppName);
        Assert.True(File.Exists(binary), $"no native binary at {binary}");
        ProcessResult native = await Step("run (NativeAOT)", DotnetProcess.RunAsync(binary, [nativeWeights], environment, app));
        Assert.True(native.ExitCode == 0, native.ToString());
        Assert.Equal(jit.StandardOutput, native.StandardOutput);
        Assert.Equal(File.ReadAllBytes(Path.Combine(jitWeights, "forecaster.safetensors")),
            File.ReadAllBytes(Path.Combine(nativeWeights, "forecaster.safetensors")));

        // 7. What the package holds and says about itself.
        AssertPackageContents(Path.Combine(feed, nupkgs[0]), version);
        log.WriteLine($"total: {total.Elapsed.TotalSeconds:F1} s");

        Task<ProcessResult> App(string[] arguments) => DotnetProcess.DotnetAsync(arguments, environment, app);
    }

    /// <summary>Runs one step, logs its output and its duration.</summary>
    private async Task<ProcessResult> Step(string what, Task<ProcessResult> running)
    {
        var watch = Stopwatch.StartNew();
        ProcessResult result = await running;
        log.WriteLine($"=== {what}: {watch.Elapsed.TotalSeconds:F1} s");
        log.WriteLine(result.ToString());
        return result;
    }

    private static void AssertPackageContents(string nupkg, string version)
    {
        using ZipArchive zip = ZipFile.OpenRead(nupkg);
        string[] entries = [.. zip.Entries.Select(e => e.FullName)];
        string[] required =
        [
            "lib/net10.0/ModelGen.dll", "lib/net10.0/ModelGen.xml",
            "analyzers/dotnet/cs/ModelGen.Generator.dll", "analyzers/dotnet/cs/ModelGen.CodeFixes.dll",
            "README.md", "LICENSE", "docs/diagnostics/MG0001.md", "build/ModelGen.targets", "buildTransitive/ModelGen.targets",
        ];
        string[] missing = [.. required.Except(entries)];
        Assert.True(missing.Length == 0, $"the package lacks {string.Join(", ", missing)}; it holds:\n" + string.Join('\n', entries));
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/netstandard", StringComparison.Ordinal) || e.EndsWith(".pdb", StringComparison.Ordinal));

        using Stream stream = zip.GetEntry("ModelGen.nuspec")!.Open();
        XElement metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Value(string element) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == element)?.Value;
        Assert.Equal("ModelGen", Value("id"));
        Assert.Equal(version, Value("version"));
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")));
        Assert.False(string.IsNullOrWhiteSpace(Value("authors")));
        Assert.Contains("lstm", Value("tags") ?? "", StringComparison.Ordinal);
        Assert.Null(Value("projectUrl"));
        Assert.Null(metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository")?.Attribute("url"));
        // The generator and code fixes are inside, not package dependencies; the runtime needs no other package.
        Assert.DoesNotContain(metadata.Descendants(), e => e.Name.LocalName == "dependency");
    }

    /// <summary>The enabled package sources of the user's configuration, as seen from <paramref name="folder"/>.</summary>
    private static async Task<string[]> NormalSources(string folder)
    {
        ProcessResult list = await DotnetProcess.DotnetAsync(["nuget", "list", "source", "--format", "Short"], workingDirectory: folder);
        Assert.True(list.ExitCode == 0, list.ToString());
        string[] sources = [.. Lines(list)
            .Select(l => l.Trim())
            .Where(l => l.Length > 2 && l[0] == 'E' && char.IsWhiteSpace(l[1]))
            .Select(l => l[2..].Trim())];
        Assert.True(sources.Length > 0, "no enabled package source is configured:\n" + list);
        return sources;
    }

    private static string NuGetConfig(string feed, string packages, string[] sources)
    {
        static string Xml(string text) => SecurityElement.Escape(text);
        string adds = string.Join("\n", sources.Select((s, i) => $"""    <add key="source{i + 1}" value="{Xml(s)}" />"""));
        string maps = string.Join("\n", sources.Select((_, i) => $"""    <packageSource key="source{i + 1}"><package pattern="*" /></packageSource>"""));
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Xml(packages)}" />
              </config>
              <packageSources>
                <clear />
                <add key="modelgen-feed" value="{Xml(feed)}" />
            {adds}
              </packageSources>
              <packageSourceMapping>
                <packageSource key="modelgen-feed"><package pattern="ModelGen" /></packageSource>
            {maps}
              </packageSourceMapping>
            </configuration>

            """;
    }

    private static void AssertNoWarnings(ProcessResult result, string what)
    {
        string[] warnings = [.. Lines(result).Where(l => l.Contains(" warning ", StringComparison.OrdinalIgnoreCase))];
        Assert.True(warnings.Length == 0, $"{what} warned:\n" + string.Join('\n', warnings));
    }

    private static string[] Lines(ProcessResult result) =>
        (result.StandardOutput + "\n" + result.StandardError).ReplaceLineEndings("\n").Split('\n');

    private static bool IsUnder(string path, string folder) =>
        Path.GetFullPath(path).StartsWith(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar,
            StringComparison.Ordinal);

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)),
            StringComparison.Ordinal);

    [GeneratedRegex(@"^ModelGen\.(?<version>0\.\d+\.\d+(-[0-9A-Za-z.-]+)?)\.nupkg$")]
    private static partial Regex PackageFileName();

    [GeneratedRegex(@"predictions: -?\d\S* -?\d\S* -?\d\S*")]
    private static partial Regex PredictionsLine();
}
