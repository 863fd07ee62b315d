using System.Globalization;
using ScottPlot;

namespace WordTranslation;

/// <summary>The figures of the sample, drawn with ScottPlot and saved as PNG.</summary>
internal static class Plots
{
    /// <summary>
    /// Training and validation loss per epoch (epoch 1 first), with the epoch of the lowest validation loss marked.
    /// </summary>
    public static void LossCurve(IReadOnlyList<double> trainLosses, IReadOnlyList<double> validationLosses, string path)
    {
        var plot = new Plot();
        var train = plot.Add.Scatter(Epochs(trainLosses.Count), trainLosses.ToArray());
        train.LegendText = "training cross-entropy (mean of the epoch's batches)";
        train.LineWidth = 2;
        var validation = plot.Add.Scatter(Epochs(validationLosses.Count), validationLosses.ToArray());
        validation.LegendText = "validation cross-entropy (after the epoch)";
        validation.LineWidth = 2;
        if (validationLosses.Count > 0)
        {
            int best = 1 + Enumerable.Range(0, validationLosses.Count).MinBy(i => validationLosses[i]);
            var line = plot.Add.VerticalLine(best);
            line.LegendText = $"lowest validation loss: epoch {best}";
            line.Color = Colors.Gray;
            line.LinePattern = LinePattern.Dotted;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = epoch => epoch.ToString("0", CultureInfo.InvariantCulture),
        };
        plot.Title("WordTranslation training");
        plot.XLabel("epoch");
        plot.YLabel("cross-entropy per German character (nats)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1000, 560);

        static double[] Epochs(int count) => [.. Enumerable.Range(1, count).Select(e => (double)e)];
    }

    /// <summary>
    /// The attention weights of one decoded word as a heatmap: <paramref name="weights"/> is
    /// <c>[target steps, source steps]</c>, row t the weights over the source characters when the decoder emitted
    /// output character t. The source characters label the x axis, the output characters the y axis (the first at
    /// the top); a row beyond <paramref name="predictedWord"/> is the step that emitted EOS.
    /// </summary>
    public static void Attention(float[,] weights, string sourceWord, string predictedWord, string path)
    {
        int rows = weights.GetLength(0), columns = weights.GetLength(1);
        var values = new double[rows, columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++) values[r, c] = weights[r, c];
        }
        string[] xLabels = [.. Enumerable.Range(0, columns).Select(c => c < sourceWord.Length ? sourceWord[c].ToString() : "·")];
        string[] yLabels = [.. Enumerable.Range(0, rows).Select(r => r < predictedWord.Length ? predictedWord[r].ToString() : "<eos>")];

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        // ScottPlot's default: 1 × 1 cells centred on x = c, y = rows − 1 − r, so output character 0 is the top row.
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, columns).Select(c => (double)c)], xLabels);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, rows).Select(r => (double)(rows - 1 - r))], yLabels);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 18;
        plot.Axes.Left.TickLabelStyle.FontSize = 18;
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        plot.Add.ColorBar(heatmap).Label = "attention weight";
        plot.Title($"{sourceWord} → {predictedWord}");
        plot.XLabel("English input");
        plot.YLabel("German output");
        int cell = 44;
        plot.SavePng(path, Math.Max(480, 220 + cell * columns), Math.Max(400, 160 + cell * rows));
    }
}
