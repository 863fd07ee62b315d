using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace ModelGen.Samples.Tests;

/// <summary>
/// samples/TopicClassifier as a user meets it: <c>dotnet run --project …</c> with an output folder, then checks on
/// what it prints and writes: per-epoch progress, the model's held-out accuracy and macro-F1 above both baselines',
/// two PNGs, and a bit-identical reload.
/// </summary>
public partial class TopicClassifierSampleTests(ITestOutputHelper log)
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static string Project => Path.Combine(DotnetProcess.RepositoryRoot, "samples", "TopicClassifier", "TopicClassifier.csproj");

    [Fact]
    [Trait("Category", "Samples")]
    public async Task TopicClassifier_beats_both_baselines_writes_two_pngs_and_reloads_bit_identically()
    {
        using var temp = new TempFolder("modelgen-topicclassifier");

        ProcessResult run = await DotnetProcess.DotnetAsync(["run", "--project", Project, "--", temp.Path]);
        log.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        string output = run.StandardOutput;

        // The per-epoch progress of GraphTrainer.FitSequenceClasses, with validation loss, accuracy and macro-F1.
        Assert.Matches(EpochLine(), output);

        (double Accuracy, double MacroF1) model = Scores(output, "model (BiLSTM)");
        (double Accuracy, double MacroF1) bayes = Scores(output, "naive Bayes");
        (double Accuracy, double MacroF1) majority = Scores(output, "majority class");
        log.WriteLine($"held-out accuracy / macro-F1: model {model}, naive Bayes {bayes}, majority {majority}");
        foreach ((string name, (double Accuracy, double MacroF1) baseline) in new[] { ("naive Bayes", bayes), ("the majority class", majority) })
        {
            Assert.True(model.Accuracy > baseline.Accuracy, $"model accuracy {model.Accuracy} is not above {name}'s {baseline.Accuracy}");
            Assert.True(model.MacroF1 > baseline.MacroF1, $"model macro-F1 {model.MacroF1} is not above {name}'s {baseline.MacroF1}");
        }
        Assert.True(model.Accuracy < 1, "a perfect accuracy would mean the test quotes leaked into training");
        Assert.Contains("The model beats naive Bayes in accuracy and macro-F1.", output, StringComparison.Ordinal);
        Assert.Contains("The model beats the majority class in accuracy and macro-F1.", output, StringComparison.Ordinal);

        foreach (string name in new[] { "topic-confusion.png", "topic-loss.png" })
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

        Assert.Contains("Reloaded model: parameters and test predictions bit-identical.", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(temp.Path, "topic-lstm.safetensors")), "no weights file");
    }

    private static (double Accuracy, double MacroF1) Scores(string output, string label)
    {
        Match match = Regex.Match(output, $@"^\s*{Regex.Escape(label)}.*?\s(?<accuracy>[01]\.[0-9]+)\s+(?<f1>[01]\.[0-9]+)\s*$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no score line for '{label}' in the output");
        return (double.Parse(match.Groups["accuracy"].Value, CultureInfo.InvariantCulture),
            double.Parse(match.Groups["f1"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"epoch 1/\d+  train [0-9.eE+-]+  validation [0-9.eE+-]+ \*  accuracy [0-9.]+  macro-F1 [0-9.]+")]
    private static partial Regex EpochLine();
}
