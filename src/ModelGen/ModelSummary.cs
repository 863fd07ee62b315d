using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace ModelGen;

/// <summary>
/// A model described as PyTorch's <c>print(model)</c> and torchinfo's <c>summary(model)</c> describe a module: the
/// modules in PyTorch's notation (<c>LSTM(8, 32, num_layers=2, batch_first=True)</c>,
/// <c>Linear(in_features=32, out_features=4, bias=True)</c>), the input and output shape of each with B (batch)
/// and T (sequence length) symbolic, every parameter tensor with its shape and count, the total and the memory
/// the parameters take. <see cref="ToString"/> is the text, which the generated model's <c>ToString()</c> returns.
/// </summary>
/// <remarks>
/// <para>The text depends only on the model's declaration, its name and its <c>Dropout</c>: it is the same on every
/// machine, in every culture (numbers are written as torchinfo writes them, <c>14,084</c> and <c>0.06</c>) and
/// at every call.</para>
/// <para>Thread safety: immutable; any number of threads may read it.</para>
/// </remarks>
public sealed class ModelSummary
{
    // torchinfo's column widths (FormattingOptions: layer_name_width 40, col_width 25).
    private const int NameWidth = 40;
    private const int ColumnWidth = 25;

    private readonly string _text;

    internal ModelSummary(string modelName, CellKind cell, int inputSize, int hiddenSize, int numLayers, bool bias,
        bool bidirectional, int projSize, RnnNonlinearity nonlinearity, int outputSize, float dropout,
        ImmutableArray<ParameterInfo> parameters)
    {
        ModelName = modelName;
        int directions = bidirectional ? 2 : 1, stateSize = projSize > 0 ? projSize : hiddenSize;
        int features = directions * stateSize;
        RecurrentModule = RecurrentRepr(cell, inputSize, hiddenSize, numLayers, bias, bidirectional, projSize, dropout);
        HeadModule = outputSize > 0 ? LinearRepr(features, outputSize, bias: true) : null;
        Module = modelName + "(\n  (rnn): " + RecurrentModule + "\n" + (HeadModule is null ? "" : "  (head): " + HeadModule + "\n") + ")";
        Parameters = parameters;
        long head = 0, total = 0;
        foreach (ParameterInfo info in parameters)
        {
            total += info.Length;
            if (info.Name.StartsWith("head.", StringComparison.Ordinal)) head += info.Length;
        }
        TotalParameters = total;
        InputShape = $"[B, T, {Lit(inputSize)}]";
        string sequenceOutput = $"[B, T, {Lit(features)}]";
        OutputShape = outputSize > 0 ? $"[B, {Lit(outputSize)}]" : sequenceOutput;

        var text = new StringBuilder();
        string heavy = new('=', NameWidth + 3 * ColumnWidth), light = new('-', NameWidth + 3 * ColumnWidth);
        void Line(string line) => text.Append(line.TrimEnd()).Append('\n');
        void Row(string name, string a, string b, string c = "") =>
            Line(name.PadRight(Math.Max(NameWidth, name.Length + 1)) + a.PadRight(ColumnWidth) + b.PadRight(ColumnWidth) + c);

        text.Append(Module).Append('\n');
        Line(heavy);
        Row("Layer (type:depth-idx)", "Input Shape", "Output Shape", "Param #");
        Line(heavy);
        Row(modelName, InputShape, OutputShape, "--");
        Row($"├─{CellName(cell)}: 1-1", InputShape, sequenceOutput, Count(total - head));
        if (outputSize > 0) Row("├─Linear: 1-2", $"[B, {Lit(features)}]", $"[B, {Lit(outputSize)}]", Count(head));
        Line(heavy);
        Line($"Total params: {Count(total)}");
        Line($"Trainable params: {Count(total)}");
        Line("Non-trainable params: 0");
        Line(heavy);
        // torchinfo: bytes / 1e6 with two decimals.
        Line($"Params size (MB): {(ParameterBytes / 1e6).ToString("F2", CultureInfo.InvariantCulture)}");
        Line($"Params size (bytes): {Count(ParameterBytes)} (float32)");
        Line(heavy);
        Row("Parameter", "Shape", "Param #");
        Line(light);
        foreach (ParameterInfo info in parameters) Row(info.Name, info.ShapeText, Count(info.Length));
        Line(heavy);
        Line("Shapes (B: batch size, T: sequence length):");
        void Call(string name, string shapes) => Line("  " + name.PadRight(18) + shapes);
        Call("Forward", $"{InputShape} → {sequenceOutput}");
        if (outputSize > 0)
        {
            Call("PredictLast", $"{InputShape} → [B, {Lit(outputSize)}]");
            Call("PredictSequence", $"{InputShape} → [B, T, {Lit(outputSize)}]");
        }
        if (!bidirectional)
        {
            Call("Step", $"[B, {Lit(inputSize)}] → [B, {Lit(stateSize)}]");
            if (outputSize > 0) Call("StepPredict", $"[B, {Lit(inputSize)}] → [B, {Lit(outputSize)}]");
        }
        Call("h0, hN", $"[{Lit(numLayers * directions)}, B, {Lit(stateSize)}]");
        if (cell == CellKind.Lstm) Call("c0, cN", $"[{Lit(numLayers * directions)}, B, {Lit(hiddenSize)}]");
        // PyTorch's repr of nn.RNN leaves the non-linearity out; the summary must not.
        if (cell == CellKind.Rnn) Line($"Nonlinearity: {(nonlinearity == RnnNonlinearity.Relu ? "relu" : "tanh")}");
        Line(heavy);
        _text = text.ToString();
    }

    /// <summary>The model's class name, as <c>print(model)</c> shows the module's.</summary>
    public string ModelName { get; }

    /// <summary>The recurrent module as PyTorch writes it, e.g. <c>LSTM(8, 32, num_layers=2, batch_first=True)</c>.</summary>
    public string RecurrentModule { get; }

    /// <summary>The head as PyTorch writes it, e.g. <c>Linear(in_features=32, out_features=4, bias=True)</c>; null without a head.</summary>
    public string? HeadModule { get; }

    /// <summary>What PyTorch's <c>print(model)</c> prints for a module with the attributes <c>rnn</c> and <c>head</c>.</summary>
    public string Module { get; }

    /// <summary>The model's input, <c>[B, T, I]</c>.</summary>
    public string InputShape { get; }

    /// <summary>The output of the model's forward: <c>[B, O]</c> (<c>PredictLast</c>) with a head, else <c>[B, T, D*Hout]</c>.</summary>
    public string OutputShape { get; }

    /// <summary>Every parameter tensor, in PyTorch's <c>state_dict</c> order.</summary>
    public ImmutableArray<ParameterInfo> Parameters { get; }

    /// <summary>The number of parameters (torchinfo's "Total params").</summary>
    public long TotalParameters { get; }

    /// <summary>
    /// The bytes of the parameters as float32 (torchinfo's "Params size"). The model also keeps a packed copy of
    /// the weights for its kernels, of about the same size (padded to the machine's vector width), and so does
    /// each <see cref="SharedWeights{TSpec}"/>.
    /// </summary>
    public long ParameterBytes => 4 * TotalParameters;

    /// <summary>The summary: the modules as <c>print(model)</c> shows them, then torchinfo's table, the parameter tensors and the shapes of the calls.</summary>
    public override string ToString() => _text;

    /// <summary>
    /// PyTorch's repr of <c>nn.LSTM</c> / <c>nn.GRU</c> / <c>nn.RNN</c> with <c>batch_first=True</c>, as
    /// <c>RNNBase.extra_repr</c> in torch/nn/modules/rnn.py writes it: the sizes, then <c>proj_size</c>,
    /// <c>num_layers</c>, <c>bias</c>, <c>batch_first</c>, <c>dropout</c> and <c>bidirectional</c>, each only when
    /// it is not the default. <c>nn.RNN</c> does not override it, so its <c>nonlinearity</c> is not shown.
    /// </summary>
    internal static string RecurrentRepr(CellKind cell, int inputSize, int hiddenSize, int numLayers, bool bias,
        bool bidirectional, int projSize, float dropout)
    {
        var s = new StringBuilder(CellName(cell)).Append('(').Append(Lit(inputSize)).Append(", ").Append(Lit(hiddenSize));
        if (projSize != 0) s.Append(", proj_size=").Append(Lit(projSize));
        if (numLayers != 1) s.Append(", num_layers=").Append(Lit(numLayers));
        if (!bias) s.Append(", bias=False");
        s.Append(", batch_first=True");
        if (dropout != 0) s.Append(", dropout=").Append(PythonFloat(dropout));
        if (bidirectional) s.Append(", bidirectional=True");
        return s.Append(')').ToString();
    }

    /// <summary>PyTorch's repr of <c>nn.Linear</c>, as <c>Linear.extra_repr</c> in torch/nn/modules/linear.py writes it.</summary>
    internal static string LinearRepr(int inFeatures, int outFeatures, bool bias) =>
        $"Linear(in_features={Lit(inFeatures)}, out_features={Lit(outFeatures)}, bias={(bias ? "True" : "False")})";

    /// <summary>
    /// A float as Python's <c>str(float)</c> writes the double nearest to what the user wrote: the shortest text
    /// that reads back as the same float (<c>0.2</c>, not <c>0.20000000298023224</c>), with Python's exponent
    /// (<c>1e-05</c> where .NET writes <c>1E-05</c>; both switch to an exponent below 1e-4).
    /// </summary>
    internal static string PythonFloat(float value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('e', StringComparison.Ordinal) ? text : text + ".0";
    }

    private static string CellName(CellKind cell) => cell switch { CellKind.Lstm => "LSTM", CellKind.Gru => "GRU", _ => "RNN" };

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Lit(int value) => value.ToString(CultureInfo.InvariantCulture);
}
