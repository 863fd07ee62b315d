namespace ModelGen.Benchmarks;

// Every model the benchmarks time, declared as a user would. The generator expands each into a model with every
// size a compile-time constant. Their weights: Weights.cs.

/// <summary>bench_small: <c>nn.LSTM(8, 32)</c> + <c>nn.Linear(32, 4)</c>; the bench input has T = 32. Also training case 1.</summary>
[LstmModel(InputSize = 8, HiddenSize = 32, OutputSize = 4)]
public partial class BenchSmallModel;

/// <summary>bench_medium: <c>nn.LSTM(32, 128, num_layers=2)</c> + <c>nn.Linear(128, 10)</c>; T = 64. Also training case 2.</summary>
[LstmModel(InputSize = 32, HiddenSize = 128, NumLayers = 2, OutputSize = 10)]
public partial class BenchMediumModel;

/// <summary>bench_gru: <c>nn.GRU(16, 64)</c> + <c>nn.Linear(64, 4)</c>; T = 64.</summary>
[GruModel(InputSize = 16, HiddenSize = 64, OutputSize = 4)]
public partial class BenchGruModel;

// The streaming-step cases: one layer, input = hidden = N, no head (Step writes h).

/// <summary><c>nn.LSTM(4, 4)</c>.</summary>
[LstmModel(InputSize = 4, HiddenSize = 4)] public partial class Lstm4;

/// <summary><c>nn.LSTM(16, 16)</c>.</summary>
[LstmModel(InputSize = 16, HiddenSize = 16)] public partial class Lstm16;

/// <summary><c>nn.LSTM(32, 32)</c>.</summary>
[LstmModel(InputSize = 32, HiddenSize = 32)] public partial class Lstm32;

/// <summary><c>nn.LSTM(64, 64)</c>.</summary>
[LstmModel(InputSize = 64, HiddenSize = 64)] public partial class Lstm64;

/// <summary><c>nn.GRU(16, 16)</c>.</summary>
[GruModel(InputSize = 16, HiddenSize = 16)] public partial class Gru16;

/// <summary><c>nn.GRU(64, 64)</c>.</summary>
[GruModel(InputSize = 64, HiddenSize = 64)] public partial class Gru64;

// bench_small as [SequenceModel] graphs: the same modules, and the same state_dict names (rnn.*, head.*) as
// BenchSmallModel, so they load its weights; the `graph` benchmarks time them beside it.

/// <summary>bench_small's <c>head(rnn(x)[0][:, -1])</c> as a graph of three modules, for whole sequences and training.</summary>
[SequenceModel]
public partial class BenchSmallGraph
{
    [Lstm(InputSize = 8, HiddenSize = 32)] public partial Lstm Rnn { get; }
    [Reduce(ReduceMode.Last)] public partial Reduction Pool { get; }
    [Linear(InFeatures = 32, OutFeatures = 4)] public partial Linear Head { get; }
}

/// <summary>bench_small's <c>head(rnn(x))</c> at every step as a graph of two modules: it streams, one <c>Step</c> per input.</summary>
[SequenceModel]
public partial class BenchSmallStreamGraph
{
    [Lstm(InputSize = 8, HiddenSize = 32)] public partial Lstm Rnn { get; }
    [Linear(InFeatures = 32, OutFeatures = 4)] public partial Linear Head { get; }
}

// One Linear each, as graphs: the `linear` benchmarks time the module alone.

/// <summary><c>nn.Linear(256, 128)</c>: a translation decoder's <c>tanh(W_c [h; context])</c> layer before its tanh.</summary>
[SequenceModel]
public partial class LinearCombine256x128
{
    [Linear(InFeatures = 256, OutFeatures = 128)] public partial Linear Combine { get; }
}

/// <summary><c>nn.Linear(128, 78)</c>: a character language model's logits (CharModel's vocabulary).</summary>
[SequenceModel]
public partial class LinearLogits128x78
{
    [Linear(InFeatures = 128, OutFeatures = 78)] public partial Linear Head { get; }
}
