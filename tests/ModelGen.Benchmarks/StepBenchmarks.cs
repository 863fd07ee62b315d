using BenchmarkDotNet.Attributes;

namespace ModelGen.Benchmarks;

// 1. The streaming step: batch 1, one layer, I = H = N, no head. One benchmark operation is one time step (each call
// runs the 32 steps of a ring of inputs, OperationsPerInvoke = 32), the state carried on from step to step as in a
// real-time loop. Same weights for every peer: PyTorch's default initialisation from a fixed seed (Weights.cs).
//
// Each benchmark has its own [GlobalSetup], which checks its first 64 outputs from a zero state against the float64
// reference (Reference in Weights.cs) within 1e-5 before anything is timed.

/// <summary>One model's <c>Step</c> (or <c>StepPredict</c>) through a struct, so the loop calls the generated class directly.</summary>
public interface IStepper
{
    /// <summary>One step of batch 1.</summary>
    void Step(ReadOnlySpan<float> input, Span<float> output);
}

/// <summary>ModelGen vs TorchSharp vs RTNeural on one streaming model.</summary>
[MemoryDiagnoser]
[BenchmarkCategory("step")]
public abstract class StepBenchmark<TModel, TStepper> : IDisposable
    where TModel : class, IStreamingModel, new()
    where TStepper : struct, IStepper
{
    /// <summary>Steps per call (the ring of inputs).</summary>
    public const int Steps = 32;

    /// <summary>Steps checked against the reference.</summary>
    public const int CheckSteps = 64;

    private TModel _model = null!;
    private TStepper _stepper;
    private float[] _ring = [];
    private float[] _output = [];
    private int _inputSize;
    private TorchStepper? _torch;
    private RtNeuralPeer.RtModel? _rtNeural;

    /// <summary>The seed of the weights (the inputs use seed + 1).</summary>
    protected abstract ulong Seed { get; }

    /// <summary>The stepper over the model.</summary>
    protected abstract TStepper Stepper(TModel model);

    private static string Name => typeof(TModel).Name;

    private float[] Reference => new Reference(_model).Trace(_ring, _inputSize, CheckSteps, head: false);

    private void Create()
    {
        _model = Weights.Seeded<TModel>(Seed);
        _inputSize = _model.InputSize;
        _ring = Weights.Uniform(Steps * _inputSize, Seed + 1);
        _output = new float[_model.HiddenSize];
    }

    /// <summary>ModelGen, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(ModelGen_Step))]
    public void SetupModelGen()
    {
        Create();
        _stepper = Stepper(_model);
        _model.ResetState();
        var trace = new float[CheckSteps * _output.Length];
        for (int t = 0; t < CheckSteps; t++)
        {
            _stepper.Step(_ring.AsSpan(t % Steps * _inputSize, _inputSize), _output);
            _output.CopyTo(trace, t * _output.Length);
        }
        _model.ResetState();
        Agreement.Require(Name, "ModelGen Step vs float64 reference", trace, Reference);
    }

    /// <summary>TorchSharp, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(TorchSharp_Step))]
    public void SetupTorchSharp()
    {
        Create();
        _torch = new TorchStepper(_model, _ring, withHead: false);
        Agreement.Require(Name, "TorchSharp nn." + _model.Cell.ToString().ToUpperInvariant() + " vs float64 reference", _torch.Trace(CheckSteps), Reference);
    }

    /// <summary>RTNeural, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(RTNeural_Step))]
    public void SetupRtNeural()
    {
        Create();
        _rtNeural = RtNeuralPeer.Create(_model, _ring);
        Agreement.Require(Name, "RTNeural ModelT vs float64 reference", _rtNeural.Trace(CheckSteps, _output.Length), Reference);
    }

    /// <summary>ModelGen: <c>model.Step(x, h)</c>.</summary>
    [Benchmark(OperationsPerInvoke = Steps), BenchmarkCategory("modelgen"), ModelGenReference]
    public void ModelGen_Step()
    {
        TStepper stepper = _stepper;
        float[] ring = _ring, output = _output;
        int inputSize = _inputSize;
        for (int t = 0; t < Steps; t++) stepper.Step(ring.AsSpan(t * inputSize, inputSize), output);
    }

    /// <summary>TorchSharp: <c>rnn.forward(x, state)</c> on a <c>[1, 1, I]</c> tensor under no_grad, the state carried.</summary>
    [Benchmark(OperationsPerInvoke = Steps), BenchmarkCategory("torch")]
    public void TorchSharp_Step() => _torch!.Run(Steps);

    /// <summary>RTNeural: <c>model.forward(x)</c> of its compile-time ModelT, the loop in C++.</summary>
    [Benchmark(OperationsPerInvoke = Steps), BenchmarkCategory("rtneural")]
    public double RTNeural_Step() => _rtNeural!.Run(Steps);

    /// <summary>Releases the peers.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _torch?.Dispose();
        _rtNeural?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Lstm4's Step.</summary>
public readonly struct Lstm4Stepper(Lstm4 model) : IStepper
{
    /// <inheritdoc/>
    public void Step(ReadOnlySpan<float> input, Span<float> output) => model.Step(input, output);
}

/// <summary>Lstm16's Step.</summary>
public readonly struct Lstm16Stepper(Lstm16 model) : IStepper
{
    /// <inheritdoc/>
    public void Step(ReadOnlySpan<float> input, Span<float> output) => model.Step(input, output);
}

/// <summary>Lstm32's Step.</summary>
public readonly struct Lstm32Stepper(Lstm32 model) : IStepper
{
    /// <inheritdoc/>
    public void Step(ReadOnlySpan<float> input, Span<float> output) => model.Step(input, output);
}

/// <summary>Lstm64's Step.</summary>
public readonly struct Lstm64Stepper(Lstm64 model) : IStepper
{
    /// <inheritdoc/>
    public void Step(ReadOnlySpan<float> input, Span<float> output) => model.Step(input, output);
}

/// <summary>Gru16's Step.</summary>
public readonly struct Gru16Stepper(Gru16 model) : IStepper
{
    /// <inheritdoc/>
    public void Step(ReadOnlySpan<float> input, Span<float> output) => model.Step(input, output);
}

/// <summary>Gru64's Step.</summary>
public readonly struct Gru64Stepper(Gru64 model) : IStepper
{
    /// <inheritdoc/>
    public void Step(ReadOnlySpan<float> input, Span<float> output) => model.Step(input, output);
}

/// <summary>LSTM, I = H = 4.</summary>
[BenchmarkCategory("step"), Flop(4, 1, 1, 4, 4, 1, 0, false)]
public class StepLstm4 : StepBenchmark<Lstm4, Lstm4Stepper>
{
    /// <inheritdoc/>
    protected override ulong Seed => 4;

    /// <inheritdoc/>
    protected override Lstm4Stepper Stepper(Lstm4 model) => new(model);
}

/// <summary>LSTM, I = H = 16.</summary>
[BenchmarkCategory("step"), Flop(4, 1, 1, 16, 16, 1, 0, false)]
public class StepLstm16 : StepBenchmark<Lstm16, Lstm16Stepper>
{
    /// <inheritdoc/>
    protected override ulong Seed => 16;

    /// <inheritdoc/>
    protected override Lstm16Stepper Stepper(Lstm16 model) => new(model);
}

/// <summary>LSTM, I = H = 32.</summary>
[BenchmarkCategory("step"), Flop(4, 1, 1, 32, 32, 1, 0, false)]
public class StepLstm32 : StepBenchmark<Lstm32, Lstm32Stepper>
{
    /// <inheritdoc/>
    protected override ulong Seed => 32;

    /// <inheritdoc/>
    protected override Lstm32Stepper Stepper(Lstm32 model) => new(model);
}

/// <summary>LSTM, I = H = 64.</summary>
[BenchmarkCategory("step"), Flop(4, 1, 1, 64, 64, 1, 0, false)]
public class StepLstm64 : StepBenchmark<Lstm64, Lstm64Stepper>
{
    /// <inheritdoc/>
    protected override ulong Seed => 64;

    /// <inheritdoc/>
    protected override Lstm64Stepper Stepper(Lstm64 model) => new(model);
}

/// <summary>GRU, I = H = 16.</summary>
[BenchmarkCategory("step"), Flop(3, 1, 1, 16, 16, 1, 0, false)]
public class StepGru16 : StepBenchmark<Gru16, Gru16Stepper>
{
    /// <inheritdoc/>
    protected override ulong Seed => 116;

    /// <inheritdoc/>
    protected override Gru16Stepper Stepper(Gru16 model) => new(model);
}

/// <summary>GRU, I = H = 64.</summary>
[BenchmarkCategory("step"), Flop(3, 1, 1, 64, 64, 1, 0, false)]
public class StepGru64 : StepBenchmark<Gru64, Gru64Stepper>
{
    /// <inheritdoc/>
    protected override ulong Seed => 164;

    /// <inheritdoc/>
    protected override Gru64Stepper Stepper(Gru64 model) => new(model);
}
