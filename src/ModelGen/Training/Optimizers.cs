using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ModelGen.Kernels;

namespace ModelGen;

/// <summary>
/// An optimiser over a model's flat parameter and gradient buffers. Its state (momentum, moments, step count)
/// is allocated once by the constructor; <see cref="Step(ITrainableModel)"/> allocates nothing.
/// </summary>
/// <remarks>
/// Thread safety: not thread-safe; an optimiser (<see cref="Sgd"/>, <see cref="Adam"/>, <see cref="AdamW"/>) belongs
/// to the one thread that trains its model, and its steps must not overlap with calls on that model.
/// </remarks>
public abstract class Optimizer
{
    /// <summary>Creates the optimiser's state for <paramref name="parameterCount"/> parameters.</summary>
    protected Optimizer(int parameterCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parameterCount);
        ParameterCount = parameterCount;
    }

    /// <summary>Number of parameters the state is sized for.</summary>
    public int ParameterCount { get; }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>
    /// <c>lr</c> (<c>param_groups[0]["lr"]</c>), read by every step, so it may be changed between steps: by hand, or
    /// by a <see cref="LearningRateSchedule"/>.
    /// </summary>
    public float LearningRate { get; set; }

    /// <summary>One update of <paramref name="model"/>'s parameters from its gradients, through <see cref="ITrainableModel.EditParameters"/>.</summary>
    public void Step(ITrainableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Step(model.EditParameters(), model.Gradients);
    }

    /// <summary>One update of <paramref name="parameters"/> from <paramref name="gradients"/> (same length).</summary>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        if (parameters.Length != ParameterCount || gradients.Length != ParameterCount)
        {
            throw new ArgumentException(
                $"parameters/gradients: expected {ParameterCount} floats each, got {parameters.Length} and {gradients.Length}.");
        }
        StepCount++;
        Update(parameters, gradients, StepCount);
    }

    /// <summary>The update rule; <paramref name="step"/> counts from 1.</summary>
    protected abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, long step);

    /// <summary>The state tensors by name, for saving and restoring.</summary>
    protected abstract IEnumerable<(string Name, float[] Values)> StateTensors();

    /// <summary>Writes the state (step count and buffers) as safetensors.</summary>
    public void SaveState(Stream stream)
    {
        var writer = new SafetensorsWriter();
        writer.AddMetadata("optimizer", GetType().Name);
        writer.AddMetadata("step", StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach ((string name, float[] values) in StateTensors()) writer.Add(name, [values.Length], values);
        writer.WriteTo(stream);
    }

    /// <summary>
    /// The largest step count <see cref="LoadState"/> accepts, 2^53. Every count up to it converts to double
    /// exactly, so Adam's bias corrections <c>1 − βᵗ</c> (Math.Pow) see the true t; and counting on from it, one
    /// per step, overflows <see cref="StepCount"/> only after 2^63 − 2^53 ≈ 9.2·10^18 more steps (centuries at
    /// 10^9 steps a second), so no reachable count wraps.
    /// </summary>
    private const long MaxLoadedStep = 1L << 53;

    /// <summary>
    /// Restores state written by <see cref="SaveState"/> from an optimiser of the same kind and size. Every field
    /// is checked before anything changes: the kind, the step count (a decimal whole number from 0 to 2^53), each
    /// state tensor (present, F32, shape exactly [<see cref="ParameterCount"/>], values as
    /// <see cref="CheckStateValues"/> requires), and no other tensor or metadata entry.
    /// </summary>
    /// <exception cref="SafetensorsException">The state is malformed or does not fit this optimiser; nothing has changed.</exception>
    /// <exception cref="IOException">The stream cannot be read; nothing has changed.</exception>
    public void LoadState(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var state = StateTensors().ToDictionary(t => t.Name, t => t.Values, StringComparer.Ordinal);
        long step = 0;
        SafetensorsFile file = SafetensorsFile.Read(stream, header =>
        {
            step = CheckStateHeader(header, state);
            return state.Keys;
        });
        var loaded = new List<(float[] Values, float[] Target)>(state.Count);
        foreach ((string name, float[] target) in state)
        {
            float[] values = file[name].ToFloatArray();
            CheckStateValues(name, values);
            loaded.Add((values, target));
        }
        foreach ((float[] values, float[] target) in loaded) values.CopyTo(target, 0);
        StepCount = step;
    }

    /// <summary>
    /// Checks the values of a state tensor that <see cref="LoadState"/> read, before any state changes, and
    /// throws <see cref="SafetensorsException"/> naming the tensor and the element at fault. Every value must be
    /// finite; an override may add rules of its own.
    /// </summary>
    protected virtual void CheckStateValues(string name, ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new SafetensorsException($"Tensor '{name}' element {i} is {Format(values[i])}, expected a finite value.");
            }
        }
    }

    private protected static string Format(float value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Checks the metadata and the state tensors' names, dtypes and shapes; returns the step count.</summary>
    private long CheckStateHeader(SafetensorsHeader header, Dictionary<string, float[]> state)
    {
        if (!header.Metadata.TryGetValue("optimizer", out string? kind) || kind != GetType().Name)
        {
            throw new SafetensorsException($"Optimizer state is for '{(kind is null ? "(none)" : Shorten(kind))}', expected {GetType().Name}.");
        }
        // NumberStyles.None: digits only, where the default would also take a sign and surrounding white space.
        if (!header.Metadata.TryGetValue("step", out string? stepText)
            || !long.TryParse(stepText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long step)
            || step > MaxLoadedStep)
        {
            throw new SafetensorsException(
                $"Optimizer state field 'step' is {(stepText is null ? "missing" : $"'{Shorten(stepText)}'")}, expected a whole number from 0 to {MaxLoadedStep} (2^53).");
        }
        foreach (string key in header.Metadata.Keys)
        {
            if (key is not ("optimizer" or "step"))
            {
                throw new SafetensorsException($"Optimizer state has an unexpected __metadata__ entry '{Shorten(key)}'; only 'optimizer' and 'step' belong there.");
            }
        }
        foreach (string name in state.Keys)
        {
            if (!header.Tensors.TryGetValue(name, out SafetensorsTensorInfo? tensor))
            {
                throw new SafetensorsException($"Optimizer state lacks tensor '{name}' (F32 [{ParameterCount}]).");
            }
            if (tensor.DType != "F32" || tensor.Shape.Length != 1 || tensor.Shape[0] != ParameterCount)
            {
                throw new SafetensorsException($"Tensor '{name}' is {tensor.DType} {tensor.ShapeText}, expected F32 [{ParameterCount}].");
            }
        }
        foreach (SafetensorsTensorInfo tensor in header.Tensors.Values)
        {
            if (!state.ContainsKey(tensor.Name))
            {
                throw new SafetensorsException(
                    $"Optimizer state has an unexpected tensor '{tensor.Name}' {tensor.DType} {tensor.ShapeText}; {GetType().Name} keeps {(state.Count == 0 ? "none" : string.Join(", ", state.Keys.Select(n => $"'{n}'")))}.");
            }
        }
        return step;
    }

    /// <summary>Metadata text for a message: a hostile header may hold megabytes in one entry.</summary>
    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "...";

    private protected static Span<Vector<float>> Vectors(Span<float> values) => MemoryMarshal.Cast<float, Vector<float>>(values);

    private protected static ReadOnlySpan<Vector<float>> Vectors(ReadOnlySpan<float> values) => MemoryMarshal.Cast<float, Vector<float>>(values);

    /// <summary>Index of the first element the vector loop did not cover.</summary>
    private protected static int Tail(int length) => length - length % Vector<float>.Count;
}

/// <summary>
/// <c>torch.optim.SGD</c>: with weight decay <c>g += wd·p</c>; with momentum <c>b = g</c> on the first step, then
/// <c>b = μ·b + (1 − dampening)·g</c>, and <c>g = b</c> (or <c>g + μ·b</c> with Nesterov); <c>p −= lr·g</c>.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[] _momentumBuffer;

    /// <summary>Creates SGD for <paramref name="parameterCount"/> parameters with PyTorch's arguments.</summary>
    public Sgd(int parameterCount, float learningRate, float momentum = 0, float dampening = 0, bool nesterov = false,
        float weightDecay = 0) : base(parameterCount)
    {
        if (nesterov && (momentum <= 0 || dampening != 0))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening (as in PyTorch).", nameof(nesterov));
        }
        LearningRate = learningRate;
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
        _momentumBuffer = momentum != 0 ? new float[parameterCount] : [];
    }

    /// <summary>μ. <see cref="OneCycleLR"/> with <c>cycleMomentum</c> changes it between steps, as PyTorch's does.</summary>
    public float Momentum { get; internal set; }

    /// <summary>dampening.</summary>
    public float Dampening { get; }

    /// <summary>nesterov.</summary>
    public bool Nesterov { get; }

    /// <summary>weight_decay.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, long step)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradients[i];
            if (WeightDecay != 0) g = MultiplyAdd.Of(WeightDecay, parameters[i], g);
            if (Momentum != 0)
            {
                float buffer = step == 1 ? g : MultiplyAdd.Of(Momentum, _momentumBuffer[i], (1 - Dampening) * g);
                _momentumBuffer[i] = buffer;
                g = Nesterov ? MultiplyAdd.Of(Momentum, buffer, g) : buffer;
            }
            parameters[i] = MultiplyAdd.Of(-LearningRate, g, parameters[i]);
        }
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, float[] Values)> StateTensors()
    {
        // The buffer, not the current μ, decides: a cycled μ may pass through 0 while the buffer lives on.
        if (_momentumBuffer.Length != 0) yield return ("momentum_buffer", _momentumBuffer);
    }
}

/// <summary>
/// <c>torch.optim.Adam</c> (and <c>AdamW</c> with <see cref="DecoupledWeightDecay"/>): <c>m = β1·m + (1−β1)·g</c>,
/// <c>v = β2·v + (1−β2)·g²</c>, <c>p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)</c>. Weight decay adds <c>wd·p</c> to g
/// (Adam) or multiplies p by <c>1 − lr·wd</c> first (AdamW).
/// </summary>
public class Adam : Optimizer
{
    private readonly float[] _expAvg;
    private readonly float[] _expAvgSq;

    /// <summary>Creates Adam for <paramref name="parameterCount"/> parameters with PyTorch's defaults.</summary>
    public Adam(int parameterCount, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0) : this(parameterCount, learningRate, beta1, beta2, epsilon, weightDecay, false)
    {
    }

    private protected Adam(int parameterCount, float learningRate, float beta1, float beta2, float epsilon,
        float weightDecay, bool decoupled) : base(parameterCount)
    {
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        DecoupledWeightDecay = decoupled;
        _expAvg = new float[parameterCount];
        _expAvgSq = new float[parameterCount];
    }

    /// <summary>β1. <see cref="OneCycleLR"/> with <c>cycleMomentum</c> changes it between steps, as PyTorch's does.</summary>
    public float Beta1 { get; internal set; }

    /// <summary>β2.</summary>
    public float Beta2 { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>weight_decay.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether weight decay is decoupled from the gradient (AdamW).</summary>
    public bool DecoupledWeightDecay { get; }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, long step)
    {
        float stepSize = (float)(LearningRate / (1 - Math.Pow(Beta1, step)));
        float correction2Sqrt = (float)Math.Sqrt(1 - Math.Pow(Beta2, step));
        float decay = DecoupledWeightDecay ? 1 - LearningRate * WeightDecay : 1;
        float coupledDecay = DecoupledWeightDecay ? 0 : WeightDecay;

        Span<Vector<float>> p = Vectors(parameters), m = Vectors(_expAvg.AsSpan()), v = Vectors(_expAvgSq.AsSpan());
        ReadOnlySpan<Vector<float>> g = Vectors(gradients);
        for (int i = 0; i < p.Length; i++)
        {
            (p[i], m[i], v[i]) = Update(p[i], g[i], m[i], v[i], stepSize, correction2Sqrt, decay, coupledDecay);
        }
        for (int i = Tail(parameters.Length); i < parameters.Length; i++)
        {
            (Vector<float> pi, Vector<float> mi, Vector<float> vi) = Update(new Vector<float>(parameters[i]),
                new Vector<float>(gradients[i]), new Vector<float>(_expAvg[i]), new Vector<float>(_expAvgSq[i]),
                stepSize, correction2Sqrt, decay, coupledDecay);
            (parameters[i], _expAvg[i], _expAvgSq[i]) = (pi[0], mi[0], vi[0]);
        }
    }

    /// <summary>The rule for one vector of parameters; the tail uses it on broadcast scalars, so every element follows the same arithmetic.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (Vector<float> P, Vector<float> M, Vector<float> V) Update(Vector<float> p, Vector<float> g, Vector<float> m,
        Vector<float> v, float stepSize, float correction2Sqrt, float decay, float coupledDecay)
    {
        p *= new Vector<float>(decay);
        g = MultiplyAdd.Of(new Vector<float>(coupledDecay), p, g);
        m = MultiplyAdd.Of(new Vector<float>(1 - Beta1), g - m, m);   // lerp, as PyTorch
        v = MultiplyAdd.Of(new Vector<float>(Beta2), v, new Vector<float>(1 - Beta2) * g * g);
        Vector<float> denominator = Vector.SquareRoot(v) / new Vector<float>(correction2Sqrt) + new Vector<float>(Epsilon);
        return (p - new Vector<float>(stepSize) * m / denominator, m, v);
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, float[] Values)> StateTensors()
    {
        yield return ("exp_avg", _expAvg);
        yield return ("exp_avg_sq", _expAvgSq);
    }

    /// <inheritdoc/>
    /// <remarks>exp_avg_sq, a running mean of squares, must also be non-negative: its square root is taken.</remarks>
    protected override void CheckStateValues(string name, ReadOnlySpan<float> values)
    {
        base.CheckStateValues(name, values);
        if (name != "exp_avg_sq") return;
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] < 0)
            {
                throw new SafetensorsException($"Tensor '{name}' element {i} is {Format(values[i])}, expected a value >= 0.");
            }
        }
    }
}

/// <summary><c>torch.optim.AdamW</c>: Adam with decoupled weight decay (PyTorch's default 0.01).</summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates AdamW for <paramref name="parameterCount"/> parameters with PyTorch's defaults.</summary>
    public AdamW(int parameterCount, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 1e-2f)
        : base(parameterCount, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true)
    {
    }
}

/// <summary>Gradient clipping as <c>torch.nn.utils.clip_grad_norm_</c> and <c>clip_grad_value_</c>.</summary>
/// <remarks>Thread safety: static and stateless; calls from several threads are safe on separate gradient buffers.</remarks>
public static class GradientClipping
{
    /// <summary>
    /// Scales the gradients by <c>min(1, maxNorm / (‖g‖₂ + 1e-6))</c> and returns the norm before clipping.
    /// </summary>
    /// <remarks>
    /// As in PyTorch (with its default <c>error_if_nonfinite=False</c>), a NaN gradient makes the norm NaN and
    /// the coefficient NaN, so every gradient becomes NaN and the step that follows visibly fails instead of
    /// silently skipping the NaN; an infinite one makes the coefficient 0. Check the returned norm with
    /// <see cref="float.IsFinite"/> to skip such a step.
    /// </remarks>
    public static float ClipByNorm(Span<float> gradients, float maxNorm)
    {
        double sum = 0;
        foreach (float g in gradients) sum += (double)g * g;
        float norm = (float)Math.Sqrt(sum);
        float coefficient = maxNorm / (norm + 1e-6f);
        // Written so that a NaN coefficient scales too, as torch.clamp(NaN, max=1) stays NaN.
        if (!(coefficient >= 1f))
        {
            foreach (ref float g in gradients) g *= coefficient;
        }
        return norm;
    }

    /// <summary>Clamps every gradient to <c>[−clip, clip]</c>.</summary>
    public static void ClipByValue(Span<float> gradients, float clip)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(clip);
        foreach (ref float g in gradients) g = Math.Clamp(g, -clip, clip);
    }
}
