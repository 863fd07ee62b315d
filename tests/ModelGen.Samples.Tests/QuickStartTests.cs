using System.Globalization;
using Xunit.Abstractions;

namespace ModelGen.Samples.Tests;

/// <summary>
/// samples/QuickStart as a user meets it: <c>dotnet run</c> (JIT) and <c>dotnet publish</c> with NativeAOT.
/// The tests of this class run one after the other (one xunit class), so their builds never overlap.
/// </summary>
public class QuickStartTests(ITestOutputHelper log)
{
    private const string ReloadLine = "Reloaded model: parameters and predictions bit-identical.";
    private const string StreamingMark = "(bit-identical to PredictLast)";

    /// <summary>The runtime setting that caps the JIT's Vector&lt;T&gt; width, in bits.</summary>
    private const string VectorWidthVariable = "DOTNET_MaxVectorTBitWidth";

    /// <summary>
    /// Vector&lt;float&gt; width of a default NativeAOT build: plain x86-64 (no AVX2) on x64, NEON on arm64, both
    /// 128 bits (Vector&lt;float&gt;.Count == 4).
    /// </summary>
    private const string DefaultAotVectorBits = "128";

    [Fact]
    [Trait("Category", "Samples")]
    public async Task QuickStart_runs_and_reloads_its_weights_bit_identically()
    {
        using var temp = new TempFolder("modelgen-quickstart-run");
        string weights = Path.Combine(temp.Path, "forecaster.safetensors");

        ProcessResult run = await DotnetAsync(["run", "--project", DotnetProcess.QuickStartProject, "--", weights]);
        log.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(ReloadLine, run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(StreamingMark, run.StandardOutput, StringComparison.Ordinal);
        Assert.True(File.Exists(weights), $"the sample did not write {weights}");

        // Deterministic: a second run prints the same text.
        ProcessResult again = await DotnetAsync(["run", "--no-build", "--project", DotnetProcess.QuickStartProject, "--", weights]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(run.StandardOutput, again.StandardOutput);
    }

    [Fact]
    [Trait("Category", "NativeAot")]
    public async Task QuickStart_publishes_with_NativeAot_without_warnings_and_prints_what_the_jit_prints()
    {
        using var temp = new TempFolder("modelgen-quickstart-aot");
        string publishFolder = Path.Combine(temp.Path, "publish");
        string weights = Path.Combine(temp.Path, "forecaster.safetensors");

        ProcessResult publish = await DotnetAsync(["publish", DotnetProcess.QuickStartProject, "-c", "Release", "-o", publishFolder]);
        log.WriteLine(publish.ToString());
        Assert.True(publish.ExitCode == 0, publish.ToString());
        string[] warnings = Lines(publish.StandardOutput + publish.StandardError)
            .Where(line => line.Contains(" warning ", StringComparison.OrdinalIgnoreCase))
            .ToArray();
        Assert.True(warnings.Length == 0, "dotnet publish warned:\n" + string.Join('\n', warnings));

        string binary = Path.Combine(publishFolder, OperatingSystem.IsWindows() ? "QuickStart.exe" : "QuickStart");
        Assert.True(File.Exists(binary), $"no native binary at {binary}");
        ProcessResult native = await DotnetProcess.RunAsync(binary, [weights]);
        Assert.True(native.ExitCode == 0, native.ToString());
        Assert.Contains(ReloadLine, native.StandardOutput, StringComparison.Ordinal);

        // Same weights path for both runs, so the texts are comparable line by line.
        ProcessResult jit = await DotnetAsync(["run", "--project", DotnetProcess.QuickStartProject, "-c", "Release", "--", weights],
            new Dictionary<string, string?> { [VectorWidthVariable] = null });
        Assert.True(jit.ExitCode == 0, jit.ToString());
        if (jit.StandardOutput == native.StandardOutput) return;

        // They differ: say by how much, and whether a JIT held to the native binary's vector width agrees with it
        // (then the cause is the order of sums over 4 vs 8 lanes, which the kernels are meant to make irrelevant).
        ProcessResult jitNarrow = await DotnetAsync(["run", "--no-build", "--project", DotnetProcess.QuickStartProject, "-c", "Release", "--", weights],
            new Dictionary<string, string?> { [VectorWidthVariable] = DefaultAotVectorBits });
        bool widthExplainsIt = jitNarrow.ExitCode == 0 && jitNarrow.StandardOutput == native.StandardOutput;
        Assert.Fail(
            "The NativeAOT binary and the JIT print different text.\n" + Differences(jit.StandardOutput, native.StandardOutput) +
            (widthExplainsIt
                ? $"\nWith {VectorWidthVariable}={DefaultAotVectorBits} the JIT prints exactly what the native binary prints: the difference comes from Vector<float>.Count (8 under the JIT here, 4 under default NativeAOT)."
                : $"\nWith {VectorWidthVariable}={DefaultAotVectorBits} the JIT still differs from the native binary: the vector width does not explain it."));
    }

    private static Task<ProcessResult> DotnetAsync(string[] arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        DotnetProcess.DotnetAsync(arguments, environment);

    /// <summary>The lines that differ and, for each number that differs, by how much.</summary>
    private static string Differences(string jit, string native)
    {
        string[] jitLines = Lines(jit), nativeLines = Lines(native);
        var report = new System.Text.StringBuilder();
        if (jitLines.Length != nativeLines.Length) report.AppendLine($"JIT: {jitLines.Length} lines, NativeAOT: {nativeLines.Length} lines.");
        for (int i = 0; i < Math.Min(jitLines.Length, nativeLines.Length); i++)
        {
            if (jitLines[i] == nativeLines[i]) continue;
            report.AppendLine($"line {i + 1}:\n  JIT: {jitLines[i]}\n  AOT: {nativeLines[i]}");
            string[] a = Tokens(jitLines[i]), b = Tokens(nativeLines[i]);
            for (int k = 0; k < Math.Min(a.Length, b.Length); k++)
            {
                if (a[k] != b[k]
                    && float.TryParse(a[k], NumberStyles.Float, CultureInfo.InvariantCulture, out float x)
                    && float.TryParse(b[k], NumberStyles.Float, CultureInfo.InvariantCulture, out float y))
                {
                    double error = Math.Abs((double)x - y);
                    long ulps = Math.Abs((long)BitConverter.SingleToInt32Bits(x) - BitConverter.SingleToInt32Bits(y));
                    report.AppendLine(CultureInfo.InvariantCulture,
                        $"    {a[k]} vs {b[k]}: {error:G3} absolute, {error / Math.Abs(y):G3} relative, {ulps} ulp");
                }
            }
        }
        return report.ToString();
    }

    private static string[] Lines(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');

    private static string[] Tokens(string line) =>
        line.Split([' ', '[', ']', '(', ')', ','], StringSplitOptions.RemoveEmptyEntries);
}
