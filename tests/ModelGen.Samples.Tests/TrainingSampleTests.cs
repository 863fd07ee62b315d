using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace ModelGen.Samples.Tests;

/// <summary>
/// samples/Co2Forecast and samples/CharModel as a user meets them: <c>dotnet run --project …</c> (Debug; the samples
/// build their ModelGen reference in Release, so training runs at full speed), then checks on what they print and write.
/// </summary>
public partial class TrainingSampleTests(ITestOutputHelper log)
{
    private const string Co2ReloadLine = "Reloaded model: parameters and test forecasts bit-identical.";
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    [Trait("Category", "Samples")]
    public async Task Co2Forecast_beats_persistence_writes_two_pngs_and_reloads_bit_identically()
    {
        using var temp = new TempFolder("modelgen-co2forecast");

        ProcessResult run = await DotnetProcess.DotnetAsync(
            ["run", "--project", DotnetProcess.Co2ForecastProject, "--", temp.Path]);
        log.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        string output = run.StandardOutput;

        // The per-epoch progress of Trainer.FitLast, with a validation loss.
        Assert.Matches(EpochLine(), output);

        // The test RMSEs the sample prints, in ppm: the model must beat last month's value (persistence).
        double model = Rmse(output, "model (LSTM)");
        double persistence = Rmse(output, "persistence (last month's value)");
        double seasonal = Rmse(output, "seasonal naive (value 12 months ago)");
        log.WriteLine($"test RMSE: model {model} ppm, persistence {persistence} ppm, seasonal naive {seasonal} ppm");
        Assert.True(model < persistence, $"model RMSE {model} ppm is not below persistence's {persistence} ppm");
        Assert.True(model > 0, "a zero RMSE would mean the test months leaked into training");

        foreach (string name in new[] { "co2-forecast.png", "co2-loss.png" })
        {
            string path = Path.Combine(temp.Path, name);
            Assert.True(File.Exists(path), $"the sample did not write {path}");
            byte[] bytes = await File.ReadAllBytesAsync(path);
            Assert.True(bytes.AsSpan().StartsWith(PngSignature), $"{name} does not start with the PNG signature");
            Assert.True(bytes.Length > 10_000, $"{name} has only {bytes.Length} bytes: an empty plot?");
            // IHDR, the first chunk: width and height, big-endian, at bytes 16..23.
            int width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16));
            int height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
            Assert.True(width >= 400 && height >= 300, $"{name} is {width}x{height} pixels");
        }

        Assert.Contains(Co2ReloadLine, output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(temp.Path, "co2-lstm.safetensors")), "no weights file");

        // Deterministic: a second run prints the same text, except for the timings.
        ProcessResult again = await DotnetProcess.DotnetAsync(
            ["run", "--no-build", "--project", DotnetProcess.Co2ForecastProject, "--", temp.Path]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(WithoutTimings(output), WithoutTimings(again.StandardOutput));
    }

    [Fact]
    [Trait("Category", "Samples")]
    public async Task CharModel_lowers_its_held_out_loss_and_generates_text()
    {
        ProcessResult run = await DotnetProcess.DotnetAsync(["run", "--project", DotnetProcess.CharModelProject]);
        log.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        string output = run.StandardOutput;

        Match losses = HeldOutLosses().Match(output);
        Assert.True(losses.Success, "no line 'Held-out loss after training: … before: …'");
        float after = float.Parse(losses.Groups["after"].Value, CultureInfo.InvariantCulture);
        float before = float.Parse(losses.Groups["before"].Value, CultureInfo.InvariantCulture);
        float bits = float.Parse(losses.Groups["bits"].Value, CultureInfo.InvariantCulture);
        log.WriteLine($"held-out loss: {before} -> {after} nats/char ({bits} bits/char)");
        Assert.True(after < before, $"the loss after training ({after}) is not below the loss before ({before})");
        Assert.Equal(after / MathF.Log(2), bits, 0.01f);

        // The generated text: between two "----" lines, starting with the prompt, a few hundred characters.
        Match generated = GeneratedText().Match(output.ReplaceLineEndings("\n"));
        Assert.True(generated.Success, "no generated text between '----' lines");
        string text = generated.Groups["text"].Value;
        Assert.StartsWith("The whale", text, StringComparison.Ordinal);
        Assert.True(text.Length >= 300, $"only {text.Length} characters generated");
    }

    private static double Rmse(string output, string label)
    {
        Match match = Regex.Match(output, $@"^\s*{Regex.Escape(label)}\s+(?<value>[0-9]+\.[0-9]+) ppm\s*$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no RMSE line for '{label}' in the output");
        return double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The output without what depends on the machine's speed: throughput, ETA and seconds.</summary>
    private static string WithoutTimings(string output) => Timings().Replace(output, "#");

    [GeneratedRegex(@"epoch 1/\d+  train [0-9.eE+-]+  validation [0-9.eE+-]+")]
    private static partial Regex EpochLine();

    [GeneratedRegex(@"\d+ samples/s  ETA \d+:\d+|\d+\.\d s\b")]
    private static partial Regex Timings();

    [GeneratedRegex(@"Held-out loss after training: (?<after>[0-9.]+) nats/char \((?<bits>[0-9.]+) bits/char\), before: (?<before>[0-9.]+) nats/char")]
    private static partial Regex HeldOutLosses();

    [GeneratedRegex(@"\n----\n(?<text>.*?)\n----\n", RegexOptions.Singleline)]
    private static partial Regex GeneratedText();
}
