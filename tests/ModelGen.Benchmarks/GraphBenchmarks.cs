using BenchmarkDotNet.Attributes;

namespace ModelGen.Benchmarks;

// 5. Graph models: bench_small declared as a [SequenceModel] graph of modules (Models.cs) beside the one-line
// [LstmModel] of the same modules, on the same weights: what a module chain costs beyond its kernels. Each pair runs
// the same kernels, so the difference of the two means is the graph's own schedule (its slices of the arena, a copy
// of each module's output and state, its checks). Every setup checks its results first: the whole sequence against
// PyTorch's y in the bench file, the steps against the float64 reference, the training step's loss and every
// gradient of the graph against the one-line model's.

/// <summary>One streaming step with the head: the one-line model's <c>StepPredict</c> vs the graph's <c>Step</c> (LSTM, Linear).</summary>
[MemoryDiagnoser]
[BenchmarkCategory("graph"), Flop(4, 1, 1, 8, 32, 1, 4, false)]
public class GraphStepSmall
{
    private const int Steps = 32, CheckSteps = 64, InputSize = BenchSmallModel.InputSize, OutputSize = BenchSmallModel.OutputSize;
    private readonly float[] _prediction = new float[OutputSize];
    private BenchSmallModel _model = null!;
    private BenchSmallStreamGraph _graph = null!;
    private float[] _ring = [];

    private void Create()
    {
        BenchCase bench = BenchCase.Load("bench_small");
        _model = Weights.FromBenchFile<BenchSmallModel>(bench);
        _graph = new BenchSmallStreamGraph();
        using (FileStream file = File.OpenRead(bench.SafetensorsPath)) _graph.LoadSafetensors(file);
        _ring = Weights.Uniform(Steps * InputSize, 8);
    }

    private delegate void StepInto(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Checks the first 64 steps over the ring against the float64 reference, from a zero state and back to one.</summary>
    private void Check(string what, Action reset, StepInto step)
    {
        var trace = new float[CheckSteps * OutputSize];
        reset();
        for (int t = 0; t < CheckSteps; t++) step(_ring.AsSpan(t % Steps * InputSize, InputSize), trace.AsSpan(t * OutputSize, OutputSize));
        reset();
        Agreement.Require("bench_small", what + " vs float64 reference", trace, new Reference(_model).Trace(_ring, InputSize, CheckSteps, head: true));
    }

    /// <summary>The one-line model, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(ModelGen_StepPredict))]
    public void SetupModel()
    {
        Create();
        Check("ModelGen StepPredict", () => _model.ResetState(), _model.StepPredict);
    }

    /// <summary>The graph, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(Graph_Step))]
    public void SetupGraph()
    {
        Create();
        Check("graph Step", () => _graph.ResetState(), _graph.Step);
    }

    /// <summary>The one-line model: <c>model.StepPredict(x, y)</c>.</summary>
    [Benchmark(OperationsPerInvoke = Steps), BenchmarkCategory("modelgen"), ModelGenReference]
    public void ModelGen_StepPredict()
    {
        BenchSmallModel model = _model;
        float[] ring = _ring, prediction = _prediction;
        for (int t = 0; t < Steps; t++) model.StepPredict(ring.AsSpan(t * InputSize, InputSize), prediction);
    }

    /// <summary>The graph: <c>graph.Step(x, y)</c>, the LSTM's step and the Linear on its h.</summary>
    [Benchmark(OperationsPerInvoke = Steps), BenchmarkCategory("modelgen")]
    public void Graph_Step()
    {
        BenchSmallStreamGraph graph = _graph;
        float[] ring = _ring, prediction = _prediction;
        for (int t = 0; t < Steps; t++) graph.Step(ring.AsSpan(t * InputSize, InputSize), prediction);
    }
}

/// <summary>A whole sequence (T = 32): the one-line model's <c>PredictLast</c> vs the graph's <c>Forward</c> (LSTM, last step, Linear).</summary>
[MemoryDiagnoser]
[TimeSteps(32)]
[BenchmarkCategory("graph"), Flop(4, 1, 32, 8, 32, 1, 4, false)]
public class GraphSequenceSmall
{
    private BenchCase _bench = null!;
    private BenchSmallModel _model = null!;
    private BenchSmallGraph _graph = null!;
    private readonly float[] _prediction = new float[BenchSmallModel.OutputSize];

    private void Create()
    {
        _bench = BenchCase.Load("bench_small");
        _model = Weights.FromBenchFile<BenchSmallModel>(_bench);
        _graph = new BenchSmallGraph();
        using FileStream file = File.OpenRead(_bench.SafetensorsPath);
        _graph.LoadSafetensors(file);
    }

    /// <summary>The one-line model, checked against PyTorch's y.</summary>
    [GlobalSetup(Target = nameof(ModelGen_PredictLast))]
    public void SetupModel()
    {
        Create();
        ModelGen_PredictLast();
        _bench.Check("ModelGen PredictLast", _prediction);
    }

    /// <summary>The graph, checked against PyTorch's y.</summary>
    [GlobalSetup(Target = nameof(Graph_Forward))]
    public void SetupGraph()
    {
        Create();
        Graph_Forward();
        _bench.Check("graph Forward", _prediction);
    }

    /// <summary>The one-line model: <c>PredictLast</c> over the T steps.</summary>
    [Benchmark, BenchmarkCategory("modelgen"), ModelGenReference]
    public void ModelGen_PredictLast() => _model.PredictLast(_bench.Input, 1, _prediction);

    /// <summary>The graph: <c>Forward</c> over the T steps.</summary>
    [Benchmark, BenchmarkCategory("modelgen")]
    public void Graph_Forward() => _graph.Forward(_bench.Input, 1, _prediction);
}

/// <summary>
/// One training step, B = 16, T = 32 (bench_small's shape, <see cref="TrainSmall"/>'s data): the one-line model vs the
/// graph, each ZeroGradients + training forward + MeanSquaredError + Backward + Adam.Step.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("graph"), Flop(4, 16, 32, 8, 32, 1, 4, true)]
public class GraphTrainSmall
{
    private const int Batch = 16, Steps = 32;
    private BenchSmallModel _model = null!;
    private BenchSmallGraph _graph = null!;
    private Adam _adam = null!;
    private float[] _input = [], _target = [], _prediction = [], _gradient = [];

    private void Create()
    {
        _model = Weights.Seeded<BenchSmallModel>(7);
        _graph = new BenchSmallGraph();
        using (var weights = new MemoryStream())
        {
            _model.SaveSafetensors(weights);
            weights.Position = 0;
            _graph.LoadSafetensors(weights);
        }
        _input = Weights.Uniform(Batch * Steps * BenchSmallModel.InputSize, 11);
        _target = Weights.Uniform(Batch * BenchSmallModel.OutputSize, 12);
        _prediction = new float[_target.Length];
        _gradient = new float[_target.Length];
        _adam = new Adam(BenchSmallModel.ParameterCount, 1e-3f);
    }

    /// <summary>The one-line model, its predictions checked against the float64 reference (first and last sequence).</summary>
    [GlobalSetup(Target = nameof(ModelGen_TrainStep))]
    public void SetupModel()
    {
        Create();
        OneLineTraining.CheckPredictions("bench_small B=16 T=32", _model, _input, Batch, _prediction);
    }

    /// <summary>The graph, its loss and every gradient checked against the one-line model's from the same weights.</summary>
    [GlobalSetup(Target = nameof(Graph_TrainStep))]
    public void SetupGraph()
    {
        Create();
        _model.ZeroGradients();
        _model.TrainPredictLast(_input, Batch, _prediction);
        float modelLoss = Losses.MeanSquaredError(_prediction, _target, _gradient);
        _model.Backward(_gradient, default, default, default);
        _graph.ZeroGradients();
        _graph.TrainForward(_input, Batch, _prediction);
        float graphLoss = Losses.MeanSquaredError(_prediction, _target, _gradient);
        _graph.Backward(_gradient);
        Agreement.Require("bench_small B=16 T=32", "graph mse_loss vs ModelGen", graphLoss, modelLoss);
        foreach (ParameterInfo info in BenchSmallGraph.ParameterTable)
        {
            ParameterInfo same = BenchSmallModel.ParameterTable.Single(p => p.Name == info.Name);
            Agreement.Require("bench_small B=16 T=32", $"graph {info.Name}.grad vs ModelGen",
                _graph.Gradients.Slice(info.Offset, info.Length), _model.Gradients.Slice(same.Offset, same.Length));
        }
    }

    /// <summary>The one-line model: ZeroGradients + TrainPredictLast + MeanSquaredError + Backward + Adam.Step.</summary>
    [Benchmark, BenchmarkCategory("modelgen"), ModelGenReference]
    public float ModelGen_TrainStep() => OneLineTraining.Step(_model, _adam, _input, Batch, _target, _prediction, _gradient);

    /// <summary>The graph: ZeroGradients + TrainForward + MeanSquaredError + Backward + Adam.Step.</summary>
    [Benchmark, BenchmarkCategory("modelgen")]
    public float Graph_TrainStep()
    {
        _graph.ZeroGradients();
        _graph.TrainForward(_input, Batch, _prediction);
        float loss = Losses.MeanSquaredError(_prediction, _target, _gradient);
        _graph.Backward(_gradient);
        _adam.Step(_graph);
        return loss;
    }
}
