using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace ModelGen.Samples.Tests;

/// <summary>
/// samples/WordTranslation as a user meets it: <c>dotnet run --project …</c> with an output folder, then checks on
/// what it prints and writes: per-epoch progress, beam search above both baselines in exact match and character
/// error rate, greedy decoding above copying, two PNGs, and a reload that decodes the same.
/// </summary>
public partial class WordTranslationSampleTests(ITestOutputHelper log)
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static string Project => Path.Combine(DotnetProcess.RepositoryRoot, "samples", "WordTranslation", "WordTranslation.csproj");

    [Fact]
    [Trait("Category", "Samples")]
    public async Task WordTranslation_beam_beats_both_baselines_writes_two_pngs_and_reloads()
    {
        using var temp = new TempFolder("modelgen-wordtranslation");

        ProcessResult run = await DotnetProcess.DotnetAsync(["run", "--project", Project, "--", temp.Path]);
        log.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        string output = run.StandardOutput;

        Assert.Matches(EpochLine(), output);
        (double Exact, double Cer) copy = Scores(output, "copy the English word");
        (double Exact, double Cer) neighbour = Scores(output, "nearest training word (Levenshtein)");
        (double Exact, double Cer) greedy = Scores(output, "encoder–decoder, greedy");
        (double Exact, double Cer) beam = Scores(output, "encoder–decoder, beam of");
        log.WriteLine($"exact match / CER: copy {copy}, nearest {neighbour}, greedy {greedy}, beam {beam}");
        foreach ((string name, (double Exact, double Cer) baseline) in new[] { ("copying", copy), ("the nearest training word", neighbour) })
        {
            Assert.True(beam.Exact > baseline.Exact, $"beam exact match {beam.Exact} is not above {name}'s {baseline.Exact}");
            Assert.True(beam.Cer < baseline.Cer, $"beam CER {beam.Cer} is not below {name}'s {baseline.Cer}");
        }
        Assert.True(greedy.Exact > copy.Exact && greedy.Cer < copy.Cer, $"greedy {greedy} does not beat copying {copy}");
        Assert.True(beam.Exact < 1, "a perfect exact match would mean the test words leaked into training");

        foreach (string name in new[] { "loss.png", "attention.png" })
        {
            string path = Path.Combine(temp.Path, name);
            Assert.True(File.Exists(path), $"the sample did not write {path}");
            byte[] bytes = await File.ReadAllBytesAsync(path);
            Assert.True(bytes.AsSpan().StartsWith(PngSignature), $"{name} does not start with the PNG signature");
            Assert.True(bytes.Length > 10_000, $"{name} has only {bytes.Length} bytes: an empty plot?");
        }

        Match reload = Regex.Match(output, @"reloaded: (?<same>\d+) of (?<all>\d+) test words decode the same");
        Assert.True(reload.Success, "no reload line in the output");
        Assert.Equal(reload.Groups["all"].Value, reload.Groups["same"].Value);
        Assert.True(File.Exists(Path.Combine(temp.Path, "translator.safetensors")), "no weights file");
    }

    private static (double Exact, double Cer) Scores(string output, string label)
    {
        Match match = Regex.Match(output, $@"^\s*{Regex.Escape(label)}.*?\s(?<exact>[01]\.[0-9]+)\s+(?<cer>[0-9]+\.[0-9]+)\s*$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no score line for '{label}' in the output");
        return (double.Parse(match.Groups["exact"].Value, CultureInfo.InvariantCulture),
            double.Parse(match.Groups["cer"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"epoch 1/\d+  train [0-9.eE+-]+  validation [0-9.eE+-]+ \*  accuracy [0-9.]+  macro-F1 [0-9.]+")]
    private static partial Regex EpochLine();
}
