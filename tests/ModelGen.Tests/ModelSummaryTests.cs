using System.Globalization;

namespace ModelGen.Tests;

/// <summary>
/// <c>Summary()</c> and <c>ToString()</c>: PyTorch's module reprs exactly, and the rest of the text computed from
/// the parameter table, the same in every culture and at every call.
/// </summary>
public class ModelSummaryTests
{
    // The reprs are PyTorch's format, so they are pinned here verbatim. PyTorch writes them in
    // torch/nn/modules/rnn.py, RNNBase.extra_repr: "{input_size}, {hidden_size}", then ", proj_size=" if
    // proj_size != 0, ", num_layers=" if != 1, ", bias=False", ", batch_first=True", ", dropout=" if != 0 and
    // ", bidirectional=True", each only when not the default; nn.RNN does not override it, so its nonlinearity is
    // not shown. torch/nn/modules/linear.py, Linear.extra_repr: "in_features={}, out_features={}, bias={}".
    // torch/nn/modules/module.py, Module.__repr__: "Name(", each child as "  (name): repr", then ")".
    public static TheoryData<string, string, string?> PinnedReprs() => new()
    {
        { "lstm_stacked", "LSTM(8, 32, num_layers=2, batch_first=True)", "Linear(in_features=32, out_features=4, bias=True)" },
        { "lstm_basic", "LSTM(3, 5, batch_first=True)", "Linear(in_features=5, out_features=2, bias=True)" },
        { "lstm_nobias", "LSTM(4, 9, bias=False, batch_first=True)", "Linear(in_features=9, out_features=2, bias=True)" },
        { "lstm_projection", "LSTM(5, 12, proj_size=6, num_layers=2, batch_first=True)", "Linear(in_features=6, out_features=3, bias=True)" },
        {
            "lstm_projection_bidirectional", "LSTM(5, 32, proj_size=8, num_layers=2, batch_first=True, bidirectional=True)",
            "Linear(in_features=16, out_features=32, bias=True)"
        },
        { "gru_stacked_bidirectional", "GRU(6, 10, num_layers=2, batch_first=True, bidirectional=True)", "Linear(in_features=20, out_features=2, bias=True)" },
        { "rnn_relu", "RNN(5, 7, batch_first=True)", "Linear(in_features=7, out_features=1, bias=True)" },
        { "rnn_three_layers_bidirectional", "RNN(2, 5, num_layers=3, batch_first=True, bidirectional=True)", "Linear(in_features=10, out_features=2, bias=True)" },
    };

    [Theory]
    [MemberData(nameof(PinnedReprs))]
    public void Modules_are_written_as_PyTorch_writes_them(string name, string recurrent, string? head)
    {
        IRecurrentModel model = TestModels.Create(name);
        ModelSummary summary = model.Summary();
        Assert.Equal(recurrent, summary.RecurrentModule);
        Assert.Equal(head, summary.HeadModule);
        string className = model.GetType().Name;
        Assert.Equal($"{className}(\n  (rnn): {recurrent}\n  (head): {head}\n)", summary.Module);
        Assert.StartsWith(summary.Module + "\n", summary.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_without_a_head_prints_the_recurrent_module_only()
    {
        ModelSummary summary = new SquareBidirectionalGru().Summary();
        Assert.Equal("GRU(8, 4, batch_first=True, bidirectional=True)", summary.RecurrentModule);
        Assert.Null(summary.HeadModule);
        Assert.Equal("SquareBidirectionalGru(\n  (rnn): GRU(8, 4, batch_first=True, bidirectional=True)\n)", summary.Module);
        Assert.Equal("[B, T, 8]", summary.InputShape);
        Assert.Equal("[B, T, 8]", summary.OutputShape);
    }

    [Theory]
    [InlineData(0.2f, "0.2")]
    [InlineData(0.5f, "0.5")]
    [InlineData(0.25f, "0.25")]
    [InlineData(0.1f, "0.1")]
    [InlineData(0.0001f, "0.0001")]
    [InlineData(0.00001f, "1e-05")]
    [InlineData(0.000015f, "1.5e-05")]
    public void Dropout_is_written_as_Python_writes_the_float(float dropout, string python)
    {
        // Python's str(float): the shortest text that reads back as the value, an exponent below 1e-4 ("1e-05").
        var model = new LstmStacked { Dropout = dropout };
        Assert.Equal($"LSTM(8, 32, num_layers=2, batch_first=True, dropout={python})", model.Summary().RecurrentModule);
        Assert.Equal(python, ModelSummary.PythonFloat(dropout));
    }

    [Fact]
    public void Torchinfo_total_of_a_stacked_LSTM()
    {
        // sum(p.numel() for p in model.parameters()) of nn.LSTM(8, 32, num_layers=2) + nn.Linear(32, 4):
        // 4·32·(8 + 32 + 2) + 4·32·(32 + 32 + 2) + 4·32 + 4.
        string text = new LstmStacked().ToString();
        Assert.Contains("\nTotal params: 13,956\n", text, StringComparison.Ordinal);
        Assert.Contains("\nParams size (MB): 0.06\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Text_is_computed_from_the_parameter_table(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        ModelSummary summary = model.Summary();
        string[] lines = summary.ToString().Split('\n');
        int line = 0;

        // Each tensor of the table, in order, with its shape and count.
        long total = 0, head = 0;
        foreach (ParameterInfo info in model.ParameterTable)
        {
            int count = info.Shape.Aggregate(1, (product, dimension) => product * dimension);
            Assert.Equal(info.Length, count);
            total += count;
            if (info.Name.StartsWith("head.", StringComparison.Ordinal)) head += count;
            line = NextLine(lines, line, l => Columns(l) is [var n, var s, var c] && n == info.Name && s == info.ShapeText && c == Count(count),
                $"the row of {info.Name} {info.ShapeText} {Count(count)}");
        }
        Assert.Equal(model.ParameterCount, total);
        Assert.Equal(total, summary.TotalParameters);
        Assert.Equal(4 * total, summary.ParameterBytes);
        Assert.Equal(model.ParameterTable, summary.Parameters);

        // torchinfo's totals and sizes.
        string text = summary.ToString();
        Assert.Contains($"\nTotal params: {Count(total)}\nTrainable params: {Count(total)}\nNon-trainable params: 0\n", text, StringComparison.Ordinal);
        Assert.Contains($"\nParams size (MB): {(4 * total / 1e6).ToString("F2", CultureInfo.InvariantCulture)}\n", text, StringComparison.Ordinal);
        Assert.Contains($"\nParams size (bytes): {Count(4 * total)} (float32)\n", text, StringComparison.Ordinal);

        // The layer table: the model, the recurrent module, the head; B and T symbolic.
        string input = $"[B, T, {model.InputSize}]", sequence = $"[B, T, {model.OutputFeatures}]";
        string cell = model.Cell switch { CellKind.Lstm => "LSTM", CellKind.Gru => "GRU", _ => "RNN" };
        bool hasHead = model.OutputSize > 0;
        string forward = hasHead ? $"[B, {model.OutputSize}]" : sequence;
        Assert.Contains(lines, l => Columns(l).SequenceEqual([model.GetType().Name, input, forward, "--"]));
        Assert.Contains(lines, l => Columns(l).SequenceEqual([$"├─{cell}: 1-1", input, sequence, Count(total - head)]));
        if (hasHead) Assert.Contains(lines, l => Columns(l).SequenceEqual(["├─Linear: 1-2", $"[B, {model.OutputFeatures}]", $"[B, {model.OutputSize}]", Count(head)]));
        else Assert.DoesNotContain(lines, l => l.Contains("Linear", StringComparison.Ordinal));

        // The shapes of the calls.
        Assert.Contains(lines, l => Columns(l).SequenceEqual(["Forward", input, "→", sequence]));
        Assert.Equal(hasHead, lines.Any(l => Columns(l).SequenceEqual(["PredictLast", input, "→", $"[B, {model.OutputSize}]"])));
        Assert.Equal(hasHead, lines.Any(l => Columns(l).SequenceEqual(["PredictSequence", input, "→", $"[B, T, {model.OutputSize}]"])));
        bool streams = model.NumDirections == 1;
        Assert.Equal(streams, lines.Any(l => Columns(l).SequenceEqual(["Step", $"[B, {model.InputSize}]", "→", $"[B, {model.StateSize}]"])));
        Assert.Equal(streams && hasHead, lines.Any(l => Columns(l).SequenceEqual(["StepPredict", $"[B, {model.InputSize}]", "→", $"[B, {model.OutputSize}]"])));
        Assert.Contains(lines, l => Columns(l).SequenceEqual(["h0, hN", $"[{model.NumLayers * model.NumDirections}, B, {model.StateSize}]"]));
        Assert.Equal(model.Cell == CellKind.Lstm, lines.Any(l => Columns(l).SequenceEqual(["c0, cN", $"[{model.NumLayers * model.NumDirections}, B, {model.HiddenSize}]"])));

        // Nothing but these lines and rules: no trailing spaces, one newline at the end.
        Assert.All(lines, l => Assert.Equal(l.TrimEnd(), l));
        Assert.EndsWith("=\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void An_RNN_says_its_nonlinearity_which_PyTorchs_repr_leaves_out()
    {
        Assert.Contains("\nNonlinearity: relu\n", new RnnRelu().ToString(), StringComparison.Ordinal);
        Assert.Contains("\nNonlinearity: tanh\n", new RnnTanh().ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Nonlinearity", new GruBasic().ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Text_is_the_same_in_every_culture_and_at_every_call()
    {
        CultureInfo saved = CultureInfo.CurrentCulture, savedUi = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
            string invariant = new LstmProjectionBidirectional { Dropout = 0.25f }.ToString();
            // German writes 13.956 and 0,06, French 13 956 and 0,06, Arabic its own digits and separators.
            foreach (string culture in new[] { "de-DE", "fr-FR", "ar-SA", "hi-IN", "tr-TR" })
            {
                CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(culture);
                Assert.Equal(invariant, new LstmProjectionBidirectional { Dropout = 0.25f }.ToString());
            }
            Assert.Contains("dropout=0.25", invariant, StringComparison.Ordinal);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            CultureInfo.CurrentUICulture = savedUi;
        }
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void ToString_is_the_summary_and_depends_on_the_declaration_only(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        string before = model.ToString()!;
        Assert.Equal(model.Summary().ToString(), before);
        model.InitializeParameters(7);
        model.EditParameters()[0] = 42;
        Assert.Equal(before, model.ToString());
        Assert.Equal(before, TestModels.Create(name).ToString());
    }

    /// <summary>The text's columns: runs of characters separated by two or more spaces.</summary>
    private static string[] Columns(string line) =>
        [.. System.Text.RegularExpressions.Regex.Split(line.Trim(), " {2,}| (?=→)|(?<=→) ").Where(part => part.Length > 0)];

    private static int NextLine(string[] lines, int from, Func<string, bool> match, string what)
    {
        for (int i = from; i < lines.Length; i++)
        {
            if (match(lines[i])) return i + 1;
        }
        Assert.Fail($"The summary has no {what} after line {from}:\n{string.Join("\n", lines)}");
        return -1;
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
