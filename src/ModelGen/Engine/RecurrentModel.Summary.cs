namespace ModelGen;

public sealed partial class RecurrentModel<TSpec>
{
    /// <summary>
    /// The model as PyTorch's <c>print(model)</c> and torchinfo's <c>summary</c> show it, under the class name
    /// <paramref name="modelName"/>; see <see cref="ModelSummary"/>. Its <c>dropout</c> is the current <see cref="Dropout"/>.
    /// </summary>
    public ModelSummary Summary(string modelName) =>
        new(modelName, TSpec.Cell, TSpec.InputSize, TSpec.HiddenSize, TSpec.NumLayers, TSpec.Bias, TSpec.Bidirectional,
            TSpec.ProjSize, TSpec.Cell == CellKind.Rnn ? TSpec.Nonlinearity : RnnNonlinearity.Tanh, TSpec.OutputSize,
            _dropout, ParameterTable);
}
