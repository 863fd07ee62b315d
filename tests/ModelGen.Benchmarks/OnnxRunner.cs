using Microsoft.ML.OnnxRuntime;

namespace ModelGen.Benchmarks;

/// <summary>
/// An ONNX Runtime session on one bench model, set up so that a call times inference only: one intra-op and
/// one inter-op thread, sequential execution, full graph optimisation, and the input and output bound once
/// (an <see cref="OrtIoBinding"/> over <see cref="OrtValue"/>s that wrap pre-allocated managed arrays), so
/// <see cref="Run"/> neither allocates tensors nor marshals names.
/// </summary>
public sealed class OnnxRunner : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly OrtValue _input;
    private readonly OrtValue _output;
    private readonly OrtIoBinding _binding;

    /// <summary>Opens <see cref="BenchCase.OnnxPath"/> and binds <see cref="BenchCase.Input"/> and <see cref="Output"/>.</summary>
    public OnnxRunner(BenchCase bench)
    {
        ArgumentNullException.ThrowIfNull(bench);
        _options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(bench.OnnxPath, _options);
        if (_session.InputMetadata.Count != 1 || _session.OutputMetadata.Count != 1)
        {
            throw new InvalidOperationException(
                $"{bench.OnnxPath}: expected one input and one output, got inputs [{string.Join(", ", _session.InputMetadata.Keys)}] " +
                $"and outputs [{string.Join(", ", _session.OutputMetadata.Keys)}].");
        }
        InputName = _session.InputMetadata.Keys.Single();
        OutputName = _session.OutputMetadata.Keys.Single();
        Output = new float[bench.OutputSize];
        _runOptions = new RunOptions();
        _input = OrtValue.CreateTensorValueFromMemory(bench.Input, bench.InputShape);
        _output = OrtValue.CreateTensorValueFromMemory(Output, bench.OutputShape);
        _binding = _session.CreateIoBinding();
        _binding.BindInput(InputName, _input);
        _binding.BindOutput(OutputName, _output);
    }

    /// <summary>The graph's input name.</summary>
    public string InputName { get; }

    /// <summary>The graph's output name.</summary>
    public string OutputName { get; }

    /// <summary>Where <see cref="Run"/> writes y <c>[1, O]</c> (the bound output's memory).</summary>
    public float[] Output { get; }

    /// <summary>One inference over the bound input.</summary>
    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <inheritdoc/>
    public void Dispose()
    {
        _binding.Dispose();
        _output.Dispose();
        _input.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}
