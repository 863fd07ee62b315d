namespace ModelGen.Benchmarks;

// The three bench models of the PyTorch reference (data/bench_*.safetensors and .onnx), declared as a user
// would. The generator expands each into a model with every size a compile-time constant.

/// <summary>bench_small: <c>nn.LSTM(8, 32)</c> + <c>nn.Linear(32, 4)</c>; the bench input has T = 32.</summary>
[LstmModel(InputSize = 8, HiddenSize = 32, OutputSize = 4)]
public partial class BenchSmallModel;

/// <summary>bench_medium: <c>nn.LSTM(32, 128, num_layers=2)</c> + <c>nn.Linear(128, 10)</c>; T = 64.</summary>
[LstmModel(InputSize = 32, HiddenSize = 128, NumLayers = 2, OutputSize = 10)]
public partial class BenchMediumModel;

/// <summary>bench_gru: <c>nn.GRU(16, 64)</c> + <c>nn.Linear(64, 4)</c>; T = 64.</summary>
[GruModel(InputSize = 16, HiddenSize = 64, OutputSize = 4)]
public partial class BenchGruModel;
