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
        _torch = LinearPeer.Of(_graph);
        _torch.eval();
        _x = torch.tensor(_input, [Batch, Steps, _graph.InputSize]);
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

/// <summary>TorchSharp's nn.Linear holding a one-Linear graph's parameters.</summary>
internal static class LinearPeer
{
    /// <summary>nn.Linear(In, Out) with the graph's weight <c>[Out, In]</c> and bias (state_dict order).</summary>
    public static TorchLinear Of(IFeatureSequenceModel graph)
    {
        TorchPeer.SingleThread();
        int inF = graph.InputSize, outF = graph.OutputSize;
        TorchLinear linear = nn.Linear(inF, outF);
        using var noGrad = torch.no_grad();
        ReadOnlySpan<float> p = graph.Parameters;
        using var weight = torch.tensor(p[..(outF * inF)].ToArray(), [outF, inF]);
        using var bias = torch.tensor(p[(outF * inF)..].ToArray(), [outF]);
        linear.weight!.copy_(weight);
        linear.bias!.copy_(bias);
        return linear;
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

/// <summary>
/// The logits layer's training step over the same batch: zero the gradients, the forward with records, the backward
/// from dL/dy (of a mean over the rows) into dW, db and dx, against TorchSharp's <c>zero_grad</c>, forward,
/// <c>backward</c> (x requires its gradient, so both compute all three).
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("linear"), Flop(16 * 64, 128, 78, training: true)]
public class LinearLogitsTrain : IDisposable
{
    private const int Batch = 16, Steps = 64, Rows = Batch * Steps;
    private readonly LinearLogits128x78 _graph = new();
    private float[] _input = [], _output = [], _upstream = [], _inputGradient = [];
    private TorchLinear? _torch;
    private Tensor? _x, _dy;

    private void Create()
    {
        _graph.InitializeParameters(11);
        _input = Weights.Uniform(Rows * LinearLogits128x78.InputSize, 12);
        _upstream = [.. Weights.Uniform(Rows * LinearLogits128x78.OutputSize, 13).Select(g => g / Rows)];
        _output = new float[_upstream.Length];
        _inputGradient = new float[_input.Length];
    }

    /// <summary>ModelGen's step, whose gradients the TorchSharp setup checks its own against.</summary>
    [GlobalSetup(Target = nameof(ModelGen_TrainStep))]
    public void SetupModelGen()
    {
        Create();
        ModelGen_TrainStep();
    }

    /// <summary>TorchSharp's step, its dW, db and dx checked against ModelGen's from the same weights and data.</summary>
    [GlobalSetup(Target = nameof(TorchSharp_TrainStep))]
    public void SetupTorch()
    {
        Create();
        ModelGen_TrainStep();
        _torch = LinearPeer.Of(_graph);
        _x = torch.tensor(_input, [Batch, Steps, LinearLogits128x78.InputSize]).requires_grad_(true);
        _dy = torch.tensor(_upstream, [Batch, Steps, LinearLogits128x78.OutputSize]);
        TorchSharp_TrainStep();
        int weights = LinearLogits128x78.OutputSize * LinearLogits128x78.InputSize;
        Agreement.Require(nameof(LinearLogitsTrain), "TorchSharp weight.grad vs ModelGen", _torch.weight!.grad!.data<float>().ToArray(), _graph.Gradients[..weights]);
        Agreement.Require(nameof(LinearLogitsTrain), "TorchSharp bias.grad vs ModelGen", _torch.bias!.grad!.data<float>().ToArray(), _graph.Gradients[weights..]);
        Agreement.Require(nameof(LinearLogitsTrain), "TorchSharp x.grad vs ModelGen", _x.grad!.data<float>().ToArray(), _inputGradient);
    }

    /// <summary><c>ZeroGradients</c>, <c>TrainForward</c>, <c>Backward(dy, dx)</c>.</summary>
    [Benchmark, BenchmarkCategory("modelgen"), ModelGenReference]
    public void ModelGen_TrainStep()
    {
        _graph.ZeroGradients();
        _graph.TrainForward(_input, Batch, _output);
        _graph.Backward(_upstream, _inputGradient);
    }

    /// <summary><c>zero_grad</c> (and x's), <c>forward</c>, <c>y.backward(dy)</c>.</summary>
    [Benchmark, BenchmarkCategory("torch")]
    public void TorchSharp_TrainStep()
    {
        _torch!.zero_grad();
        _x!.grad?.zero_();
        using Tensor y = _torch.forward(_x);
        y.backward([_dy!]);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _x?.Dispose();
        _dy?.Dispose();
        _torch?.Dispose();
        GC.SuppressFinalize(this);
    }
}
