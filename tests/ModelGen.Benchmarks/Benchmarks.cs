using BenchmarkDotNet.Attributes;

namespace ModelGen.Benchmarks;

// One class per bench model. Every call processes the whole input sequence [1, T, I] of the bench file:
// ModelGen's PredictLast and ONNX Runtime's Run give y = head(output[:, -1]); the streaming benchmark feeds
// the same T steps one StepPredict at a time. The "ns/step" column is Mean / T.
//
// [GlobalSetup] loads the weights and checks, before anything is timed, that every runtime reproduces the
// file's PyTorch y within 1e-5 (it throws otherwise and BenchmarkDotNet reports the benchmark as failed).

/// <summary>bench_small: LSTM 8→32, 1 layer, head 32→4, T = 32.</summary>
[MemoryDiagnoser]
[TimeSteps(32)]
public class BenchSmall : IDisposable
{
    private readonly BenchSmallModel _model = new();
    private BenchCase _bench = null!;
    private OnnxRunner _onnx = null!;
    private readonly float[] _prediction = new float[BenchSmallModel.OutputSize];

    /// <summary>Loads bench_small and checks both runtimes (and streaming) against PyTorch's y.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _bench = BenchCase.Load("bench_small");
        _model.LoadSafetensors(_bench.SafetensorsPath);
        _model.PredictLast(_bench.Input, 1, _prediction);
        _bench.Check("ModelGen PredictLast", _prediction);
        StepPredictSequence();
        _bench.Check("ModelGen StepPredict x T", _prediction);
        _onnx = new OnnxRunner(_bench);
        _onnx.Run();
        _bench.Check("ONNX Runtime", _onnx.Output);
    }

    /// <summary>ModelGen: <c>PredictLast</c> over the T = 32 steps.</summary>
    [Benchmark]
    public void ModelGen_PredictLast() => _model.PredictLast(_bench.Input, 1, _prediction);

    /// <summary>ONNX Runtime: one <c>Run</c> of the exported graph over the same input.</summary>
    [Benchmark(Baseline = true)]
    public void OnnxRuntime_Run() => _onnx.Run();

    /// <summary>ModelGen streaming: <c>ResetState</c>, then one <c>StepPredict</c> per step for the T = 32 steps.</summary>
    [Benchmark]
    public void ModelGen_StepPredict_AllSteps() => StepPredictSequence();

    private void StepPredictSequence()
    {
        ReadOnlySpan<float> input = _bench.Input;
        const int inputSize = BenchSmallModel.InputSize;
        _model.ResetState();
        for (int t = 0; t < input.Length; t += inputSize)
        {
            _model.StepPredict(input.Slice(t, inputSize), _prediction);
        }
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _onnx?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>bench_medium: LSTM 32→128, 2 layers, head 128→10, T = 64.</summary>
[MemoryDiagnoser]
[TimeSteps(64)]
public class BenchMedium : IDisposable
{
    private readonly BenchMediumModel _model = new();
    private BenchCase _bench = null!;
    private OnnxRunner _onnx = null!;
    private readonly float[] _prediction = new float[BenchMediumModel.OutputSize];

    /// <summary>Loads bench_medium and checks both runtimes against PyTorch's y.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _bench = BenchCase.Load("bench_medium");
        _model.LoadSafetensors(_bench.SafetensorsPath);
        _model.PredictLast(_bench.Input, 1, _prediction);
        _bench.Check("ModelGen PredictLast", _prediction);
        _onnx = new OnnxRunner(_bench);
        _onnx.Run();
        _bench.Check("ONNX Runtime", _onnx.Output);
    }

    /// <summary>ModelGen: <c>PredictLast</c> over the T = 64 steps.</summary>
    [Benchmark]
    public void ModelGen_PredictLast() => _model.PredictLast(_bench.Input, 1, _prediction);

    /// <summary>ONNX Runtime: one <c>Run</c> of the exported graph over the same input.</summary>
    [Benchmark(Baseline = true)]
    public void OnnxRuntime_Run() => _onnx.Run();

    /// <summary>Releases the ONNX Runtime session.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _onnx?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>bench_gru: GRU 16→64, 1 layer, head 64→4, T = 64.</summary>
[MemoryDiagnoser]
[TimeSteps(64)]
public class BenchGru : IDisposable
{
    private readonly BenchGruModel _model = new();
    private BenchCase _bench = null!;
    private OnnxRunner _onnx = null!;
    private readonly float[] _prediction = new float[BenchGruModel.OutputSize];

    /// <summary>Loads bench_gru and checks both runtimes against PyTorch's y.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _bench = BenchCase.Load("bench_gru");
        _model.LoadSafetensors(_bench.SafetensorsPath);
        _model.PredictLast(_bench.Input, 1, _prediction);
        _bench.Check("ModelGen PredictLast", _prediction);
        _onnx = new OnnxRunner(_bench);
        _onnx.Run();
        _bench.Check("ONNX Runtime", _onnx.Output);
    }

    /// <summary>ModelGen: <c>PredictLast</c> over the T = 64 steps.</summary>
    [Benchmark]
    public void ModelGen_PredictLast() => _model.PredictLast(_bench.Input, 1, _prediction);

    /// <summary>ONNX Runtime: one <c>Run</c> of the exported graph over the same input.</summary>
    [Benchmark(Baseline = true)]
    public void OnnxRuntime_Run() => _onnx.Run();

    /// <summary>Releases the ONNX Runtime session.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _onnx?.Dispose();
        GC.SuppressFinalize(this);
    }
}
