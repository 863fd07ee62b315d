using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The generated source of representative <c>[SequenceModel]</c> graphs, compared verbatim with checked-in files
/// under Snapshots/, as <see cref="SnapshotTests"/> does for the single-stack models: the snapshot is what a user
/// reads to audit a graph's forward and backward schedule. Run with <c>MODELGEN_UPDATE_SNAPSHOTS=1</c> to rewrite
/// them after an intended change, then read the diff before committing it.
/// </summary>
public class GraphSnapshotTests
{
    public static TheoryData<string, string> Declarations() => new()
    {
        {
            "TopicClassifier.graph",
            """
            using ModelGen;

            namespace Demo.Text;

            /// <summary>The documented example: token ids → bidirectional LSTM → final hidden state → 12 topics.</summary>
            [SequenceModel]
            public partial class TopicClassifier
            {
                [Embedding(NumEmbeddings = 96, EmbeddingDim = 32, PaddingIdx = 0)] public partial Embedding Embed { get; }
                [Lstm(InputSize = 32, HiddenSize = 64, Bidirectional = true)] public partial Lstm Rnn { get; }
                [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
                [Dropout(0.1f)] public partial Dropout Drop { get; }
                [Linear(InFeatures = 128, OutFeatures = 12)] public partial Linear Fc { get; }
            }
            """
        },
        {
            "FeatureTagger.graph",
            """
            using ModelGen;

            namespace Demo.Sensors;

            /// <summary>Features in (8 per step), per-step features out (3): LSTM → GRU → LayerNorm → Linear → GELU.</summary>
            [SequenceModel]
            public partial class FeatureTagger
            {
                [Lstm(InputSize = 8, HiddenSize = 16)] public partial Lstm Encoder { get; }
                [Gru(InputSize = 16, HiddenSize = 24)] public partial Gru Decoder { get; }
                [LayerNorm(NormalizedShape = 24)] public partial LayerNorm Norm { get; }
                [Linear(InFeatures = 24, OutFeatures = 3)] public partial Linear Head { get; }
                [GELU] public partial Activation Act { get; }
            }
            """
        },
    };

    [Theory]
    [MemberData(nameof(Declarations))]
    public void Generated_graph_source_matches_snapshot(string name, string source)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Empty(GeneratorHarness.Problems(output));
        GeneratedSourceResult generated = Assert.Single(result.GeneratedSources);
        Assert.EndsWith(".graph.g.cs", generated.HintName, StringComparison.Ordinal);
        string actual = generated.SourceText.ToString();

        string path = Path.Combine(SnapshotDirectory(), name + ".g.cs");
        if (Environment.GetEnvironmentVariable("MODELGEN_UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, actual);
        }
        Assert.True(File.Exists(path), $"no snapshot {path}: run with MODELGEN_UPDATE_SNAPSHOTS=1 to create it");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    private static string SnapshotDirectory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "Snapshots");
}
