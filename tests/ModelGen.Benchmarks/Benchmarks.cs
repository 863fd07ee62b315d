using BenchmarkDotNet.Attributes;

namespace ModelGen.Benchmarks;

// One class per bench model. Every call processes the whole input sequence [1, T, I] of the bench file:
// ModelGen's PredictLast and ONNX Runtime's Run give y = head(output[:, -1]); the streaming benchmark feeds
// the same T steps one StepPredict at a time. The "ns/step" column is Mean / T.
//
// [GlobalSetup] loads the weights and checks, before anything is timed, that every runtime reproduces the
// file's PyTorch y within 1e-5 (it throws otherwise and BenchmarkDotNet reports the benchmark as failed).

/// <summary>
/// ModelGen against ONNX Runtime on one bench file. ModelGen's calls go through the model's interface, a few
/// nanoseconds against the microseconds a call takes.
/// </summary>
[MemoryDiagnoser]
public abstract class PeerBenchmark<TModel> : IDisposable where TModel : class, IStreamingHeadModel, new()
{
    private BenchCase _bench = null!;
    private OnnxRunner _onnx = null!;

    protected TModel Model { get; } = new();

    protected float[] Prediction { get; } = new float[new TModel().OutputSize];

    protected ReadOnlySpan<float> Input => _bench.Input;

    /// <summary>The bench file's name, e.g. <c>bench_small</c>.</summary>
    protected abstract string FileName { get; }

    /// <summary>Loads the bench file and checks both runtimes against PyTorch's y.</summary>
    [GlobalSetup]
    public virtual void Setup()
    {
        _bench = BenchCase.Load(FileName);
        Model.LoadSafetensors(_bench.SafetensorsPath);
        Model.PredictLast(_bench.Input, 1, Prediction);
        _bench.Check("ModelGen PredictLast", Prediction);
        _onnx = new OnnxRunner(_bench);
        _onnx.Run();
        _bench.Check("ONNX Runtime", _onnx.Output);
    }

    protected void Check(string what) => _bench.Check(what, Prediction);

    /// <summary>ModelGen: <c>PredictLast</c> over the T steps.</summary>
    [Benchmark]
    public void ModelGen_PredictLast() => Model.PredictLast(_bench.Input, 1, Prediction);

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

/// <summary>bench_small: LSTM 8→32, 1 layer, head 32→4, T = 32; also streamed one step at a time.</summary>
[TimeSteps(32)]
public class BenchSmall : PeerBenchmark<BenchSmallModel>
{
    protected override string FileName => "bench_small";

    /// <inheritdoc/>
    public override void Setup()
    {
        base.Setup();
        StepPredictSequence();
        Check("ModelGen StepPredict x T");
    }

    /// <summary>ModelGen streaming: <c>ResetState</c>, then one <c>StepPredict</c> per step for the T = 32 steps.</summary>
    [Benchmark]
    public void ModelGen_StepPredict_AllSteps() => StepPredictSequence();

    private void StepPredictSequence()
    {
        ReadOnlySpan<float> input = Input;
        const int inputSize = BenchSmallModel.InputSize;
        Model.ResetState();
        for (int t = 0; t < input.Length; t += inputSize)
        {
            Model.StepPredict(input.Slice(t, inputSize), Prediction);
        }
    }
}

/// <summary>bench_medium: LSTM 32→128, 2 layers, head 128→10, T = 64.</summary>
[TimeSteps(64)]
public class BenchMedium : PeerBenchmark<BenchMediumModel>
{
    protected override string FileName => "bench_medium";
}

/// <summary>bench_gru: GRU 16→64, 1 layer, head 64→4, T = 64.</summary>
[TimeSteps(64)]
public class BenchGru : PeerBenchmark<BenchGruModel>
{
    protected override string FileName => "bench_gru";
}
