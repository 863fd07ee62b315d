using System.Diagnostics;

namespace ModelGen.Samples.Tests;

/// <summary>What a finished process printed.</summary>
internal sealed record ProcessResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() =>
        $"{Command}\nexit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>Starts the dotnet CLI and the programs it builds, with a timeout, and finds the repository.</summary>
internal static class DotnetProcess
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>The folder holding ModelGen.sln, found by walking up from the test assembly.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string QuickStartProject => Path.Combine(RepositoryRoot, "samples", "QuickStart", "QuickStart.csproj");

    public static string Co2ForecastProject => Path.Combine(RepositoryRoot, "samples", "Co2Forecast", "Co2Forecast.csproj");

    public static string CharModelProject => Path.Combine(RepositoryRoot, "samples", "CharModel", "CharModel.csproj");

    /// <summary>The dotnet host that runs these tests (the SDK's, under <c>dotnet test</c>), else the one on PATH.</summary>
    public static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// Runs <paramref name="fileName"/> in <paramref name="workingDirectory"/> (the repository root by default) and
    /// returns its output once it exits. <paramref name="environment"/> entries with a null value are removed from
    /// the child's environment.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory ?? RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);

        // A nested build must not leave MSBuild nodes or the compiler server running: they would inherit the
        // redirected pipes and keep them open after the build, and outlive the test.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // Under `dotnet test` the test host inherits its parent's MSBuild settings; the nested CLI finds its own.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
                     && !k.Equals("MSBUILDDISABLENODEREUSE", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        foreach ((string key, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }

        string command = $"{fileName} {string.Join(' ', start.ArgumentList)}";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(Timeout))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{command} did not finish within {Timeout.TotalMinutes} minutes.");
            }
        }
        return new ProcessResult(command, process.ExitCode,
            await stdout.WaitAsync(TimeSpan.FromSeconds(30)), await stderr.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/>.</summary>
    public static Task<ProcessResult> DotnetAsync(IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null) =>
        RunAsync(Dotnet, arguments, environment, workingDirectory);

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ModelGen.sln"))) return folder.FullName;
        }
        throw new DirectoryNotFoundException($"No folder above {AppContext.BaseDirectory} holds ModelGen.sln.");
    }
}

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is not a test failure.
        }
    }
}
