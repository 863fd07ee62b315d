// Co2Forecast: train an LSTM on the monthly Mauna Loa CO2 record, forecast the test years one month ahead,
// compare with naive baselines, plot the forecast and the loss curve, save the weights and reload them.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Co2Forecast;
using ModelGen;

const int Window = 24;          // T: months of history the model sees per forecast
const int TestMonths = 96;      // the last 8 years: held out, never used for training or validation
const ulong InitSeed = 1;       // weights
const ulong ShuffleSeed = 2;    // order of the training windows in each epoch
const float LearningRate = 0.005f;

var total = Stopwatch.StartNew();
string outputFolder = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine("samples", "Co2Forecast", "output"));
Directory.CreateDirectory(outputFolder);

// The series: monthly mean CO2 at Mauna Loa in ppm.
MonthlySeries co2 = MonthlySeries.Load(Path.Combine(AppContext.BaseDirectory, "data", "co2-concentration.csv"), "CO2");
double[] y = co2.Values;
int n = co2.Length, testStart = n - TestMonths;
Console.WriteLine($"Mauna Loa CO2: {n} months, {co2.Label(0)} .. {co2.Label(n - 1)} ({co2.FilledMonths} missing months interpolated)");
Console.WriteLine($"Training period {co2.Label(0)} .. {co2.Label(testStart - 1)}, test period {co2.Label(testStart)} .. {co2.Label(n - 1)} ({TestMonths} months)");

// The model sees month-to-month changes d[t] = y[t] - y[t-1], not levels: the trend becomes a constant offset and
// the yearly cycle a stable pattern, so the test years (above every level seen in training) look like the
// training years. The changes are standardised with the mean and deviation of the training period only.
var change = new double[n];
for (int t = 1; t < n; t++) change[t] = y[t] - y[t - 1];
double mean = 0, variance = 0;
for (int t = 1; t < testStart; t++) mean += change[t];
mean /= testStart - 1;
for (int t = 1; t < testStart; t++) variance += (change[t] - mean) * (change[t] - mean);
double std = Math.Sqrt(variance / (testStart - 1));
float Scaled(int t) => (float)((change[t] - mean) / std);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Input: standardised month-to-month change (training mean {mean:F3} ppm, std {std:F3} ppm); windows of {Window} months -> next month"));

// Sample for month t: the changes of months t-T .. t-1 as input [T, 1], the change of month t as target.
// The first window needs T changes, and change[0] does not exist.
(float[] Inputs, float[] Targets) Windows(int first, int end)
{
    var inputs = new float[(end - first) * Window];
    var targets = new float[end - first];
    for (int t = first; t < end; t++)
    {
        for (int k = 0; k < Window; k++) inputs[(t - first) * Window + k] = Scaled(t - Window + k);
        targets[t - first] = Scaled(t);
    }
    return (inputs, targets);
}
int firstTarget = Window + 1;
(float[] trainInputs, float[] trainTargets) = Windows(firstTarget, testStart);
(float[] testInputs, _) = Windows(testStart, n);

var model = new Co2Model();
model.InitializeParameters(InitSeed);
var trainer = new Trainer(model, new Adam(Co2Model.ParameterCount, LearningRate)) { ClipGradientNorm = 1f };
var options = new FitOptions
{
    Epochs = 150,
    BatchSize = 32,
    Seed = ShuffleSeed,
    ValidationFraction = 0.15,   // the last 15% of the training windows, in time order
    Patience = 20,
    OnEpoch = report => Console.WriteLine($"  {report}"),
};
int validationSamples = (int)Math.Round(trainTargets.Length * options.ValidationFraction);
Console.WriteLine();
Console.WriteLine($"Co2Model: LSTM(1, {Co2Model.HiddenSize}) + Linear({Co2Model.HiddenSize}, 1), {Co2Model.ParameterCount} parameters");
Console.WriteLine($"Training on {trainTargets.Length - validationSamples} windows, validating on the last {validationSamples} " +
                  $"(targets {co2.Label(testStart - validationSamples)} .. {co2.Label(testStart - 1)}); Adam lr {LearningRate.ToString(CultureInfo.InvariantCulture)}, " +
                  $"batch {options.BatchSize}, up to {options.Epochs} epochs, early stopping after {options.Patience} without improvement");
var training = Stopwatch.StartNew();
FitResult fit = trainer.FitLast(trainInputs, Window, trainTargets, options);
training.Stop();
Console.WriteLine($"{(fit.StoppedEarly ? "Stopped early" : "Finished")} after {fit.History.Count} epochs in {training.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s; " +
                  $"keeping epoch {fit.BestEpoch} (best validation loss)");

// One-step-ahead forecasts of the test months from the true history: y[t] = y[t-1] + predicted change.
var predicted = new float[TestMonths];
model.PredictLast(testInputs, TestMonths, predicted);
var forecast = new double[TestMonths];
for (int i = 0; i < TestMonths; i++) forecast[i] = y[testStart + i - 1] + predicted[i] * std + mean;

double Rmse(Func<int, double> predict)
{
    double sum = 0;
    for (int t = testStart; t < n; t++) sum += (predict(t) - y[t]) * (predict(t) - y[t]);
    return Math.Sqrt(sum / TestMonths);
}
double modelRmse = Rmse(t => forecast[t - testStart]);
double persistenceRmse = Rmse(t => y[t - 1]);
double seasonalRmse = Rmse(t => y[t - 12]);
double seasonalChangeRmse = Rmse(t => y[t - 1] + (y[t - 12] - y[t - 13]));
Console.WriteLine();
Console.WriteLine($"Test RMSE over {co2.Label(testStart)} .. {co2.Label(n - 1)}, one month ahead from the true history:");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  model (LSTM)                         {modelRmse:F3} ppm"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  persistence (last month's value)     {persistenceRmse:F3} ppm"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  seasonal naive (value 12 months ago) {seasonalRmse:F3} ppm"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  last month + its change a year ago   {seasonalChangeRmse:F3} ppm"));
Console.WriteLine(Verdict("persistence", persistenceRmse));
Console.WriteLine(Verdict("seasonal naive", seasonalRmse));
Console.WriteLine(Verdict("the seasonal change baseline", seasonalChangeRmse));
string Verdict(string baseline, double rmse) => modelRmse < rmse
    ? FormattableString.Invariant($"The model beats {baseline}: its RMSE is {rmse / modelRmse:F1}x lower.")
    : FormattableString.Invariant($"The model does NOT beat {baseline} ({modelRmse:F3} vs {rmse:F3} ppm).");

Console.WriteLine();
Console.WriteLine("Last months of the test period (ppm):  actual   model  persistence  seasonal");
for (int t = n - 6; t < n; t++)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {co2.Label(t)}                            {y[t],7:F2} {forecast[t - testStart],7:F2}  {y[t - 1],11:F2}  {y[t - 12],8:F2}"));
}

// Plots.
string forecastPng = Path.Combine(outputFolder, "co2-forecast.png");
string lossPng = Path.Combine(outputFolder, "co2-loss.png");
Plots.Forecast(co2, testStart, forecast, modelRmse, contextMonths: 72, forecastPng);
Plots.Loss(fit, lossPng);
Console.WriteLine();
Console.WriteLine($"Wrote {forecastPng}");
Console.WriteLine($"Wrote {lossPng}");

// Save the weights under their PyTorch names, reload them into a new model and forecast again.
string weights = Path.Combine(outputFolder, "co2-lstm.safetensors");
model.SaveSafetensors(weights);
var reloaded = new Co2Model();
reloaded.LoadSafetensors(weights);
var reloadedPredicted = new float[TestMonths];
reloaded.PredictLast(testInputs, TestMonths, reloadedPredicted);
Console.WriteLine($"Saved {new FileInfo(weights).Length} bytes to {weights}");
Console.WriteLine(SameBits(reloaded.Parameters, model.Parameters) && SameBits(reloadedPredicted, predicted)
    ? "Reloaded model: parameters and test forecasts bit-identical."
    : "Reloaded model: forecasts DIFFER.");
Console.WriteLine($"Total time {total.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");

static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
    MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));
