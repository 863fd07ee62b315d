using System.Globalization;
using ModelGen;
using ScottPlot;

namespace TopicClassifier;

/// <summary>The two figures of the sample, drawn with ScottPlot and saved as PNG.</summary>
internal static class Plots
{
    /// <summary>
    /// The held-out confusion matrix: rows are the true topics, columns the predicted ones; each cell shows its count
    /// and is coloured by the fraction of its row (the recall of the topic on the diagonal).
    /// </summary>
    public static void Confusion(int[,] counts, string title, string path)
    {
        int n = Topics.Count;
        var fraction = new double[n, n];
        for (int r = 0; r < n; r++)
        {
            double total = 0;
            for (int c = 0; c < n; c++) total += counts[r, c];
            for (int c = 0; c < n; c++) fraction[r, c] = total == 0 ? 0 : counts[r, c] / total;
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(fraction);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        // ScottPlot's default: 1 × 1 cells centred on x = c, y = n − 1 − r, so the first true topic is the top row.
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                if (counts[r, c] == 0) continue;
                var label = plot.Add.Text(counts[r, c].ToString(CultureInfo.InvariantCulture), c, n - 1 - r);
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontSize = 13;
                label.LabelFontColor = fraction[r, c] > 0.5 ? Colors.Black : Colors.White;
            }
        }
        double[] positions = [.. Enumerable.Range(0, n).Select(i => (double)i)];
        plot.Axes.Bottom.SetTicks(positions, Topics.Names);
        plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 90;
        plot.Axes.Left.SetTicks([.. positions.Select(p => n - 1 - p)], Topics.Names);
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Add.ColorBar(heatmap).Label = "fraction of the true topic's quotes";
        plot.Title(title);
        plot.XLabel("predicted topic");
        plot.YLabel("true topic");
        plot.SavePng(path, 900, 820);
    }

    /// <summary>Training and validation loss per epoch, with the validation accuracy and the epoch whose weights were kept.</summary>
    public static void Loss(FitResult fit, string path)
    {
        double[] epochs = [.. fit.History.Select(r => (double)r.Epoch)];
        var plot = new Plot();
        var train = plot.Add.Scatter(epochs, [.. fit.History.Select(r => (double)r.TrainLoss)]);
        train.LegendText = "training cross-entropy (mean of the epoch's batches, with dropout)";
        train.LineWidth = 2;
        var validation = plot.Add.Scatter(epochs, [.. fit.History.Select(r => (double)r.ValidationLoss)]);
        validation.LegendText = "validation cross-entropy (after the epoch)";
        validation.LineWidth = 2;
        var accuracy = plot.Add.Scatter(epochs, [.. fit.History.Select(r => r.ValidationAccuracy)]);
        accuracy.LegendText = "validation accuracy (right axis)";
        accuracy.LinePattern = LinePattern.Dashed;
        accuracy.Axes.YAxis = plot.Axes.Right;
        var best = plot.Add.VerticalLine(fit.BestEpoch);
        best.LegendText = $"best validation loss: epoch {fit.BestEpoch} (weights kept)";
        best.Color = Colors.Gray;
        best.LinePattern = LinePattern.Dotted;
        plot.Axes.Right.Label.Text = "accuracy";
        plot.Axes.SetLimitsY(0, 1, plot.Axes.Right);
        plot.Title("TopicClassifier training");
        plot.XLabel("epoch");
        plot.YLabel("cross-entropy (nats)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1000, 560);
    }
}
