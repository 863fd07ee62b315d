using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;
using TorchLinear = TorchSharp.Modules.Linear;

namespace ModelGen.Benchmarks;

// 6. The Linear module alone, as a graph's output layer runs it (a [SequenceModel] of one Linear, Models.cs), beside
// TorchSharp's nn.Linear on the same weights and inputs: one row per call, as a language model or a translation
// decoder computes its next token's logits while it generates (and the decoder combines h with its context), and a
// training batch's rows in one call (a language model's logits at every step of 16 sequences of 64). The setups
// check both against a float64 y = x Wᵀ + b.

/// <summary>One graph of a single <c>nn.Linear</c>, its <c>Forward</c> over B·T rows, against TorchSharp's.</summary>
[MemoryDiagnoser]
[BenchmarkCategory("linear")]
public abstract class LinearBenchmark<TGraph> : IDisposable where TGraph : IFeatureSequenceModel, new()
{
    private readonly TGraph _graph = new();
    private float[] _input = [], _output = [];
    private TorchLinear? _torch;
    private Tensor? _x;

    /// <summary>B of the call.</summary>
    protected abstract int Batch { get; }

    /// <summary>T of the call (rows = B·T).</summary>
    protected abstract int Steps { get; }

    private int Rows => Batch * Steps;

    private void Create()
    {
        _graph.InitializeParameters(11);
        _input = Weights.Uniform(Rows * _graph.InputSize, 12);
        _output = new float[Rows * _graph.OutputSize];
    }

    /// <summary>float64 <c>x Wᵀ + b</c> of the graph's parameters (weight <c>[Out, In]</c>, then bias, in state_dict order).</summary>
    private float[] Reference()
    {
        int inF = _graph.InputSize, outF = _graph.OutputSize;
        ReadOnlySpan<float> p = _graph.Parameters;
        var y = new float[Rows * outF];
        for (int r = 0; r < Rows; r++)
        {
            for (int o = 0; o < outF; o++)
            {
                double sum = p[outF * inF + o];
                for (int k = 0; k < inF; k++) sum += (double)p[o * inF + k] * _input[r * inF + k];
                y[r * outF + o] = (float)sum;
            }
        }
        return y;
    }

    /// <summary>The graph, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(ModelGen_Forward))]
    public void SetupModelGen()
    {
        Create();
        ModelGen_Forward();
        Agreement.Require(GetType().Name, "ModelGen Forward vs float64 reference", _output, Reference());
    }

    /// <summary>TorchSharp's nn.Linear with the graph's parameters, checked against the float64 reference.</summary>
    [GlobalSetup(Target = nameof(TorchSharp_Forward))]
    public void SetupTorch()
    {
        Create();
        TorchPeer.SingleThread();
        int inF = _graph.InputSize, outF = _graph.OutputSize;
        _torch = nn.Linear(inF, outF);
        _torch.eval();
        using (torch.no_grad())
        {
            ReadOnlySpan<float> p = _graph.Parameters;
            using var weight = torch.tensor(p[..(outF * inF)].ToArray(), [outF, inF]);
            using var bias = torch.tensor(p[(outF * inF)..].ToArray(), [outF]);
            _torch.weight!.copy_(weight);
            _torch.bias!.copy_(bias);
        }
        _x = torch.tensor(_input, [Batch, Steps, inF]);
        using (torch.no_grad())
        {
            using Tensor y = _torch.forward(_x);
            Agreement.Require(GetType().Name, "TorchSharp nn.Linear vs float64 reference", y.data<float>().ToArray(), Reference());
        }
    }

    /// <summary><c>graph.Forward(x, B, y)</c>.</summary>
    [Benchmark, BenchmarkCategory("modelgen"), ModelGenReference]
    public void ModelGen_Forward() => _graph.Forward(_input, Batch, _output);

    /// <summary><c>linear.forward(x)</c> under <c>no_grad</c> on a <c>[B, T, In]</c> tensor made once.</summary>
    [Benchmark, BenchmarkCategory("torch")]
    public void TorchSharp_Forward()
    {
        using var noGrad = torch.no_grad();
        using Tensor y = _torch!.forward(_x!);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _x?.Dispose();
        _torch?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A translation decoder's combination layer, <c>Linear(256, 128)</c>, on one row.</summary>
[BenchmarkCategory("linear"), Flop(1, 256, 128)]
public class LinearDecoderCombine : LinearBenchmark<LinearCombine256x128>
{
    /// <inheritdoc/>
    protected override int Batch => 1;

    /// <inheritdoc/>
    protected override int Steps => 1;
}

/// <summary>A character language model's output layer, <c>Linear(128, 78)</c>, on one row: the next character's logits.</summary>
[BenchmarkCategory("linear"), Flop(1, 128, 78)]
public class LinearLogitsStep : LinearBenchmark<LinearLogits128x78>
{
    /// <inheritdoc/>
    protected override int Batch => 1;

    /// <inheritdoc/>
    protected override int Steps => 1;
}

/// <summary>The same output layer over a training batch, B = 16 sequences of T = 64 steps (1,024 rows).</summary>
[BenchmarkCategory("linear"), Flop(16 * 64, 128, 78)]
public class LinearLogitsBatch : LinearBenchmark<LinearLogits128x78>
{
    /// <inheritdoc/>
    protected override int Batch => 16;

    /// <inheritdoc/>
    protected override int Steps => 64;
}
