using System.Globalization;

namespace ModelGen;

/// <summary>
/// A recurrent model's configuration as <c>SaveSafetensors</c> writes it into <c>__metadata__</c>: PyTorch's
/// constructor arguments under a <c>modelgen.</c> prefix (<c>modelgen.cell</c>, <c>modelgen.input_size</c>, …,
/// <c>modelgen.output_size</c>) and the format version <c>modelgen.format</c>. Loading checks it when the file
/// has it (a file from PyTorch has not) before any data is read.
/// </summary>
internal readonly record struct ModelConfiguration(CellKind Cell, int InputSize, int HiddenSize, int NumLayers, bool Bias,
    bool Bidirectional, int ProjSize, RnnNonlinearity Nonlinearity, int OutputSize)
{
    /// <summary>The key whose presence marks a file saved by ModelGen.</summary>
    public const string FormatKey = "modelgen.format";

    /// <summary>The one format this version writes and reads.</summary>
    public const string FormatVersion = "1";

    private const string Prefix = "modelgen.";

    /// <summary>The configuration keys without their prefix, in the order they are written.</summary>
    public static readonly string[] Keys =
        ["cell", "input_size", "hidden_size", "num_layers", "bias", "bidirectional", "proj_size", "nonlinearity", "output_size"];

    public int GateCount => ModelGeometry.GateCountOf(Cell);

    /// <summary>Hout.</summary>
    public int StateSize => ProjSize > 0 ? ProjSize : HiddenSize;

    public int NumDirections => Bidirectional ? 2 : 1;

    /// <summary>D·Hout.</summary>
    public int OutputFeatures => NumDirections * StateSize;

    /// <summary>LSTM, GRU or RNN.</summary>
    public string CellName => CellNameOf(Cell);

    public static string CellNameOf(CellKind cell) => cell switch { CellKind.Lstm => "LSTM", CellKind.Gru => "GRU", _ => "RNN" };

    /// <summary>Adds <c>modelgen.format</c> and every configuration key.</summary>
    public void WriteTo(SafetensorsWriter writer)
    {
        writer.AddMetadata(FormatKey, FormatVersion);
        foreach (string key in Keys) writer.AddMetadata(Prefix + key, ValueOf(key));
    }

    /// <summary>The metadata value of a key (without its prefix).</summary>
    public string ValueOf(string key) => key switch
    {
        "cell" => Cell switch { CellKind.Lstm => "lstm", CellKind.Gru => "gru", _ => "rnn" },
        "input_size" => Lit(InputSize),
        "hidden_size" => Lit(HiddenSize),
        "num_layers" => Lit(NumLayers),
        "bias" => Bias ? "true" : "false",
        "bidirectional" => Bidirectional ? "true" : "false",
        "proj_size" => Lit(ProjSize),
        "nonlinearity" => Nonlinearity == RnnNonlinearity.Relu ? "relu" : "tanh",
        "output_size" => Lit(OutputSize),
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, null),
    };

    /// <summary>
    /// The configuration a file's metadata describes; null when it has no <c>modelgen.format</c> (a file from
    /// PyTorch, or from any other writer).
    /// </summary>
    /// <exception cref="SafetensorsException">The format is not one this version reads, or a key is missing or malformed.</exception>
    public static ModelConfiguration? Read(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(FormatKey, out string? format)) return null;
        if (format != FormatVersion)
        {
            throw new SafetensorsException(
                $"The file's __metadata__ has {FormatKey} = '{format}', but this version of ModelGen reads format {FormatVersion} only (was the file saved by a newer ModelGen?). Nothing was read.");
        }
        string Get(string key) =>
            metadata.TryGetValue(Prefix + key, out string? value)
                ? value
                : throw Malformed($"'{Prefix}{key}' is missing");
        T Parse<T>(string key, Func<string, T?> parse, string expected) where T : struct =>
            parse(Get(key)) ?? throw Malformed($"'{Prefix}{key}' = '{Get(key)}' is not {expected}");
        int Size(string key) => Parse(key, text =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : (int?)null, "a non-negative integer");
        bool Flag(string key) => Parse(key, text => text switch { "true" => true, "false" => false, _ => (bool?)null }, "true or false");
        return new ModelConfiguration(
            Parse("cell", text => text switch { "lstm" => CellKind.Lstm, "gru" => CellKind.Gru, "rnn" => CellKind.Rnn, _ => (CellKind?)null }, "lstm, gru or rnn"),
            Size("input_size"), Size("hidden_size"), Size("num_layers"), Flag("bias"), Flag("bidirectional"), Size("proj_size"),
            Parse("nonlinearity", text => text switch { "tanh" => RnnNonlinearity.Tanh, "relu" => RnnNonlinearity.Relu, _ => (RnnNonlinearity?)null }, "tanh or relu"),
            Size("output_size"));
    }

    /// <summary>The keys (without prefix) whose values differ, e.g. <c>cell</c>, <c>hidden_size</c>.</summary>
    public IEnumerable<string> Differences(ModelConfiguration other)
    {
        foreach (string key in Keys)
        {
            if (ValueOf(key) != other.ValueOf(key)) yield return key;
        }
    }

    /// <summary>Whether the tensors of one mean something else in the other, whatever their shapes: another cell or non-linearity.</summary>
    public bool DiffersInKind(ModelConfiguration other) => Cell != other.Cell || Nonlinearity != other.Nonlinearity;

    /// <summary>The attribute that declares this model, e.g. <c>[LstmModel(InputSize = 8, HiddenSize = 32, OutputSize = 1)]</c>.</summary>
    public string AttributeText
    {
        get
        {
            var arguments = new List<string> { $"InputSize = {Lit(InputSize)}", $"HiddenSize = {Lit(HiddenSize)}" };
            if (NumLayers != 1) arguments.Add($"NumLayers = {Lit(NumLayers)}");
            if (!Bias) arguments.Add("Bias = false");
            if (Bidirectional) arguments.Add("Bidirectional = true");
            if (ProjSize != 0) arguments.Add($"ProjSize = {Lit(ProjSize)}");
            if (Nonlinearity == RnnNonlinearity.Relu) arguments.Add("Nonlinearity = RnnNonlinearity.Relu");
            if (OutputSize != 0) arguments.Add($"OutputSize = {Lit(OutputSize)}");
            string attribute = Cell switch { CellKind.Lstm => "LstmModel", CellKind.Gru => "GruModel", _ => "RnnModel" };
            return $"[{attribute}({string.Join(", ", arguments)})]";
        }
    }

    public override string ToString() => AttributeText;

    private static SafetensorsException Malformed(string what) =>
        new($"The file's ModelGen __metadata__ ({FormatKey} = {FormatVersion}) is malformed: {what}. Nothing was read.");

    private static string Lit(int value) => value.ToString(CultureInfo.InvariantCulture);
}
