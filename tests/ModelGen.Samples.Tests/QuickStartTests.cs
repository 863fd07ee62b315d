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

    /// <summary>The runtime setting that keeps the JIT off AVX2 (and so off FMA and 256-bit Vector&lt;T&gt;), as the default native target is.</summary>
    private const string Avx2Variable = "DOTNET_EnableAVX2";

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

        // Same weights path for both runs, so the texts are comparable line by line. The default native target
        // (x86-64 without AVX2) has no FMA, so the kernels' multiply-adds round twice there (MultiplyAdd); a JIT run
        // without AVX2 computes on those instructions too, and must print exactly what the binary prints.
        ProcessResult jit = await DotnetAsync(["run", "--project", DotnetProcess.QuickStartProject, "-c", "Release", "--", weights],
            new Dictionary<string, string?> { [VectorWidthVariable] = null, [Avx2Variable] = "0" });
        Assert.True(jit.ExitCode == 0, jit.ToString());
        Assert.True(jit.StandardOutput == native.StandardOutput,
            $"The NativeAOT binary and the JIT with {Avx2Variable}=0 print different text.\n" + Differences(jit.StandardOutput, native.StandardOutput));

        // With the CPU's own instructions (FMA, wider vectors) the JIT may differ in the last bits, but no more: the
        // same lines, and every number within float32 rounding of the whole run (1e-4 relative, far above the 2⁻²⁴
        // of one multiply-add, far below any difference a wrong kernel makes).
        ProcessResult jitNative = await DotnetAsync(["run", "--no-build", "--project", DotnetProcess.QuickStartProject, "-c", "Release", "--", weights],
            new Dictionary<string, string?> { [VectorWidthVariable] = null });
        Assert.True(jitNative.ExitCode == 0, jitNative.ToString());
        AssertSameUpToRounding(jitNative.StandardOutput, native.StandardOutput, relative: 1e-4);
    }

    /// <summary>The same lines, but for numbers that differ by at most <paramref name="relative"/> of their size.</summary>
    private static void AssertSameUpToRounding(string jit, string native, double relative)
    {
        string[] jitLines = Lines(jit), nativeLines = Lines(native);
        Assert.True(jitLines.Length == nativeLines.Length, $"JIT: {jitLines.Length} lines, NativeAOT: {nativeLines.Length} lines.");
        for (int i = 0; i < jitLines.Length; i++)
        {
            string[] a = Tokens(jitLines[i]), b = Tokens(nativeLines[i]);
            Assert.True(a.Length == b.Length, $"line {i + 1} differs:\n  JIT: {jitLines[i]}\n  AOT: {nativeLines[i]}");
            for (int k = 0; k < a.Length; k++)
            {
                if (a[k] == b[k]) continue;
                bool numbers = double.TryParse(a[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double x)
                    & double.TryParse(b[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double y);
                Assert.True(numbers && Math.Abs(x - y) <= relative * Math.Max(Math.Abs(x), Math.Abs(y)),
                    $"line {i + 1} differs beyond rounding:\n  JIT: {jitLines[i]}\n  AOT: {nativeLines[i]}\n" + Differences(jit, native));
            }
        }
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
