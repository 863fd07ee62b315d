using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The generated source of representative declarations, compared verbatim with checked-in files under
/// Snapshots/. Run with <c>MODELGEN_UPDATE_SNAPSHOTS=1</c> to rewrite them after an intended change, then read
/// the diff before committing it.
/// </summary>
public class SnapshotTests
{
    public static TheoryData<string, string> Declarations() => new()
    {
        {
            "Forecaster",
            """
            namespace Demo.Forecasting;

            /// <summary>The SimpleLSTM of the README.</summary>
            [ModelGen.LstmModel(InputSize = 8, HiddenSize = 32, NumLayers = 2, OutputSize = 4)]
            public partial class Forecaster;
            """
        },
        {
            "Tagger",
            """
            namespace Demo.Text
            {
                /// <summary>A bidirectional LSTM with projection and no head.</summary>
                [ModelGen.LstmModel(InputSize = 16, HiddenSize = 24, NumLayers = 2, Bidirectional = true, ProjSize = 8)]
                internal sealed partial class Tagger { }
            }
            """
        },
        {
            "Outer.Gru",
            """
            namespace Demo.Nested;

            /// <summary>Holds a model.</summary>
            public partial class Outer
            {
                /// <summary>A GRU classifier nested in a partial type.</summary>
                [ModelGen.GruModel(InputSize = 4, HiddenSize = 16, OutputSize = 3)]
                public partial class Gru;
            }
            """
        },
        {
            "ReluRnn",
            """
            /// <summary>An RNN in the global namespace, without biases.</summary>
            [ModelGen.RnnModel(InputSize = 5, HiddenSize = 7, Bias = false, Nonlinearity = ModelGen.RnnNonlinearity.Relu, OutputSize = 1)]
            public partial class ReluRnn;
            """
        },
    };

    [Theory]
    [MemberData(nameof(Declarations))]
    public void Generated_source_matches_snapshot(string name, string source)
    {
        (GeneratorRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        Assert.Empty(GeneratorHarness.Problems(output));
        GeneratedSourceResult generated = Assert.Single(result.GeneratedSources);
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
