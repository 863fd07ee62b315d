using ModelGen;

namespace QuickStart;

/// <summary>
/// PyTorch's SimpleLSTM: <c>nn.LSTM(1, 32, num_layers=2, batch_first=True)</c> followed by <c>nn.Linear(32, 1)</c>
/// on the last step. The generator writes the rest of this class at compile time.
/// </summary>
[LstmModel(InputSize = 1, HiddenSize = 32, NumLayers = 2, OutputSize = 1)]
public partial class Forecaster;
