using System.Diagnostics;
using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// Cold start: what the first epoch of training costs in a fresh process (the JIT compiles every method on first
/// call, at tier 0, and recompiles the hot ones later) against a warm epoch. Each
/// run starts this program anew (<see cref="Processes"/> times), trains three epochs of bench_small's shape
/// (LSTM 8→32 + Linear 32→4, 2,048 sequences of T = 32, batches of 16, ZeroGradients + TrainPredictLast + MSE +
/// Backward + Adam.Step) from a fixed seed, and prints samples/s of epoch 1 and epoch 3; the parent prints the medians.
/// Not a BenchmarkDotNet job: BenchmarkDotNet's own process has run and jitted its engine before the first call.
/// </summary>
public static class ColdStart
{
    /// <summary>The command-line switch.</summary>
    public const string Command = "--cold-start";

    private const string Child = "--cold-start-child";
    private const int Processes = 5, Samples = 2048, Batch = 16, Steps = 32, Epochs = 3;

    /// <summary>Runs the measurement (a child) or starts the children and summarises them (the parent).</summary>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Contains(Child))
        {
            double[] rates = TrainEpochs();
            Console.WriteLine(string.Join(' ', rates.Select(r => r.ToString("R", CultureInfo.InvariantCulture))));
            return 0;
        }
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        bool isDotnetHost = Path.GetFileNameWithoutExtension(self) == "dotnet";
        var first = new List<double>();
        var third = new List<double>();
        Console.WriteLine($"// cold start: {Processes} fresh processes, each 3 epochs of {Samples} sequences (B={Batch}, T={Steps}, LSTM 8->32 + Linear 32->4)");
        for (int p = 0; p < Processes; p++)
        {
            var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
            if (isDotnetHost) start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]); // dotnet ModelGen.Benchmarks.dll
            start.ArgumentList.Add(Command);
            start.ArgumentList.Add(Child);
            using Process child = Process.Start(start)!;
            string output = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            if (child.ExitCode != 0) throw new InvalidOperationException($"cold-start child exited with {child.ExitCode}: {output}");
            double[] rates = [.. output.Trim().Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture))];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// process {p + 1}: epoch 1 {rates[0]:N0} samples/s, epoch 2 {rates[1]:N0}, epoch 3 {rates[2]:N0}"));
            first.Add(rates[0]);
            third.Add(rates[2]);
        }
        double cold = Median(first), warm = Median(third);
        string runtime = System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeCompiled ? "JIT" : "NativeAOT";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {runtime} | {cold:N0} | {warm:N0} | {cold / warm:N2} |   (runtime | epoch 1 samples/s | epoch 3 samples/s | epoch 1 / epoch 3, medians of {Processes} processes)"));
        return 0;
    }

    private static double[] TrainEpochs()
    {
        var model = Weights.Seeded<BenchSmallModel>(7);
        float[] input = Weights.Uniform(Samples * Steps * BenchSmallModel.InputSize, 11);
        float[] target = Weights.Uniform(Samples * BenchSmallModel.OutputSize, 12);
        var prediction = new float[Batch * BenchSmallModel.OutputSize];
        var gradient = new float[prediction.Length];
        var adam = new Adam(BenchSmallModel.ParameterCount, 1e-3f);
        int inputRows = Batch * Steps * BenchSmallModel.InputSize, targetRows = Batch * BenchSmallModel.OutputSize;
        var rates = new double[Epochs];
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int b = 0; b < Samples / Batch; b++)
            {
                model.ZeroGradients();
                model.TrainPredictLast(input.AsSpan(b * inputRows, inputRows), Batch, prediction);
                Losses.MeanSquaredError(prediction, target.AsSpan(b * targetRows, targetRows), gradient);
                model.Backward(gradient, default, default, default);
                adam.Step(model);
            }
            rates[epoch] = Samples / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return rates;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
