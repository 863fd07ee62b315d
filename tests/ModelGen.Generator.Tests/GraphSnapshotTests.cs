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

    /// <summary>
    /// An encoder–decoder with Bahdanau attention (PyTorch's tutorial <c>AttnDecoderRNN</c>): the additive attention
    /// sits between the decoder's Embedding and its GRU, so its query is the GRU's hidden state before the step and
    /// the context is fed with the embedding into the cell.
    /// </summary>
    private const string Speller = """
        using ModelGen;

        namespace Demo.Spelling;

        /// <summary>Letters in: Embedding → GRU, whose outputs are the memory and whose final state starts the decoder.</summary>
        [SequenceModel]
        public partial class SpellingEncoder
        {
            [Embedding(NumEmbeddings = 30, EmbeddingDim = 16, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Gru(InputSize = 16, HiddenSize = 32)] public partial Gru Rnn { get; }
        }

        /// <summary>Phonemes out: Embedding → additive attention (Bahdanau) → GRU over [embedding; context] → logits.</summary>
        [SequenceModel]
        public partial class SpellingDecoder
        {
            [Embedding(NumEmbeddings = 40, EmbeddingDim = 16, PaddingIdx = 0)] public partial Embedding Embed { get; }
            [Attention(AttentionScore.Additive, KeySize = 32, AttentionSize = 24)] public partial Attention Attn { get; }
            [Gru(InputSize = 48, HiddenSize = 32)] public partial Gru Rnn { get; }
            [Linear(InFeatures = 32, OutFeatures = 40)] public partial Linear Fc { get; }
        }

        /// <summary>Spelling to pronunciation.</summary>
        [Seq2SeqModel(typeof(SpellingEncoder), typeof(SpellingDecoder))]
        public partial class Speller;
        """;

    public static TheoryData<string, string> Seq2SeqOutputs() => new()
    {
        { "Speller.seq2seq", "Demo.Spelling.Speller." },
        { "SpellingDecoder.graph", "Demo.Spelling.SpellingDecoder." },
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
        AssertMatchesSnapshot(name, generated.SourceText.ToString());
    }

    /// <summary>The <c>.seq2seq.g.cs</c> of an encoder–decoder with Bahdanau attention, and its decoder's <c>.graph.g.cs</c>.</summary>
    [Theory]
    [MemberData(nameof(Seq2SeqOutputs))]
    public void Generated_seq2seq_source_matches_snapshot(string name, string hintNameStart)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(Speller);
        Assert.Null(result.Exception);
        Assert.Empty(GeneratorHarness.Problems(output));
        Assert.Equal(3, result.GeneratedSources.Length);
        Assert.Single(result.GeneratedSources, s => s.HintName.EndsWith(".seq2seq.g.cs", StringComparison.Ordinal));
        GeneratedSourceResult generated = Assert.Single(result.GeneratedSources, s => s.HintName.StartsWith(hintNameStart, StringComparison.Ordinal));
        Assert.EndsWith(name.Substring(name.IndexOf('.', StringComparison.Ordinal)) + ".g.cs", generated.HintName, StringComparison.Ordinal);
        AssertMatchesSnapshot(name, generated.SourceText.ToString());
    }

    private static void AssertMatchesSnapshot(string name, string actual)
    {
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
