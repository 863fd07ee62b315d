// QuickStart: declare a model, initialise it, predict in a batch and step by step, save and reload its weights.
using System.Globalization;
using System.Runtime.InteropServices;
using ModelGen;
using QuickStart;

const int Steps = 24;   // T: samples per window
const int Batch = 4;    // B: windows predicted together
const ulong Seed = 42;

var model = new Forecaster();
model.InitializeParameters(Seed);

Console.WriteLine($"Forecaster: LSTM(input {Forecaster.InputSize}, hidden {Forecaster.HiddenSize}, layers {Forecaster.NumLayers}) " +
                  $"+ Linear({Forecaster.OutputFeatures}, {Forecaster.OutputSize}), {Forecaster.ParameterCount} parameters");
Console.WriteLine($"Untrained: PyTorch's default initialisation from seed {Seed}, so the predictions below are not forecasts yet.");
Console.WriteLine();
Console.WriteLine("Parameters (PyTorch state_dict names):");
foreach (ParameterInfo p in Forecaster.ParameterTable)
{
    Console.WriteLine($"  {p.Name,-18} {p.ShapeText,-10} offset {p.Offset}");
}

// The input [B, T, I] with I = 1: window b holds samples 3b .. 3b+T-1 of the sine x[n] = sin(0.3 n).
static float Signal(int n) => (float)Math.Sin(0.3 * n);
var input = new float[Batch * Steps * Forecaster.InputSize];
for (int b = 0; b < Batch; b++)
{
    for (int t = 0; t < Steps; t++) input[b * Steps + t] = Signal(t + 3 * b);
}

// Batch: one prediction [B, O] from the last step of each window.
var predictions = new float[Batch * Forecaster.OutputSize];
model.PredictLast(input, Batch, predictions);
Console.WriteLine();
Console.WriteLine($"PredictLast over {Batch} windows of {Steps} steps (next sample of the sine in brackets):");
for (int b = 0; b < Batch; b++)
{
    Console.WriteLine($"  window {b}: {Format(predictions[b]),-12} [{Format(Signal(Steps + 3 * b))}]");
}

// Streaming: the same window fed one sample at a time; the state stays inside the model between calls.
const int Window = 2;
var prediction = new float[Forecaster.OutputSize];
model.ResetState();
for (int t = 0; t < Steps; t++)
{
    model.StepPredict(input.AsSpan(Window * Steps + t, 1), prediction);
}
Console.WriteLine();
Console.WriteLine($"StepPredict over window {Window}, one step at a time: {Format(prediction[0])} " +
                  (SameBits(prediction, predictions.AsSpan(Window, 1)) ? "(bit-identical to PredictLast)" : "(DIFFERS from PredictLast)"));

// Save the weights under their PyTorch names, reload them into a new model and predict again.
string path = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "modelgen-quickstart", "forecaster.safetensors");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
model.SaveSafetensors(path);
var reloaded = new Forecaster();
reloaded.LoadSafetensors(path);
var reloadedPredictions = new float[Batch * Forecaster.OutputSize];
reloaded.PredictLast(input, Batch, reloadedPredictions);
Console.WriteLine();
Console.WriteLine($"Saved {new FileInfo(path).Length} bytes to {path}");
Console.WriteLine(SameBits(reloadedPredictions, predictions) && SameBits(reloaded.Parameters, model.Parameters)
    ? "Reloaded model: parameters and predictions bit-identical."
    : "Reloaded model: predictions DIFFER.");

static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);

static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
    MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));
