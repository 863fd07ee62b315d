using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The <c>[Seq2SeqModel]</c> pipeline's steps (<see cref="TrackingNames.Seq2SeqSpecs"/>, <see cref="TrackingNames.ValidSeq2SeqSpecs"/>)
/// cache like the graphs' (<see cref="GraphCachingTests"/>): an unrelated edit reruns nothing that changes, and an
/// edit of a graph the model names — in another file than the one carrying <c>[Seq2SeqModel]</c> — changes the
/// model's spec and its generated source, or removes it when the two graphs no longer fit.
/// </summary>
public class Seq2SeqCachingTests
{
    /// <summary>The two graphs, in a file of their own.</summary>
    private const string Graphs = """
        using ModelGen;

        namespace Demo;

        [SequenceModel]
        public partial class SpellingEncoder
        {
            [Embedding(NumEmbeddings = 30, EmbeddingDim = 16, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
        }

        [SequenceModel]
        public partial class SpellingDecoder
        {
            [Embedding(NumEmbeddings = 40, EmbeddingDim = 16, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Attention(AttentionScore.Additive, KeySize = 32, AttentionSize = 24)] public partial Attention Attn { get; }
            [Gru(InputSize = 48, HiddenSize = 32)] public partial Gru Rnn { get; }
            [Linear(InFeatures = 32, OutFeatures = 40)] public partial Linear Fc { get; }
        }
        """;

    /// <summary>The model, in another file; a second model without attention over the same encoder.</summary>
    private const string Models = """
        using ModelGen;

        namespace Demo;

        [Seq2SeqModel(typeof(SpellingEncoder), typeof(SpellingDecoder))]
        public partial class Speller;

        [SequenceModel]
        public partial class PlainDecoder
        {
            [Embedding(NumEmbeddings = 20, EmbeddingDim = 8)] public partial Embedding Embed { get; }
            [Gru(InputSize = 8, HiddenSize = 32)] public partial Gru Rnn { get; }
            [Linear(InFeatures = 32, OutFeatures = 20)] public partial Linear Fc { get; }
        }

        [Seq2SeqModel(typeof(SpellingEncoder), typeof(PlainDecoder))]
        public partial class Plain;
        """;

    private const string Unrelated = "namespace Demo; public static class Util { public static int One() => 1; }";

    private static readonly string[] Seq2SeqSteps = [TrackingNames.Seq2SeqSpecs, TrackingNames.ValidSeq2SeqSpecs];

    private const int Seq2SeqOutputs = 2;

    [Fact]
    public void Every_seq2seq_tracking_name_is_checked_by_a_caching_test()
    {
        string[] names = [.. typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!)];
        Assert.Equal(Seq2SeqSteps, names.Where(n => n.Contains("Seq2Seq", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_models_generate_without_problems()
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(Graphs, Models);
        Assert.Null(result.Exception);
        Assert.Empty(GeneratorHarness.Problems(output));
        Assert.Equal(Seq2SeqOutputs, result.GeneratedSources.Count(s => s.HintName.EndsWith(".seq2seq.g.cs", StringComparison.Ordinal)));
    }

    [Fact]
    public void Unrelated_edit_leaves_the_seq2seq_steps_cached()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Graphs, Models, Unrelated);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(first);
        Assert.Equal(Seq2SeqOutputs, driver.GetRunResult().Results.Single().GeneratedSources.Count(s => s.HintName.EndsWith(".seq2seq.g.cs", StringComparison.Ordinal)));

        GeneratorRunResult rerun = driver.RunGenerators(Edit(first, 2, Unrelated.Replace("One() => 1", "Two() => 2", StringComparison.Ordinal)))
            .GetRunResult().Results.Single();

        foreach (string step in Seq2SeqSteps)
        {
            Assert.True(rerun.TrackedSteps.ContainsKey(step), $"step {step} was not tracked");
            IncrementalStepRunReason[] reasons = [.. rerun.TrackedSteps[step].SelectMany(r => r.Outputs).Select(o => o.Reason)];
            Assert.NotEmpty(reasons);
            Assert.All(reasons, reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"step {step} output was {reason}"));
        }
        Assert.Equal(Seq2SeqOutputs, rerun.TrackedSteps[TrackingNames.ValidSeq2SeqSpecs].SelectMany(r => r.Outputs).Count());
        Assert.All(rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_the_decoders_logits_in_another_file_regenerates_the_model()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Graphs, Models);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(first);
        GeneratorRunResult initial = driver.GetRunResult().Results.Single();
        string edited = Graphs.Replace("NumEmbeddings = 40", "NumEmbeddings = 50", StringComparison.Ordinal)
            .Replace("OutFeatures = 40", "OutFeatures = 50", StringComparison.Ordinal);
        CSharpCompilation second = Edit(first, 0, edited);
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        // Speller's spec follows its decoder (50 target tokens); Plain's, over the same encoder, does not change.
        IncrementalStepRunReason[] reasons = [.. rerun.TrackedSteps[TrackingNames.ValidSeq2SeqSpecs].SelectMany(s => s.Outputs).Select(o => o.Reason)];
        Assert.Equal(Seq2SeqOutputs, reasons.Length);
        Assert.Single(reasons, r => r is IncrementalStepRunReason.Modified or IncrementalStepRunReason.New);
        Assert.Contains("logits <c>[B, Tt, 40]</c>", Source(initial, "Speller"), StringComparison.Ordinal);
        Assert.Contains("logits <c>[B, Tt, 50]</c>", Source(rerun, "Speller"), StringComparison.Ordinal);
        Assert.Equal(Source(initial, "Plain."), Source(rerun, "Plain."));
        AssertCompiles(second);
    }

    [Fact]
    public void Editing_the_decoders_attention_in_another_file_changes_the_models_spec()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Graphs, Models);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(first);
        object before = Spec(driver.GetRunResult().Results.Single(), "Speller");
        CSharpCompilation second = Edit(first, 0, Graphs.Replace("AttentionSize = 24", "AttentionSize = 12", StringComparison.Ordinal));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        object after = Spec(rerun, "Speller");
        Assert.NotEqual(before, after);
        Assert.Contains("AttentionSize = 12", after.ToString(), StringComparison.Ordinal);
        Assert.Contains(rerun.TrackedSteps[TrackingNames.ValidSeq2SeqSpecs].SelectMany(s => s.Outputs),
            o => o.Reason is IncrementalStepRunReason.Modified && o.Value.ToString()!.Contains("Speller", StringComparison.Ordinal));
        AssertCompiles(second);
    }

    [Fact]
    public void Editing_both_hidden_sizes_in_another_file_regenerates_the_bridge()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Graphs, Models.Replace("[Seq2SeqModel(typeof(SpellingEncoder), typeof(PlainDecoder))]\npublic partial class Plain;", "", StringComparison.Ordinal));
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(first);
        GeneratorRunResult initial = driver.GetRunResult().Results.Single();
        // Encoder and decoder GRUs to 48: the memory, the bridge and the attention's keys with them.
        string edited = Graphs.Replace("HiddenSize = 32", "HiddenSize = 48", StringComparison.Ordinal)
            .Replace("KeySize = 32", "KeySize = 48", StringComparison.Ordinal)
            .Replace("InputSize = 48", "InputSize = 64", StringComparison.Ordinal)
            .Replace("InFeatures = 32", "InFeatures = 48", StringComparison.Ordinal);
        CSharpCompilation second = Edit(first, 0, edited);
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        Assert.Contains("h_n <c>[1, B, 32]</c>", Source(initial, "Speller"), StringComparison.Ordinal);
        Assert.Contains("h_n <c>[1, B, 48]</c>", Source(rerun, "Speller"), StringComparison.Ordinal);
        AssertCompiles(second);
    }

    [Fact]
    public void A_decoder_edit_that_breaks_the_bridge_removes_the_model_and_fixing_it_brings_it_back()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Graphs, Models);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(first);
        Assert.Contains(driver.GetRunResult().Results.Single().GeneratedSources, s => s.HintName.StartsWith("Demo.Speller.", StringComparison.Ordinal));

        // The decoder's GRU alone to 24 (its Linear with it): a valid graph, but not one that starts from the encoder's state.
        string broken = Graphs.Replace("[Gru(InputSize = 48, HiddenSize = 32)]", "[Gru(InputSize = 48, HiddenSize = 24)]", StringComparison.Ordinal)
            .Replace("InFeatures = 32, OutFeatures = 40", "InFeatures = 24, OutFeatures = 40", StringComparison.Ordinal);
        CSharpCompilation second = Edit(first, 0, broken);
        driver = driver.RunGenerators(second);
        GeneratorRunResult rerun = driver.GetRunResult().Results.Single();
        Assert.DoesNotContain(rerun.GeneratedSources, s => s.HintName.StartsWith("Demo.Speller.", StringComparison.Ordinal));
        Assert.Contains(rerun.GeneratedSources, s => s.HintName.StartsWith("Demo.Plain.", StringComparison.Ordinal));
        Assert.Contains(rerun.GeneratedSources, s => s.HintName.StartsWith("Demo.SpellingDecoder.", StringComparison.Ordinal));

        GeneratorRunResult fixedRun = driver.RunGenerators(Edit(second, 0, Graphs)).GetRunResult().Results.Single();
        Assert.Contains(fixedRun.GeneratedSources, s => s.HintName.StartsWith("Demo.Speller.", StringComparison.Ordinal));
    }

    [Fact]
    public void No_seq2seq_step_output_holds_roslyn_objects()
    {
        GeneratorRunResult result = GeneratorHarness.Driver().RunGenerators(GeneratorHarness.Compilation(Graphs, Models))
            .GetRunResult().Results.Single();
        int checkedOutputs = 0;
        foreach (string step in Seq2SeqSteps)
        {
            foreach (IncrementalGeneratorRunStep run in result.TrackedSteps[step])
            {
                foreach ((object value, _) in run.Outputs)
                {
                    GraphCachingTests.AssertNoRoslynObjects(value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
                    checkedOutputs++;
                }
            }
        }
        Assert.True(checkedOutputs >= 2 * Seq2SeqOutputs, $"only {checkedOutputs} step outputs were checked");
    }

    private static CSharpCompilation Edit(CSharpCompilation compilation, int file, string text)
    {
        SyntaxTree tree = compilation.SyntaxTrees.ElementAt(file);
        return compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(text)));
    }

    private static string Source(GeneratorRunResult result, string name) =>
        result.GeneratedSources.Single(s => s.HintName.Contains(name, StringComparison.Ordinal) && s.HintName.EndsWith(".seq2seq.g.cs", StringComparison.Ordinal))
            .SourceText.ToString();

    private static object Spec(GeneratorRunResult result, string name) =>
        result.TrackedSteps[TrackingNames.ValidSeq2SeqSpecs].SelectMany(s => s.Outputs).Select(o => o.Value)
            .Single(v => v.ToString()!.Contains("TypeName = " + name + ",", StringComparison.Ordinal));

    /// <summary>The edited project, run from scratch, compiles with the generated code clean.</summary>
    private static void AssertCompiles(CSharpCompilation compilation)
    {
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        Assert.Empty(GeneratorHarness.Problems(output));
    }
}
