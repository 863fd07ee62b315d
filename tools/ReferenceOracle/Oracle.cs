using TorchSharp;
using static TorchSharp.torch;

namespace ReferenceOracle;

/// <summary>Everything a seq2seq reference file holds beyond its parameters and inputs, recomputed by libtorch.</summary>
public static class Oracle
{
    public static readonly string[] InputNames = ["src_tokens", "src_lengths", "tgt_in", "tgt_lengths", "tgt_out", "target"];

    public static Tensor ToTensor(Blob b, ScalarType dtype) => b.DType == "F32"
        ? torch.tensor(b.F32!, b.Shape).to(dtype)
        : torch.tensor(b.I32!, b.Shape).to(dtype);

    public static Blob ToBlob(Tensor t) => t.dtype switch
    {
        ScalarType.Int32 or ScalarType.Int64 => Blob.Int(t.to(ScalarType.Int32).contiguous().data<int>().ToArray(), t.shape),
        _ => Blob.Float(t.detach().to(ScalarType.Float32).contiguous().data<float>().ToArray(), t.shape),
    };

    public static Batch BatchOf(IReadOnlyDictionary<string, Blob> f) => new(
        ToTensor(f["src_tokens"], ScalarType.Int64), ToTensor(f["src_lengths"], ScalarType.Int64),
        ToTensor(f["tgt_in"], ScalarType.Int64), ToTensor(f["tgt_lengths"], ScalarType.Int64));

    /// <summary>A model of the graph whose parameters are the file's (float32 values), in the given dtype.</summary>
    public static Seq2Seq Load(string graph, IReadOnlyDictionary<string, Blob> f, ScalarType dtype)
    {
        var m = new Seq2Seq(graph);
        using (torch.no_grad())
        {
            foreach (var (name, p) in m.named_parameters())
            {
                if (!f.TryGetValue(name, out var blob)) throw new InvalidDataException($"the file has no parameter '{name}'");
                if (!blob.Shape.SequenceEqual(p.shape)) throw new InvalidDataException($"{name}: shape [{string.Join(",", blob.Shape)}] vs module [{string.Join(",", p.shape)}]");
                p.copy_(ToTensor(blob, ScalarType.Float32));
            }
        }
        m.to(dtype);
        return m;
    }

    public static List<string> ParameterNames(Seq2Seq m) => m.named_parameters().Select(p => p.name).ToList();

    private static Tensor CrossEntropy(Tensor y, Tensor target) =>
        nn.functional.cross_entropy(y.reshape(-1, y.shape[^1]), target.reshape(-1), ignore_index: -100);

    private static void Adam3(Seq2Seq m, Batch b, Tensor target, Dictionary<string, Blob> into, string prefix, bool losses)
    {
        var opt = Environment.GetEnvironmentVariable("ORACLE_ADAM") == "torchsharp" ? optim.Adam(m.parameters(), lr: 0.01) : null;
        var mine = opt is null ? new PyTorchAdam(m.parameters().ToList(), 0.01) : null;
        var loss = new float[3];
        for (int s = 0; s < 3; s++)
        {
            opt?.zero_grad();
            mine?.ZeroGrad();
            var (y, _) = m.Forward(b);
            var l = CrossEntropy(y, target);
            loss[s] = l.dtype == ScalarType.Float32 ? l.item<float>() : (float)l.item<double>();
            l.backward();
            opt?.step();
            mine?.Step();
        }
        foreach (var (name, p) in m.named_parameters()) into[prefix + name] = ToBlob(p);
        if (losses) into[prefix + "loss"] = Blob.Float(loss, [3]);
    }

    /// <summary>y, attention, grad.*, ce.*, adam3.*, f32.adam3.* from the file's parameters, inputs and dy.</summary>
    public static Dictionary<string, Blob> Compute(string graph, IReadOnlyDictionary<string, Blob> f, List<string>? problems = null)
    {
        var r = new Dictionary<string, Blob>(StringComparer.Ordinal);
        var b = BatchOf(f);
        var target = ToTensor(f["target"], ScalarType.Int64);

        // y and the gradient of sum(y * dy), float64.
        var m = Load(graph, f, ScalarType.Float64);
        var (y, w) = m.Forward(b);
        r["y"] = ToBlob(y);
        if (w is not null) r["attention"] = ToBlob(w);
        var g = (y * ToTensor(f["dy"], ScalarType.Float64)).sum();
        g.backward();
        r["grad.loss"] = Blob.Float([(float)g.item<double>()], [1]);
        foreach (var (name, p) in m.named_parameters())
        {
            var grad = p.grad ?? torch.zeros_like(p);
            if (!torch.isfinite(grad).all().item<bool>()) problems?.Add($"grad.{name} is not finite");
            r["grad." + name] = ToBlob(grad);
        }

        // Mean cross-entropy of y against target (ignore_index -100) and its gradients, float64.
        m = Load(graph, f, ScalarType.Float64);
        var ce = CrossEntropy(m.Forward(b).Y, target);
        ce.backward();
        r["ce.loss"] = Blob.Float([(float)ce.item<double>()], [1]);
        foreach (var (name, p) in m.named_parameters())
        {
            var grad = p.grad ?? torch.zeros_like(p);
            if (!torch.isfinite(grad).all().item<bool>()) problems?.Add($"ce.grad.{name} is not finite");
            r["ce.grad." + name] = ToBlob(grad);
        }

        // Three Adam steps on that cross-entropy: float64, then float32.
        Adam3(Load(graph, f, ScalarType.Float64), b, target, r, "adam3.", losses: true);
        Adam3(Load(graph, f, ScalarType.Float32), b, target, r, "f32.adam3.", losses: false);
        return r;
    }

    /// <summary>With attention: the gradient of sum(y * dy) with respect to the encoder's memory, taken as a leaf.
    /// Returns (largest |grad| at masked source positions, whether every gradient is finite).</summary>
    public static (double MaskedMax, bool Finite) MaskedMemoryGradient(string graph, IReadOnlyDictionary<string, Blob> f)
    {
        var m = Load(graph, f, ScalarType.Float64);
        var b = BatchOf(f);
        var (mem, h, c) = m.Encode(b);
        var leaf = mem.detach().requires_grad_(true);
        var (y, _) = m.Decode(b, leaf, h.detach(), c?.detach());
        (y * ToTensor(f["dy"], ScalarType.Float64)).sum().backward();
        var grad = leaf.grad!;
        bool finite = torch.isfinite(grad).all().item<bool>()
            && m.named_parameters().All(p => p.parameter.grad is null || torch.isfinite(p.parameter.grad).all().item<bool>());
        var mask = Seq2Seq.SourceMask(b).squeeze(1).unsqueeze(-1).expand_as(grad);   // [B, Ts, K]
        double masked = grad.masked_select(mask).abs().max().item<double>();
        return (masked, finite);
    }
}

/// <summary>torch.optim.Adam as PyTorch 2.x runs it on CPU (`_single_tensor_adam`, no foreach, no fused, no
/// amsgrad, no weight decay), operation for operation.</summary>
public sealed class PyTorchAdam(List<TorchSharp.Modules.Parameter> parameters, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
{
    private readonly Tensor?[] _m = new Tensor?[parameters.Count], _v = new Tensor?[parameters.Count];
    private int _step;

    public void ZeroGrad()
    {
        foreach (var p in parameters) p.grad = null;
    }

    public void Step()
    {
        using var _ = torch.no_grad();
        _step++;
        double bc1 = 1 - Math.Pow(beta1, _step), bc2 = 1 - Math.Pow(beta2, _step);
        double stepSize = lr / bc1, bc2Sqrt = Math.Sqrt(bc2);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            var g = p.grad;
            if (g is null) continue;
            _m[i] ??= torch.zeros_like(p);
            _v[i] ??= torch.zeros_like(p);
            _m[i]!.lerp_(g, torch.tensor(1 - beta1, dtype: p.dtype));
            _v[i]!.mul_(beta2).addcmul_(g, g, 1 - beta2);
            var denom = (_v[i]!.sqrt() / bc2Sqrt).add_(eps);
            p.addcdiv_(_m[i]!, denom, -stepSize);
        }
    }
}
