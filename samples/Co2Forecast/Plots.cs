using System.Globalization;
using ModelGen;
using ScottPlot;

namespace Co2Forecast;

/// <summary>The two figures of the sample, drawn with ScottPlot and saved as PNG.</summary>
internal static class Plots
{
    private const int Width = 1000, Height = 560;

    /// <summary>
    /// The actual series from <paramref name="contextMonths"/> before the test period to the end, and the model's
    /// one-month-ahead forecast over the test period.
    /// </summary>
    public static void Forecast(MonthlySeries series, int testStart, double[] forecast, double rmse, int contextMonths, string path)
    {
        int first = testStart - contextMonths;
        double[] years = Enumerable.Range(first, series.Length - first).Select(series.Year).ToArray();
        double[] actual = series.Values[first..];
        double[] testYears = Enumerable.Range(testStart, forecast.Length).Select(series.Year).ToArray();

        var plot = new Plot();
        var span = plot.Add.HorizontalSpan(series.Year(testStart) - 0.5 / 12, series.Year(series.Length - 1) + 0.5 / 12);
        span.FillStyle.Color = Colors.Gray.WithAlpha(0.12);
        span.LegendText = "test period (not used for training)";

        var actualLine = plot.Add.Scatter(years, actual);
        actualLine.LegendText = "actual (monthly mean)";
        actualLine.Color = Colors.Black;
        actualLine.LineWidth = 1.5f;
        actualLine.MarkerSize = 3;

        var forecastLine = plot.Add.Scatter(testYears, forecast);
        forecastLine.LegendText = string.Create(CultureInfo.InvariantCulture, $"LSTM forecast, one month ahead (test RMSE {rmse:F3} ppm)");
        forecastLine.Color = Colors.OrangeRed;
        forecastLine.LineWidth = 2;
        forecastLine.LinePattern = LinePattern.Dashed;
        forecastLine.MarkerSize = 0;

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = year => year.ToString("0", CultureInfo.InvariantCulture),
        };
        plot.Title("Mauna Loa CO2: one-month-ahead LSTM forecast vs actual");
        plot.XLabel("year");
        plot.YLabel("CO2 (ppm)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Training and validation loss per epoch (log scale), with the epoch whose weights were kept.</summary>
    public static void Loss(FitResult fit, string path)
    {
        double[] epochs = fit.History.Select(r => (double)r.Epoch).ToArray();
        double[] train = fit.History.Select(r => Math.Log10(r.TrainLoss)).ToArray();
        double[] validation = fit.History.Select(r => Math.Log10(r.ValidationLoss)).ToArray();

        var plot = new Plot();
        var trainLine = plot.Add.Scatter(epochs, train);
        trainLine.LegendText = "training (mean of the epoch's batches)";
        trainLine.MarkerSize = 0;
        trainLine.LineWidth = 2;
        var validationLine = plot.Add.Scatter(epochs, validation);
        validationLine.LegendText = "validation (after the epoch)";
        validationLine.MarkerSize = 0;
        validationLine.LineWidth = 2;
        var best = plot.Add.VerticalLine(fit.BestEpoch);
        best.LegendText = $"best validation: epoch {fit.BestEpoch} (weights kept)";
        best.Color = Colors.Gray;
        best.LinePattern = LinePattern.Dotted;

        // Log scale: the data are log10(loss); ticks at 1-2-5 steps are labelled with the loss itself.
        double low = Math.Min(train.Min(), validation.Min()), high = Math.Max(train.Max(), validation.Max());
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int decade = (int)Math.Floor(low) - 1; decade <= (int)Math.Ceiling(high); decade++)
        {
            foreach (double mantissa in new[] { 1.0, 2.0, 5.0 })
            {
                double tick = decade + Math.Log10(mantissa);
                if (tick >= low - 0.1 && tick <= high + 0.1)
                {
                    ticks.AddMajor(tick, (mantissa * Math.Pow(10, decade)).ToString("G3", CultureInfo.InvariantCulture));
                }
            }
        }
        plot.Axes.Left.TickGenerator = ticks;

        plot.Title("Co2Forecast training: MSE of the standardised monthly change");
        plot.XLabel("epoch");
        plot.YLabel("MSE (log scale)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }
}
