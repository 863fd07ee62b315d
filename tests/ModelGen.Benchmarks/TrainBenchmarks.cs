using BenchmarkDotNet.Attributes;

namespace ModelGen.Benchmarks;

// 3. One training step on one thread, on identical weights (PyTorch's default initialisation from a fixed seed)
// and data (uniform inputs and targets from fixed seeds):
//   ModelGen:   ZeroGradients, TrainPredictLast (forward with records), Losses.MeanSquaredError, Backward, Adam.Step
//   TorchSharp: zero_grad, forward, mse_loss, backward, Adam.step
// The ModelGen setup checks TrainPredictLast's predictions against the float64 reference; the TorchSharp setup runs
// one forward/backward of each from the same weights and checks that the losses and every gradient agree within
// 1e-5. The weights then move with every timed step (Adam, lr 1e-3) on both sides alike.

/// <summary>One training step of an LSTM + head, ModelGen vs TorchSharp.</summary>
[MemoryDiagnoser]
[BenchmarkCategory("train")]
public abstract class TrainBenchmark<TModel> : IDisposable where TModel : class, IHeadModel, new()
{
    private TModel _model = null!;
    private Adam _adam = null!;
    private float[] _input = [], _target = [], _prediction = [], _gradient = [];
    private TorchTrainer? _torch;

    /// <summary>B.</summary>
    protected abstract int Batch { get; }

    /// <summary>T.</summary>
    protected abstract int Steps { get; }

    private string Name => $"{typeof(TModel).Name} B={Batch} T={Steps}";

    private void Create()
    {
        _model = Weights.Seeded<TModel>(7);
        _input = Weights.Uniform(Batch * Steps * _model.InputSize, 11);
        _target = Weights.Uniform(Batch * _model.OutputSize, 12);
        _prediction = new float[Batch * _model.OutputSize];
        _gradient = new float[_prediction.Length];
        _adam = new Adam(_model.ParameterCount, 1e-3f);
    }

    /// <summary>ModelGen, its predictions checked against the float64 reference (first and last sequence of the batch).</summary>
    [GlobalSetup(Target = nameof(ModelGen_TrainStep))]
    public void SetupModelGen()
    {
        Create();
        OneLineTraining.CheckPredictions(Name, _model, _input, Batch, _prediction);
    }

    /// <summary>TorchSharp, its loss and gradients checked against ModelGen's from the same weights.</summary>
    [GlobalSetup(Target = nameof(TorchSharp_TrainStep))]
    public void SetupTorchSharp()
    {
        Create();
        _model.ZeroGradients();
        _model.TrainPredictLast(_input, Batch, _prediction);
        float loss = Losses.MeanSquaredError(_prediction, _target, _gradient);
        _model.Backward(_gradient, default, default, default);
        _torch = new TorchTrainer(_model, _input, _target, Batch);
        Agreement.Require(Name, "TorchSharp mse_loss vs ModelGen", _torch.Step(step: false), loss);
        foreach (ParameterInfo info in _model.ParameterTable)
        {
            Agreement.Require(Name, $"TorchSharp {info.Name}.grad vs ModelGen", _torch.Gradient(info.Name),
                _model.Gradients.Slice(info.Offset, info.Length));
        }
    }

    /// <summary>ModelGen: ZeroGradients + TrainPredictLast + MeanSquaredError + Backward + Adam.Step.</summary>
    [Benchmark, BenchmarkCategory("modelgen"), ModelGenReference]
    public float ModelGen_TrainStep() => OneLineTraining.Step(_model, _adam, _input, Batch, _target, _prediction, _gradient);

    /// <summary>TorchSharp: zero_grad + forward + mse_loss + backward + Adam.step.</summary>
    [Benchmark, BenchmarkCategory("torch")]
    public float TorchSharp_TrainStep() => _torch!.Step();

    /// <summary>Releases the peer.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _torch?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A one-line model's training step and the check of its predictions: the train and graph benchmarks time the same.</summary>
internal static class OneLineTraining
{
    /// <summary>ZeroGradients + TrainPredictLast + MeanSquaredError + Backward + Adam.Step; returns the loss.</summary>
    public static float Step(IHeadModel model, Adam adam, float[] input, int batch, float[] target, float[] prediction, float[] gradient)
    {
        model.ZeroGradients();
        model.TrainPredictLast(input, batch, prediction);
        float loss = Losses.MeanSquaredError(prediction, target, gradient);
        model.Backward(gradient, default, default, default);
        adam.Step(model);
        return loss;
    }

    /// <summary>TrainPredictLast, its first and last sequence's predictions checked against the float64 reference.</summary>
    public static void CheckPredictions(string benchmark, IHeadModel model, float[] input, int batch, float[] prediction)
    {
        model.TrainPredictLast(input, batch, prediction);
        var reference = new Reference(model);
        int outputs = model.OutputSize;
        foreach (int b in new[] { 0, batch - 1 })
        {
            Agreement.Require(benchmark, $"ModelGen TrainPredictLast row {b} vs float64 reference",
                prediction.AsSpan(b * outputs, outputs), reference.PredictLast(input, batch, b));
        }
    }
}

/// <summary>B = 16, T = 32, LSTM 8→32 + Linear 32→4 (bench_small's shape).</summary>
[BenchmarkCategory("train"), Flop(4, 16, 32, 8, 32, 1, 4, true)]
public class TrainSmall : TrainBenchmark<BenchSmallModel>
{
    /// <inheritdoc/>
    protected override int Batch => 16;

    /// <inheritdoc/>
    protected override int Steps => 32;
}

/// <summary>B = 64, T = 64, 2-layer LSTM 32→128 + Linear 128→10 (bench_medium's shape).</summary>
[BenchmarkCategory("train"), Flop(4, 64, 64, 32, 128, 2, 10, true)]
public class TrainMedium : TrainBenchmark<BenchMediumModel>
{
    /// <inheritdoc/>
    protected override int Batch => 64;

    /// <inheritdoc/>
    protected override int Steps => 64;
}
