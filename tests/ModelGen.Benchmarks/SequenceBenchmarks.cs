using BenchmarkDotNet.Attributes;

namespace ModelGen.Benchmarks;

// 2. Whole sequences of the three bench files (data/bench_*: the same weights as .safetensors for ModelGen and as
// .onnx, exported by torch.onnx.export, for ONNX Runtime). One call processes the file's whole input [1, T, I] and
// gives y = head(rnn(input)[0][:, -1]); each benchmark's [GlobalSetup] checks its y against the file's PyTorch y
// within 1e-5 before anything is timed. The "ns/step" column is Mean / T.

/// <summary>ModelGen's <c>PredictLast</c> against ONNX Runtime on one bench file.</summary>
[MemoryDiagnoser]
[BenchmarkCategory("sequence")]
public abstract class PeerBenchmark<TModel> : IDisposable where TModel : class, IStreamingHeadModel, new()
{
    private OnnxRunner? _onnx;

    /// <summary>The bench file.</summary>
    protected BenchCase Bench { get; private set; } = null!;

    /// <summary>The model, holding the file's weights.</summary>
    protected TModel Model { get; private set; } = null!;

    /// <summary>Where ModelGen writes y.</summary>
    protected float[] Prediction { get; private set; } = [];

    /// <summary>The bench file's name, e.g. <c>bench_small</c>.</summary>
    protected abstract string FileName { get; }

    /// <summary>Loads the file and its weights.</summary>
    protected void Load()
    {
        Bench = BenchCase.Load(FileName);
        Model = Weights.FromBenchFile<TModel>(Bench);
        Prediction = new float[Model.OutputSize];
    }

    /// <summary>ModelGen's <c>PredictLast</c>, checked against PyTorch's y.</summary>
    [GlobalSetup(Target = nameof(ModelGen_PredictLast))]
    public void SetupModelGen()
    {
        Load();
        ModelGen_PredictLast();
        Bench.Check("ModelGen PredictLast", Prediction);
    }

    /// <summary>ONNX Runtime, checked against PyTorch's y.</summary>
    [GlobalSetup(Target = nameof(OnnxRuntime_Run))]
    public void SetupOnnx()
    {
        Load();
        _onnx = new OnnxRunner(Bench);
        _onnx.Run();
        Bench.Check("ONNX Runtime", _onnx.Output);
    }

    /// <summary>ModelGen: <c>PredictLast</c> over the T steps.</summary>
    [Benchmark, BenchmarkCategory("modelgen"), ModelGenReference]
    public void ModelGen_PredictLast() => Model.PredictLast(Bench.Input, 1, Prediction);

    /// <summary>ONNX Runtime: one <c>Run</c> of the exported graph over the same input.</summary>
    [Benchmark, BenchmarkCategory("ort")]
    public void OnnxRuntime_Run() => _onnx!.Run();

    /// <summary>Releases the peers.</summary>
    [GlobalCleanup]
    public virtual void Dispose()
    {
        _onnx?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// bench_small: LSTM 8→32, 1 layer, head 32→4, T = 32: also streamed one <c>StepPredict</c> at a time, and on
/// TorchSharp and RTNeural.
/// </summary>
[TimeSteps(32)]
[BenchmarkCategory("sequence"), Flop(4, 1, 32, 8, 32, 1, 4, false)]
public class BenchSmall : PeerBenchmark<BenchSmallModel>
{
    private TorchSequence? _torch;
    private RtNeuralPeer.RtModel? _rtNeural;

    /// <inheritdoc/>
    protected override string FileName => "bench_small";

    /// <summary>ModelGen's T <c>StepPredict</c> calls, checked against PyTorch's y.</summary>
    [GlobalSetup(Target = nameof(ModelGen_StepPredict_AllSteps))]
    public void SetupStreaming()
    {
        Load();
        ModelGen_StepPredict_AllSteps();
        Bench.Check("ModelGen ResetState + StepPredict x T", Prediction);
    }

    /// <summary>TorchSharp's forward, checked against PyTorch's y.</summary>
    [GlobalSetup(Target = nameof(TorchSharp_Forward))]
    public void SetupTorchSharp()
    {
        Load();
        _torch = new TorchSequence(Model, Bench.Input);
        Bench.Check("TorchSharp forward", _torch.Predict());
    }

    /// <summary>RTNeural's T forwards, checked against PyTorch's y.</summary>
    [GlobalSetup(Target = nameof(RTNeural_ResetAndForwardAllSteps))]
    public void SetupRtNeural()
    {
        Load();
        _rtNeural = RtNeuralPeer.Create(Model, Bench.Input);
        Bench.Check("RTNeural reset + T forward", _rtNeural.Trace(Bench.Steps, Bench.OutputSize).AsSpan((Bench.Steps - 1) * Bench.OutputSize));
    }

    /// <summary>ModelGen streaming: <c>ResetState</c>, then one <c>StepPredict</c> per step for the T = 32 steps.</summary>
    [Benchmark, BenchmarkCategory("modelgen")]
    public void ModelGen_StepPredict_AllSteps()
    {
        ReadOnlySpan<float> input = Bench.Input;
        const int inputSize = BenchSmallModel.InputSize;
        Model.ResetState();
        for (int t = 0; t < input.Length; t += inputSize) Model.StepPredict(input.Slice(t, inputSize), Prediction);
    }

    /// <summary>TorchSharp: <c>head(lstm(x)[0][:, -1])</c> under no_grad.</summary>
    [Benchmark, BenchmarkCategory("torch")]
    public void TorchSharp_Forward() => _torch!.Run();

    /// <summary>RTNeural: <c>reset()</c> and T <c>forward</c> calls of ModelT&lt;LSTMLayerT&lt;8, 32&gt;, DenseT&lt;32, 4&gt;&gt;.</summary>
    [Benchmark, BenchmarkCategory("rtneural")]
    public double RTNeural_ResetAndForwardAllSteps()
    {
        _rtNeural!.Reset();
        return _rtNeural.Run(32);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _torch?.Dispose();
        _rtNeural?.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>bench_medium: LSTM 32→128, 2 layers, head 128→10, T = 64.</summary>
[TimeSteps(64)]
[BenchmarkCategory("sequence"), Flop(4, 1, 64, 32, 128, 2, 10, false)]
public class BenchMedium : PeerBenchmark<BenchMediumModel>
{
    /// <inheritdoc/>
    protected override string FileName => "bench_medium";
}

/// <summary>bench_gru: GRU 16→64, 1 layer, head 64→4, T = 64.</summary>
[TimeSteps(64)]
[BenchmarkCategory("sequence"), Flop(3, 1, 64, 16, 64, 1, 4, false)]
public class BenchGru : PeerBenchmark<BenchGruModel>
{
    /// <inheritdoc/>
    protected override string FileName => "bench_gru";
}

/// <summary>
/// bench_small streamed: one <c>StepPredict</c> (LSTM 8→32 step + head 32→4) per operation, batch 1, over a ring
/// of 32 random inputs with the state carried on; ModelGen vs TorchSharp vs RTNeural. ONNX Runtime is not here: the
/// exported graph takes no state. Each setup checks 64 steps against the float64 reference.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("stepPredict"), Flop(4, 1, 1, 8, 32, 1, 4, false)]
public class StepPredictSmall : IDisposable
{
    private const int Steps = 32, CheckSteps = 64, InputSize = BenchSmallModel.InputSize, OutputSize = BenchSmallModel.OutputSize;
    private BenchSmallModel _model = null!;
    private float[] _ring = [];
    private readonly float[] _prediction = new float[OutputSize];
    private TorchStepper? _torch;
    private RtNeuralPeer.RtModel? _rtNeural;

    private float[] Reference => new Reference(_model).Trace(_ring, InputSize, CheckSteps, head: true);

    private void Create()
    {
        _model = Weights.FromBenchFile<BenchSmallModel>(BenchCase.Load("bench_small"));
        _ring = Weights.Uniform(Steps * InputSize, 8);
    }

    /// <summary>ModelGen, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(ModelGen_StepPredict))]
    public void SetupModelGen()
    {
        Create();
        _model.ResetState();
        var trace = new float[CheckSteps * OutputSize];
        for (int t = 0; t < CheckSteps; t++)
        {
            _model.StepPredict(_ring.AsSpan(t % Steps * InputSize, InputSize), _prediction);
            _prediction.CopyTo(trace, t * OutputSize);
        }
        _model.ResetState();
        Agreement.Require("bench_small", "ModelGen StepPredict vs float64 reference", trace, Reference);
    }

    /// <summary>TorchSharp, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(TorchSharp_StepPredict))]
    public void SetupTorchSharp()
    {
        Create();
        _torch = new TorchStepper(_model, _ring, withHead: true);
        Agreement.Require("bench_small", "TorchSharp nn.LSTM + nn.Linear step vs float64 reference", _torch.Trace(CheckSteps), Reference);
    }

    /// <summary>RTNeural, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(RTNeural_StepPredict))]
    public void SetupRtNeural()
    {
        Create();
        _rtNeural = RtNeuralPeer.Create(_model, _ring);
        Agreement.Require("bench_small", "RTNeural ModelT<LSTMLayerT, DenseT> vs float64 reference", _rtNeural.Trace(CheckSteps, OutputSize), Reference);
    }

    /// <summary>ModelGen: <c>model.StepPredict(x, y)</c>.</summary>
    [Benchmark(OperationsPerInvoke = Steps), BenchmarkCategory("modelgen"), ModelGenReference]
    public void ModelGen_StepPredict()
    {
        BenchSmallModel model = _model;
        float[] ring = _ring, prediction = _prediction;
        for (int t = 0; t < Steps; t++) model.StepPredict(ring.AsSpan(t * InputSize, InputSize), prediction);
    }

    /// <summary>TorchSharp: <c>head(lstm.forward(x, state))</c> on a <c>[1, 1, 8]</c> tensor under no_grad.</summary>
    [Benchmark(OperationsPerInvoke = Steps), BenchmarkCategory("torch")]
    public void TorchSharp_StepPredict() => _torch!.Run(Steps);

    /// <summary>RTNeural: <c>model.forward(x)</c> of ModelT&lt;LSTMLayerT&lt;8, 32&gt;, DenseT&lt;32, 4&gt;&gt;.</summary>
    [Benchmark(OperationsPerInvoke = Steps), BenchmarkCategory("rtneural")]
    public double RTNeural_StepPredict() => _rtNeural!.Run(Steps);

    /// <summary>Releases the peers.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _torch?.Dispose();
        _rtNeural?.Dispose();
        GC.SuppressFinalize(this);
    }
}
