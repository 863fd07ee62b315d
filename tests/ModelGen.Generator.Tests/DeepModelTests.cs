using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The generated code, and what the generator and the analyzers do to write and check it, stop growing after
/// <see cref="NamedLayout.NamedLayers"/> layers: a model of 1024 layers costs what a model of 9 costs.
/// </summary>
public class DeepModelTests
{
    public static TheoryData<string> Attributes() => new()
    {
        "LstmModel(InputSize = 8, HiddenSize = 32, Bidirectional = true, ProjSize = 4, OutputSize = 2",
        "LstmModel(InputSize = 3, HiddenSize = 5",
        "GruModel(InputSize = 4, HiddenSize = 16, Bias = false, OutputSize = 3",
        "RnnModel(InputSize = 5, HiddenSize = 7, Bidirectional = true",
    };

    private static string Source(string attribute, int layers) =>
        $"namespace Demo; [ModelGen.{attribute}, NumLayers = {layers})] public partial class M;";

    [Theory]
    [MemberData(nameof(Attributes))]
    public void Generated_source_does_not_grow_past_the_named_layers(string attribute)
    {
        // Two unnamed layers, so that the summary row of the documentation is a range in both.
        int first = NamedLayout.NamedLayers + 2;
        (GeneratorRunResult shallow, _) = GeneratorHarness.Run(Source(attribute, first));
        (GeneratorRunResult deep, Compilation output) = GeneratorHarness.Run(Source(attribute, ModelValidation.MaxLayers));
        Assert.Empty(GeneratorHarness.Problems(output));

        // Only numbers differ: the layer counts, the state shapes, the offsets after the named layers (and so the
        // members the collision checks read from the text are the same too).
        Assert.Equal(MaskNumbers(shallow.GeneratedSources.Single().SourceText.ToString()),
            MaskNumbers(deep.GeneratedSources.Single().SourceText.ToString()));
    }

    [Theory]
    [MemberData(nameof(Attributes))]
    public void Named_tensors_are_where_the_full_layout_puts_them(string attribute)
    {
        foreach (int layers in new[] { 1, 2, NamedLayout.NamedLayers, NamedLayout.NamedLayers + 1, NamedLayout.NamedLayers + 2, 100 })
        {
            ModelSpec spec = SpecOf(attribute, layers);
            NamedLayout named = spec.Layout();
            var full = new ModelGeometry(spec.Cell, spec.InputSize, spec.HiddenSize, spec.NumLayers, spec.Bias,
                spec.Bidirectional, spec.ProjSize, spec.OutputSize);
            Assert.Equal(full.ParameterCount, named.ParameterCount);
            foreach (TensorSlot slot in named.Tensors)
            {
                TensorSlot expected = full.Parameters.Single(p => p.Name == slot.Name);
                Assert.Equal((expected.Offset, expected.Length), (slot.Offset, slot.Length));
            }
            int unnamed = Math.Max(0, layers - NamedLayout.NamedLayers);
            Assert.Equal(full.Parameters.Count - unnamed * full.Parameters.Count(p => p.Name.EndsWith("_l1", StringComparison.Ordinal)
                || p.Name.EndsWith("_l1_reverse", StringComparison.Ordinal)), named.Tensors.Count);
            if (unnamed > 0)
            {
                // The summary row: where the unnamed layers start, and how long each is.
                long end = spec.OutputSize > 0 ? full.OffsetOf("head.weight") : full.ParameterCount;
                Assert.Equal(full.OffsetOf("rnn.weight_ih_l" + NamedLayout.NamedLayers), named.UnnamedOffset);
                Assert.Equal(end - named.UnnamedOffset, unnamed * named.UnnamedLayerLength);
            }
        }
    }

    /// <summary>The text with every number, and the padding that aligns what follows it, replaced by #.</summary>
    private static string MaskNumbers(string text) => Regex.Replace(text, "[0-9]+ *", "#");

    private static ModelSpec SpecOf(string attribute, int layers)
    {
        Compilation compilation = GeneratorHarness.Compilation(Source(attribute, layers));
        return ModelValidation.Validate(compilation.GetTypeByMetadataName("Demo.M")!, compilation, default).Spec!;
    }
}
