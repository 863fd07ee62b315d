using ModelGen;

namespace ModelGen.Tests;

// Models declared for the runtime tests, beside the PyTorch reference cases of ReferenceModels.cs.

/// <summary>
/// Every LSTM option at once: stacked, bidirectional, projected, with a head. The head's fan-in (D*Hout = 16)
/// differs from H (32), so the two initialisation bounds differ, and its weight is big enough to show spread.
/// </summary>
[LstmModel(InputSize = 5, HiddenSize = 32, NumLayers = 2, ProjSize = 8, Bidirectional = true, OutputSize = 32)]
public partial class LstmProjectionBidirectional;

/// <summary>An odd number of layers: the top layer writes into the first ping-pong buffer again.</summary>
[GruModel(InputSize = 3, HiddenSize = 6, NumLayers = 3, OutputSize = 2)]
public partial class GruThreeLayers;

/// <summary>Odd layer count and bidirectional: the reverse direction reads the layer input after the forward one wrote its half.</summary>
[RnnModel(InputSize = 2, HiddenSize = 5, NumLayers = 3, Bidirectional = true, OutputSize = 2)]
public partial class RnnThreeLayersBidirectional;

/// <summary>Every model the runtime tests drive through the interfaces, by name.</summary>
internal static class TestModels
{
    public static readonly string[] Names =
    [
        "lstm_basic", "lstm_stacked", "lstm_bidirectional", "lstm_projection", "lstm_nobias", "lstm_timeseries",
        "gru_basic", "gru_stacked_bidirectional", "rnn_tanh", "rnn_relu",
        "lstm_projection_bidirectional", "gru_three_layers", "rnn_three_layers_bidirectional",
    ];

    public static TheoryData<string> All() => new(Names);

    /// <summary>The unidirectional models with a head: those that stream predictions.</summary>
    public static TheoryData<string> Streaming() =>
        new(Names.Where(name => Create(name) is IStreamingHeadModel));

    public static IRecurrentModel Create(string name) => name switch
    {
        "lstm_projection_bidirectional" => new LstmProjectionBidirectional(),
        "gru_three_layers" => new GruThreeLayers(),
        "rnn_three_layers_bidirectional" => new RnnThreeLayersBidirectional(),
        _ => DeclaredModelParityTests.Create(name),
    };
}

/// <summary>
/// Wide gates on a one-float input: a row of gates is G·H = 16,384 floats (for every vector width), so
/// B·T = 131,072 rows (a 512 KiB input) need exactly 2³¹ floats of workspace, where int offsets wrap.
/// </summary>
[LstmModel(InputSize = 1, HiddenSize = 4096, ProjSize = 1, OutputSize = 1)]
public partial class WideGateLstm;

/// <summary>One bidirectional layer whose output row (D·H = 8) is as long as its input row, so Forward(x, B, x) fits.</summary>
[GruModel(InputSize = 8, HiddenSize = 4, Bidirectional = true)]
public partial class SquareBidirectionalGru;

/// <summary>RnnRelu's tensors with tanh: a file saved from one loads into the other only by its shapes, so the metadata must tell them apart.</summary>
[RnnModel(InputSize = 5, HiddenSize = 7, OutputSize = 1)]
public partial class RnnTanhShapedLikeRnnRelu;

/// <summary>LstmBasic's recurrent layer under another head: loading LstmBasic's file into it is a partial (transfer) load.</summary>
[LstmModel(InputSize = 3, HiddenSize = 5, OutputSize = 7)]
public partial class LstmBasicOtherHead;
