using ModelGen;

namespace Co2Forecast;

/// <summary>
/// <c>nn.LSTM(1, 32, batch_first=True)</c> followed by <c>nn.Linear(32, 1)</c> on the last step: a window of
/// month-to-month changes in, the next month's change out. The generator writes the rest of this class.
/// </summary>
[LstmModel(InputSize = 1, HiddenSize = 32, OutputSize = 1)]
public partial class Co2Model;
