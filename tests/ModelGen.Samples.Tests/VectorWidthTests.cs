using System.Runtime.Intrinsics;
using Xunit.Abstractions;

namespace ModelGen.Samples.Tests;

/// <summary>
/// tests/ModelGen.WidthProbe trains and runs an LSTM stack, a streaming GRU, a token graph and an encoder–decoder
/// and prints a digest of every number; with 4-, 8- and 16-lane <c>Vector&lt;float&gt;</c> the digests must be
/// the same, bit for bit: each output is summed in one lane in a fixed order, whatever the width.
/// </summary>
public class VectorWidthTests(ITestOutputHelper log)
{
    private static string ProbeProject => Path.Combine(DotnetProcess.RepositoryRoot, "tests", "ModelGen.WidthProbe", "ModelGen.WidthProbe.csproj");

    [Fact]
    [Trait("Category", "Samples")]
    public async Task Every_kernel_computes_the_same_bits_at_every_vector_width()
    {
        // 512 bits only where the CPU runs them: elsewhere the runtime caps Vector<T> at 256 and the run would repeat 8 lanes.
        int[] widths = Vector512.IsHardwareAccelerated ? [128, 256, 512] : [128, 256];
        log.WriteLine($"Vector<float> widths compared: {string.Join(", ", widths)} bits");
        string? reference = null;
        bool built = false;
        foreach (int bits in widths)
        {
            string[] arguments = built ? ["run", "--no-build", "--project", ProbeProject, "-c", "Release"] : ["run", "--project", ProbeProject, "-c", "Release"];
            ProcessResult run = await DotnetProcess.DotnetAsync(arguments,
                new Dictionary<string, string?> { ["DOTNET_MaxVectorTBitWidth"] = bits.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            built = true;
            log.WriteLine(run.StandardOutput);
            Assert.True(run.ExitCode == 0, run.ToString());
            string[] lines = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal($"Vector<float>.Count = {bits / 32}", lines[0]);
            string digests = string.Join('\n', lines[1..]);
            Assert.True(lines.Length == 5, run.ToString());
            reference ??= digests;
            Assert.True(reference == digests, $"{bits}-bit vectors computed different numbers:\n{digests}\nthan {widths[0]}-bit ones:\n{reference}");
        }
    }
}
