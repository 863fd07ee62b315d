using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The <c>[SequenceModel]</c> pipeline's steps (<see cref="TrackingNames.GraphSpecs"/>, <see cref="TrackingNames.ValidGraphSpecs"/>)
/// cache like the recurrent models' (<see cref="CachingTests"/>): an unrelated edit reruns nothing, editing one graph
/// regenerates that graph alone, and no step output holds Roslyn objects — for valid graphs and for the stubs of
/// an invalid one.
/// </summary>
public class GraphCachingTests
{
    private const string Graphs = """
        using ModelGen;

        namespace Demo;

        [SequenceModel]
        public partial class TopicClassifier
        {
            [Embedding(NumEmbeddings = 96, EmbeddingDim = 32, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Lstm(InputSize = 32, HiddenSize = 64, Bidirectional = true)] public partial Lstm Rnn { get; }
            [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
            [Dropout(0.1f)] public partial Dropout Drop { get; }
            [Linear(InFeatures = 128, OutFeatures = 12)] public partial Linear Fc { get; }
        }

        public partial class Outer
        {
            [SequenceModel]
            internal partial class Tagger
            {
                [Lstm(InputSize = 8, HiddenSize = 16)] public partial Lstm Encoder { get; }
                [Gru(InputSize = 16, HiddenSize = 24)] public partial Gru Decoder { get; }
                [LayerNorm(NormalizedShape = 24)] public partial LayerNorm Norm { get; }
                [Linear(InFeatures = 24, OutFeatures = 3)] public partial Linear Head { get; }
                [GELU] public partial Activation Act { get; }
            }
        }

        /// <summary>Invalid (the Linear reads 5 features, 4 flow in): it gets stubs, which are step outputs too.</summary>
        [SequenceModel]
        public partial class Broken
        {
            [Linear(InFeatures = 3, OutFeatures = 4)] public partial Linear First { get; }
            [Linear(InFeatures = 5, OutFeatures = 2)] public partial Linear Second { get; }
        }

        [LstmModel(InputSize = 8, HiddenSize = 32, OutputSize = 4)]
        public partial class Recurrent;
        """;

    /// <summary>Every tracked step of the generator, the recurrent models' and the graphs' (keep in step with <see cref="TrackingNames"/>).</summary>
    private static readonly string[] TrackedSteps =
    [
        TrackingNames.LstmSpecs, TrackingNames.ValidSpecs, TrackingNames.GraphSpecs, TrackingNames.ValidGraphSpecs,
    ];

    private const int GraphOutputs = 3;

    [Fact]
    public void Every_tracking_name_is_checked_by_a_caching_test()
    {
        string[] names = [.. typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!)];
        string[] graphSteps = [.. names.Where(n => n.Contains("Graph", StringComparison.Ordinal))];
        Assert.Equal([TrackingNames.GraphSpecs, TrackingNames.ValidGraphSpecs], graphSteps);
        Assert.All(graphSteps, step => Assert.Contains(step, TrackedSteps));
    }

    [Fact]
    public void Unrelated_edit_leaves_the_graph_steps_cached()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Graphs, "namespace Demo; public static class Util { public static int One() => 1; }");
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(first);
        GeneratorRunResult initial = driver.GetRunResult().Results.Single();
        Assert.Equal(GraphOutputs, initial.GeneratedSources.Count(s => s.HintName.EndsWith(".graph.g.cs", StringComparison.Ordinal)));

        SyntaxTree util = first.SyntaxTrees.Last();
        CSharpCompilation second = first.ReplaceSyntaxTree(util,
            util.WithChangedText(SourceText.From("namespace Demo; public static class Util { public static int Two() => 2; }")));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        foreach (string step in TrackedSteps)
        {
            Assert.True(rerun.TrackedSteps.ContainsKey(step), $"step {step} was not tracked");
            IncrementalStepRunReason[] reasons = [.. rerun.TrackedSteps[step].SelectMany(r => r.Outputs).Select(o => o.Reason)];
            Assert.NotEmpty(reasons);
            Assert.All(reasons, reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"step {step} output was {reason}"));
        }
        Assert.Equal(GraphOutputs, rerun.TrackedSteps[TrackingNames.ValidGraphSpecs].SelectMany(r => r.Outputs).Count());
        Assert.All(rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_one_graph_regenerates_only_that_graph()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Graphs);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(first);
        GeneratorRunResult initial = driver.GetRunResult().Results.Single();
        SyntaxTree tree = first.SyntaxTrees.Single();
        string edited = Graphs.Replace("OutFeatures = 3", "OutFeatures = 5", StringComparison.Ordinal);
        Assert.NotEqual(Graphs, edited);
        CSharpCompilation second = first.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(edited)));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        // The transform reruns for every graph of the edited file, but only the edited graph's output changes.
        IncrementalStepRunReason[] reasons = [.. rerun.TrackedSteps[TrackingNames.ValidGraphSpecs].SelectMany(s => s.Outputs).Select(o => o.Reason)];
        Assert.Equal(GraphOutputs, reasons.Length);
        Assert.Single(reasons, r => r is IncrementalStepRunReason.Modified or IncrementalStepRunReason.New);
        Assert.Equal(GraphOutputs - 1, reasons.Count(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        IncrementalStepRunReason[] recurrent = [.. rerun.TrackedSteps[TrackingNames.ValidSpecs].SelectMany(s => s.Outputs).Select(o => o.Reason)];
        Assert.All(recurrent, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"the recurrent model's step was {r}"));

        string Source(GeneratorRunResult result, string name) =>
            result.GeneratedSources.Single(s => s.HintName.Contains(name, StringComparison.Ordinal)).SourceText.ToString();
        Assert.Contains("public const int OutputSize = 5;", Source(rerun, "Tagger"), StringComparison.Ordinal);
        Assert.Contains("public const int OutputSize = 3;", Source(initial, "Tagger"), StringComparison.Ordinal);
        Assert.Equal(Source(initial, "TopicClassifier"), Source(rerun, "TopicClassifier"));
        Assert.Equal(Source(initial, "Broken"), Source(rerun, "Broken"));

        // Only the edited graph's file is written again.
        IncrementalStepRunReason[] written = [.. rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason)];
        Assert.Single(written, r => r is IncrementalStepRunReason.Modified or IncrementalStepRunReason.New);
    }

    [Fact]
    public void No_graph_step_output_holds_roslyn_objects()
    {
        GeneratorRunResult result = GeneratorHarness.Driver().RunGenerators(GeneratorHarness.Compilation(Graphs))
            .GetRunResult().Results.Single();
        int checkedOutputs = 0;
        foreach (string step in TrackedSteps)
        {
            foreach (IncrementalGeneratorRunStep run in result.TrackedSteps[step])
            {
                foreach ((object value, _) in run.Outputs)
                {
                    AssertNoRoslynObjects(value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
                    checkedOutputs++;
                }
            }
        }
        // GraphSpecs and ValidGraphSpecs hold the three graphs' outputs (two specs, one set of stubs).
        Assert.True(checkedOutputs >= 2 * GraphOutputs + 2, $"only {checkedOutputs} step outputs were checked");
        Assert.Contains(result.TrackedSteps[TrackingNames.ValidGraphSpecs].SelectMany(r => r.Outputs),
            o => o.Value.GetType().GetProperty("Stubs")!.GetValue(o.Value) is not null);
    }

    /// <summary>Walks the object graph of a step output, fields and collection items, looking for Roslyn's types (as <see cref="CachingTests"/> does).</summary>
    internal static void AssertNoRoslynObjects(object? value, string step, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or Location or SyntaxTree or AttributeData
            or SyntaxToken or SyntaxReference or TypedConstant or SourceText,
            $"step {step} holds a {value.GetType().FullName}");
        Assert.False(value.GetType().Namespace?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) == true,
            $"step {step} holds a {value.GetType().FullName}");
        if (value is IEnumerable items)
        {
            foreach (object? item in items) AssertNoRoslynObjects(item, step, seen);
        }
        foreach (FieldInfo field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertNoRoslynObjects(field.GetValue(value), step, seen);
        }
    }
}
