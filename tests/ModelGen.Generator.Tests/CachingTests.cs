using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelGen.Generator.Tests;

/// <summary>The pipeline's steps cache: an unrelated edit reruns nothing, and no step holds Roslyn objects.</summary>
public class CachingTests
{
    private const string Models = """
        namespace Demo;

        [ModelGen.LstmModel(InputSize = 8, HiddenSize = 32, OutputSize = 4)]
        public partial class Lstm;

        [ModelGen.GruModel(InputSize = 4, HiddenSize = 16, NumLayers = 2, Bidirectional = true)]
        public partial class Gru;

        [ModelGen.RnnModel(InputSize = 5, HiddenSize = 7)]
        public partial class Rnn;

        public partial class Outer
        {
            [ModelGen.LstmModel(InputSize = 3, HiddenSize = 4, ProjSize = 2)]
            public partial class Nested;
        }
        """;

    private static readonly string[] TrackedSteps =
        [TrackingNames.LstmSpecs, TrackingNames.GruSpecs, TrackingNames.RnnSpecs, TrackingNames.ValidSpecs];

    [Fact]
    public void Unrelated_edit_leaves_every_step_cached()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Models, "namespace Demo; public static class Util { public static int One() => 1; }");
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(first);
        GeneratorRunResult initial = driver.GetRunResult().Results.Single();
        Assert.Equal(4, initial.GeneratedSources.Length);

        // Edit the other file, as a user typing elsewhere would.
        SyntaxTree util = first.SyntaxTrees.Last();
        CSharpCompilation second = first.ReplaceSyntaxTree(util,
            util.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(
                "namespace Demo; public static class Util { public static int Two() => 2; }")));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        foreach (string step in TrackedSteps)
        {
            Assert.True(rerun.TrackedSteps.ContainsKey(step), $"step {step} was not tracked");
            foreach (IncrementalGeneratorRunStep run in rerun.TrackedSteps[step])
            {
                foreach ((object value, IncrementalStepRunReason reason) in run.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                        $"step {step} output {value} was {reason}");
                }
            }
        }
        Assert.All(rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_a_model_regenerates_only_that_model()
    {
        CSharpCompilation first = GeneratorHarness.Compilation(Models);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(first);
        SyntaxTree tree = first.SyntaxTrees.Single();
        CSharpCompilation second = first.ReplaceSyntaxTree(tree,
            tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(Models.Replace("HiddenSize = 7", "HiddenSize = 9"))));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        IncrementalStepRunReason[] reasons = [.. rerun.TrackedSteps[TrackingNames.ValidSpecs].SelectMany(s => s.Outputs).Select(o => o.Reason)];
        Assert.Single(reasons, r => r is IncrementalStepRunReason.Modified or IncrementalStepRunReason.New);
        Assert.Equal(3, reasons.Count(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
        Assert.Contains("HiddenSize => 9;", rerun.GeneratedSources.Single(s => s.HintName.StartsWith("Demo.Rnn.", StringComparison.Ordinal)).SourceText.ToString());
    }

    [Fact]
    public void No_step_output_holds_roslyn_objects()
    {
        GeneratorRunResult result = GeneratorHarness.Driver().RunGenerators(GeneratorHarness.Compilation(Models))
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
        Assert.True(checkedOutputs >= 8, $"only {checkedOutputs} step outputs were checked");
    }

    /// <summary>Walks the object graph of a step output, fields and collection items, looking for Roslyn's types.</summary>
    private static void AssertNoRoslynObjects(object? value, string step, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or Location or SyntaxTree or AttributeData,
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
