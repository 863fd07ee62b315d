using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// One bench file pair: <c>data/{name}.safetensors</c> (the parameters <c>rnn.*</c>/<c>head.*</c>, one
/// <c>input</c> <c>[1, T, I]</c> and PyTorch's <c>y = head(rnn(input)[0][:, -1])</c> <c>[1, O]</c>) and
/// <c>data/{name}.onnx</c> (the same weights, exported by <c>torch.onnx.export</c>).
/// </summary>
public sealed class BenchCase
{
    /// <summary>Largest |actual − expected| accepted before anything is timed.</summary>
    public const float Tolerance = 1e-5f;

    private BenchCase(string name, string directory)
    {
        Name = name;
        SafetensorsPath = Path.Combine(directory, name + ".safetensors");
        OnnxPath = Path.Combine(directory, name + ".onnx");
        SafetensorsFile file = SafetensorsFile.Read(SafetensorsPath);
        SafetensorsTensor input = file["input"];
        SafetensorsTensor y = file["y"];
        if (input.Shape.Length != 3 || input.Shape[0] != 1 || y.Shape.Length != 2 || y.Shape[0] != 1)
        {
            throw new InvalidOperationException(
                $"{SafetensorsPath}: expected input [1, T, I] and y [1, O], got input {input.ShapeText} and y {y.ShapeText}.");
        }
        Input = input.ToFloatArray();
        Expected = y.ToFloatArray();
        InputShape = [.. input.Shape];
        OutputShape = [.. y.Shape];
        Steps = checked((int)input.Shape[1]);
        InputSize = checked((int)input.Shape[2]);
        OutputSize = checked((int)y.Shape[1]);
    }

    /// <summary>bench_small, bench_medium or bench_gru.</summary>
    public string Name { get; }

    /// <summary>Weights, input and expected y.</summary>
    public string SafetensorsPath { get; }

    /// <summary>The ONNX export of the same model.</summary>
    public string OnnxPath { get; }

    /// <summary>The file's <c>input</c> <c>[1, T, I]</c>.</summary>
    public float[] Input { get; }

    /// <summary>The file's <c>y</c> <c>[1, O]</c>.</summary>
    public float[] Expected { get; }

    /// <summary><c>[1, T, I]</c>.</summary>
    public long[] InputShape { get; }

    /// <summary><c>[1, O]</c>.</summary>
    public long[] OutputShape { get; }

    /// <summary>T.</summary>
    public int Steps { get; }

    /// <summary>I.</summary>
    public int InputSize { get; }

    /// <summary>O.</summary>
    public int OutputSize { get; }

    /// <summary>Loads <c>data/{name}.*</c> from beside the executable.</summary>
    public static BenchCase Load(string name)
    {
        string directory = Path.Combine(AppContext.BaseDirectory, "data");
        if (!File.Exists(Path.Combine(directory, name + ".safetensors")))
        {
            throw new FileNotFoundException($"{name}.safetensors is not in {directory}: the build copies data/ to the output directory.");
        }
        return new BenchCase(name, directory);
    }

    /// <summary>
    /// Throws unless <paramref name="actual"/> reproduces the expected y within <see cref="Tolerance"/>; prints
    /// the largest difference (BenchmarkDotNet shows it in the log).
    /// </summary>
    public void Check(string runtime, ReadOnlySpan<float> actual)
    {
        if (actual.Length != Expected.Length)
        {
            throw new InvalidOperationException($"{Name}/{runtime}: {actual.Length} outputs, expected {Expected.Length}.");
        }
        float worst = 0f;
        for (int i = 0; i < actual.Length; i++)
        {
            float difference = MathF.Abs(actual[i] - Expected[i]);
            // A NaN must fail the check, so compare with !(<=).
            if (!(difference <= worst)) worst = float.IsNaN(difference) ? float.NaN : difference;
        }
        string line = string.Create(CultureInfo.InvariantCulture,
            $"// check {Name} {runtime}: max |y - y_torch| = {worst:E2} (tolerance {Tolerance:E0})");
        Console.WriteLine(line);
        if (!(worst <= Tolerance))
        {
            throw new InvalidOperationException(line + ": does not reproduce PyTorch; nothing is timed.");
        }
    }
}
