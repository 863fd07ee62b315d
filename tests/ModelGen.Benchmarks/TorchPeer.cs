using TorchSharp;
using static TorchSharp.torch;
using TorchLinear = TorchSharp.Modules.Linear;
using TorchLstm = TorchSharp.Modules.LSTM;
using TorchGru = TorchSharp.Modules.GRU;

namespace ModelGen.Benchmarks;

// The TorchSharp peer (libtorch 2.10 on the CPU, one intra-op and one inter-op thread): nn.LSTM / nn.GRU / nn.Linear
// holding a ModelGen model's parameters, copied by PyTorch name.

/// <summary>libtorch's threads and the copy of parameters by name.</summary>
public static class TorchPeer
{
    private static bool s_singleThread;

    /// <summary><c>torch.set_num_threads(1)</c> and <c>torch.set_num_interop_threads(1)</c>, once per process.</summary>
    public static void SingleThread()
    {
        if (s_singleThread) return;
        torch.set_num_threads(1);
        torch.set_num_interop_threads(1);
        s_singleThread = true;
    }

    /// <summary>
    /// Copies every tensor of <paramref name="model"/> into the module's parameter of the name that
    /// <paramref name="rename"/> maps it to (<c>rnn.weight_ih_l0</c> → <c>weight_ih_l0</c> for a bare nn.LSTM; null:
    /// not this module's); throws unless every module parameter receives one.
    /// </summary>
    public static void Load(nn.Module module, IRecurrentModel model, Func<string, string?> rename)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(model);
        var byName = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = torch.no_grad();
        foreach (ParameterInfo info in model.ParameterTable)
        {
            string? name = rename(info.Name);
            if (name is null) continue;
            if (!byName.Remove(name, out var parameter))
            {
                throw new InvalidOperationException($"The TorchSharp module has no parameter '{name}'.");
            }
            using var source = torch.tensor(model.GetParameter(info.Name).ToArray(), [.. info.Shape.Select(d => (long)d)]);
            parameter.copy_(source);
        }
        if (byName.Count > 0) throw new InvalidOperationException($"TorchSharp parameters not loaded: {string.Join(", ", byName.Keys)}.");
    }
}

/// <summary>
/// nn.LSTM or nn.GRU (batch_first, one layer), optionally followed by nn.Linear, called one step at a time with its
/// state carried from call to call, under no_grad: the streaming loop a TorchSharp user writes.
/// </summary>
public sealed class TorchStepper : IDisposable
{
    private readonly TorchLstm? _lstm;
    private readonly TorchGru? _gru;
    private readonly TorchLinear? _head;
    private readonly Tensor[] _ring;
    private readonly int _hidden;
    private Tensor _h, _c, _y;
    private int _next;

    /// <summary>The model's recurrent layer (and head, when <paramref name="withHead"/>), over a ring of inputs <c>[rows, I]</c>.</summary>
    public TorchStepper(IRecurrentModel model, float[] ring, bool withHead)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ring);
        TorchPeer.SingleThread();
        _hidden = model.HiddenSize;
        nn.Module recurrent = model.Cell == CellKind.Lstm
            ? _lstm = nn.LSTM(model.InputSize, model.HiddenSize, batchFirst: true)
            : _gru = nn.GRU(model.InputSize, model.HiddenSize, batchFirst: true);
        recurrent.eval();
        TorchPeer.Load(recurrent, model, n => n.StartsWith("rnn.", StringComparison.Ordinal) ? n["rnn.".Length..] : null);
        if (withHead)
        {
            _head = nn.Linear(model.HiddenSize, model.OutputSize);
            _head.eval();
            TorchPeer.Load(_head, model, n => n.StartsWith("head.", StringComparison.Ordinal) ? n["head.".Length..] : null);
        }
        int rows = ring.Length / model.InputSize;
        _ring = new Tensor[rows];
        for (int r = 0; r < rows; r++) _ring[r] = torch.tensor(ring.AsSpan(r * model.InputSize, model.InputSize).ToArray(), [1, 1, model.InputSize]);
        _h = torch.zeros(1, 1, _hidden);
        _c = torch.zeros(1, 1, _hidden);
        _y = torch.zeros(1, 1, withHead ? model.OutputSize : _hidden);
    }

    /// <summary>Zeros the state and restarts the ring.</summary>
    public void Reset()
    {
        _h.Dispose();
        _c.Dispose();
        _h = torch.zeros(1, 1, _hidden);
        _c = torch.zeros(1, 1, _hidden);
        _next = 0;
    }

    /// <summary><paramref name="steps"/> steps over the ring, the state carried on.</summary>
    public void Run(int steps)
    {
        using var noGrad = torch.no_grad();
        for (int s = 0; s < steps; s++)
        {
            StepOnce(_ring[_next]);
            if (++_next == _ring.Length) _next = 0;
        }
    }

    /// <summary>From a reset state, the outputs (h, or head(h)) of <paramref name="steps"/> steps; resets again after.</summary>
    public float[] Trace(int steps)
    {
        Reset();
        var trace = new List<float>();
        using (torch.no_grad())
        {
            for (int s = 0; s < steps; s++)
            {
                StepOnce(_ring[s % _ring.Length]);
                trace.AddRange(_y.data<float>().ToArray());
            }
        }
        Reset();
        return [.. trace];
    }

    private void StepOnce(Tensor x)
    {
        Tensor output;
        if (_lstm is not null)
        {
            var (y, hn, cn) = _lstm.forward(x, (_h, _c));
            _h.Dispose();
            _c.Dispose();
            (output, _h, _c) = (y, hn, cn);
        }
        else
        {
            var (y, hn) = _gru!.forward(x, _h);
            _h.Dispose();
            (output, _h) = (y, hn);
        }
        _y.Dispose();
        if (_head is null)
        {
            _y = output;
        }
        else
        {
            _y = _head.forward(output);
            output.Dispose();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (Tensor t in _ring) t.Dispose();
        _h.Dispose();
        _c.Dispose();
        _y.Dispose();
        _lstm?.Dispose();
        _gru?.Dispose();
        _head?.Dispose();
    }
}

/// <summary><c>nn.LSTM(I, H, num_layers=L, batch_first=True)</c> + <c>nn.Linear(H, O)</c> on the last step: PyTorch's <c>head(rnn(x)[0][:, -1])</c>.</summary>
public sealed class TorchNet : nn.Module<Tensor, Tensor>
{
    private readonly TorchLstm rnn;
    private readonly TorchLinear head;

    /// <summary>The layers of <paramref name="model"/>'s shape, holding its parameters.</summary>
    public TorchNet(IHeadModel model) : base("net")
    {
        ArgumentNullException.ThrowIfNull(model);
        TorchPeer.SingleThread();
        rnn = nn.LSTM(model.InputSize, model.HiddenSize, numLayers: model.NumLayers, batchFirst: true);
        head = nn.Linear(model.HiddenSize, model.OutputSize);
        RegisterComponents();
        TorchPeer.Load(this, model, n => n);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        var (y, hn, cn) = rnn.forward(input);
        hn.Dispose();
        cn.Dispose();
        using Tensor last = y.select(1, -1);
        y.Dispose();
        return head.forward(last);
    }
}

/// <summary>bench_small's whole sequence under no_grad: one <see cref="TorchNet"/> forward.</summary>
public sealed class TorchSequence : IDisposable
{
    private readonly TorchNet _net;
    private readonly Tensor _input;

    /// <summary>The model's parameters; <paramref name="input"/> <c>[1, T, I]</c>.</summary>
    public TorchSequence(IHeadModel model, float[] input)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        _net = new TorchNet(model);
        _net.eval();
        _input = torch.tensor(input, [1, input.Length / model.InputSize, model.InputSize]);
    }

    /// <summary>One forward; returns y <c>[1, O]</c>.</summary>
    public float[] Predict()
    {
        using var noGrad = torch.no_grad();
        using Tensor y = _net.forward(_input);
        return y.data<float>().ToArray();
    }

    /// <summary>One forward, the result dropped.</summary>
    public void Run()
    {
        using var noGrad = torch.no_grad();
        _net.forward(_input).Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _input.Dispose();
        _net.Dispose();
    }
}

/// <summary>One optimisation step as a PyTorch training loop writes it: zero_grad, forward, mse_loss, backward, Adam step.</summary>
public sealed class TorchTrainer : IDisposable
{
    private readonly TorchNet _net;
    private readonly optim.Optimizer _adam;
    private readonly Tensor _input, _target;

    /// <summary>The model's parameters, <paramref name="input"/> <c>[B, T, I]</c>, <paramref name="target"/> <c>[B, O]</c>, Adam with lr 1e-3.</summary>
    public TorchTrainer(IHeadModel model, float[] input, float[] target, int batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        _net = new TorchNet(model);
        _net.train();
        _adam = optim.Adam(_net.parameters(), lr: 1e-3);
        _input = torch.tensor(input, [batch, input.Length / batch / model.InputSize, model.InputSize]);
        _target = torch.tensor(target, [batch, model.OutputSize]);
    }

    /// <summary>zero_grad, forward, mse_loss, backward and (when <paramref name="step"/>) Adam's step; returns the loss.</summary>
    public float Step(bool step = true)
    {
        using var scope = torch.NewDisposeScope();
        _adam.zero_grad();
        Tensor loss = nn.functional.mse_loss(_net.forward(_input), _target);
        loss.backward();
        if (step) _adam.step();
        return loss.item<float>();
    }

    /// <summary>The gradient of each parameter, by PyTorch name, as the last <see cref="Step"/> left it.</summary>
    public float[] Gradient(string name) => _net.named_parameters().Single(p => p.name == name).parameter.grad!.data<float>().ToArray();

    /// <inheritdoc/>
    public void Dispose()
    {
        _input.Dispose();
        _target.Dispose();
        _adam.Dispose();
        _net.Dispose();
    }
}
