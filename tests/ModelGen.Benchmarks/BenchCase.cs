namespace ModelGen.Benchmarks;

/// <summary>
/// One bench file pair: <c>data/{name}.safetensors</c> (the parameters <c>rnn.*</c>/<c>head.*</c>, one
/// <c>input</c> <c>[1, T, I]</c> and PyTorch's <c>y = head(rnn(input)[0][:, -1])</c> <c>[1, O]</c>) and
/// <c>data/{name}.onnx</c> (the same weights, exported by <c>torch.onnx.export</c>).
/// </summary>
public sealed class BenchCase
{
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

    /// <summary>Throws (see <see cref="Agreement"/>) unless <paramref name="actual"/> reproduces the file's PyTorch y within 1e-5.</summary>
    public void Check(string runtime, ReadOnlySpan<float> actual) => Agreement.Require(Name, runtime + " vs PyTorch y", actual, Expected);
}
