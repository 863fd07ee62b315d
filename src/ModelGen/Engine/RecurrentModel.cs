using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using ModelGen.Kernels;

namespace ModelGen;

/// <summary>
/// The implementation behind every generated model: parameters, forward pass, predictions, streaming,
/// initialisation and safetensors I/O for the model that <typeparamref name="TSpec"/> describes. The generated
/// class wraps one instance and adds constants, named accessors and documentation. Because
/// <typeparamref name="TSpec"/> is a struct, the JIT and NativeAOT compile this class once per model with every
/// size a constant.
/// </summary>
/// <remarks>
/// <para>Memory: the parameter buffer and the streaming state are allocated by the constructor; the workspace is
/// grown by the first call that needs more rows (B·T) than any call before, and never shrinks. A warm call
/// with a batch and sequence length already seen allocates nothing.</para>
/// <para>Thread safety: not thread-safe, not even for inference (every call uses the instance's workspace, packed
/// weights and streaming state); to serve many threads, give each an <see cref="InferenceContext{TSpec}"/> over
/// <see cref="ShareWeights"/>.</para>
/// </remarks>
public sealed partial class RecurrentModel<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    private static readonly ModelGeometry Geometry = new(TSpec.Cell, TSpec.InputSize, TSpec.HiddenSize,
        TSpec.NumLayers, TSpec.Bias, TSpec.Bidirectional, TSpec.ProjSize, TSpec.OutputSize);

    private static readonly int HeadWeightOffset = Geometry.OffsetOf("head.weight");
    private static readonly int HeadBiasOffset = Geometry.OffsetOf("head.bias");
    // The packed copy: the recurrent module's (RecurrentKernel's layout), then the head's (LinearKernel's layout).
    private static readonly int PackedHead = RecurrentKernel<TSpec>.PackedLength;
    private static readonly int PackedLength = RecurrentKernel<TSpec>.PackedLength + (OutputSize > 0 ? LinearKernel<HeadSpec>.PackedLength : 0);

    // Floats per row (b, t) of the widest buffer a call needs; the buffers sized per batch row b are no wider,
    // and B <= B·T. The kernels index every buffer with int offsets, so a call is accepted only when rows ×
    // width fits one array (see ArgumentChecks.Length): checked before any memory is touched.
    private static readonly long InferenceRowWidth = Math.Max(
        Math.Max(Sizes<TSpec>.GateStride, OutputFeatures), Math.Max(Sizes<TSpec>.HStride, Sizes<TSpec>.CStride));
    private static readonly long TrainingRowWidth = new[]
    {
        InferenceRowWidth, InputSize, (long)NumLayers * OutputFeatures,
        (long)NumLayers * NumDirections * GateCount * Sizes<TSpec>.CStride,
        (long)NumLayers * NumDirections * Math.Max(Math.Max(StateSize, HiddenSize), Sizes<TSpec>.CStride),
    }.Max();
    // The streaming state [L*D, B, Hout] and [L*D, B, H], and the workspace of a step of B rows.
    private static readonly long StreamRowWidth = Math.Max(InferenceRowWidth, (long)NumLayers * NumDirections * Math.Max(StateSize, HiddenSize));

    /// <summary>The parameter table, in PyTorch's <c>state_dict</c> order.</summary>
    public static ImmutableArray<ParameterInfo> ParameterTable { get; } = BuildTable();

    private readonly float[] _parameters;
    // The forward kernels read a packed copy of the weights (RecurrentKernel's and LinearKernel's layouts). It is rebuilt
    // before a forward pass whenever the parameters may have changed since it was made.
    private readonly AlignedFloats _packed = new(PackedLength);
    private int _parameterVersion = 1;
    private int _packedVersion;
    // The workspace (one arena) and the streaming state, over _packed: the per-context part of inference, which
    // every InferenceContext has its own of (see Workspace.cs).
    private readonly Workspace<TSpec> _workspace;

    /// <summary>Creates a model with every parameter zero and a streaming state for batch 1.</summary>
    public RecurrentModel()
    {
        _parameters = new float[ParameterCount];
        _workspace = new Workspace<TSpec>(_packed);
    }

    /// <summary>I: features per input step (<c>input_size</c>).</summary>
    public static int InputSize => TSpec.InputSize;

    /// <summary>H: features of the hidden state (<c>hidden_size</c>).</summary>
    public static int HiddenSize => TSpec.HiddenSize;

    /// <summary>L: stacked layers (<c>num_layers</c>).</summary>
    public static int NumLayers => TSpec.NumLayers;

    /// <summary>D: 2 for a bidirectional model, else 1.</summary>
    public static int NumDirections => Sizes<TSpec>.Directions;

    /// <summary>Hout: the size of h, <c>proj_size</c> when there is a projection, else H.</summary>
    public static int StateSize => Sizes<TSpec>.State;

    /// <summary>D * Hout: features per step of the recurrent output.</summary>
    public static int OutputFeatures => Sizes<TSpec>.OutputFeatures;

    /// <summary>O: outputs of the linear head (0: no head).</summary>
    public static int OutputSize => TSpec.OutputSize;

    /// <summary>G: gates per unit (LSTM 4, GRU 3, RNN 1).</summary>
    public static int GateCount => Sizes<TSpec>.Gates;

    /// <summary>Floats in the parameter buffer.</summary>
    public static int ParameterCount { get; } = checked((int)Geometry.ParameterCount);

    /// <summary>All parameters, laid out as <see cref="ParameterTable"/> says; reading them changes nothing.</summary>
    public ReadOnlySpan<float> Parameters => _parameters;

    /// <summary>
    /// The parameter buffer for writing. Marks the kernels' packed copy stale, so the next forward call repacks it;
    /// writes made through the returned span after a forward call has run are seen only after another
    /// <see cref="EditParameters"/> or <see cref="MarkParametersChanged"/>.
    /// </summary>
    public Span<float> EditParameters()
    {
        _parameterVersion++;
        return _parameters;
    }

    /// <summary>Says that the parameters were written since the last forward call: the next one repacks.</summary>
    public void MarkParametersChanged() => _parameterVersion++;

    /// <summary>B of the streaming state.</summary>
    public int StreamBatchSize => _workspace.StreamBatchSize;

    /// <summary>The streaming h <c>[L, B, Hout]</c>.</summary>
    public Span<float> HiddenState => _workspace.StreamH;

    /// <summary>The streaming c <c>[L, B, H]</c> (LSTM), empty otherwise.</summary>
    public Span<float> CellState => _workspace.StreamC;

    /// <summary>The slice of <see cref="Parameters"/> holding the named tensor.</summary>
    public ReadOnlySpan<float> GetParameter(string name)
    {
        foreach (ParameterInfo info in ParameterTable)
        {
            if (info.Name == name) return Parameters.Slice(info.Offset, info.Length);
        }
        throw new KeyNotFoundException($"The model has no parameter '{name}'.");
    }

    /// <summary>See <see cref="IRecurrentModel.Forward"/>.</summary>
    public void Forward(ReadOnlySpan<float> input, int batchSize, Span<float> output,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN)
    {
        EnsurePacked();
        ForwardWith(_workspace, input, batchSize, output, h0, c0, hN, cN);
    }

    /// <summary>See <see cref="IHeadModel.PredictLast"/>.</summary>
    public void PredictLast(ReadOnlySpan<float> input, int batchSize, Span<float> prediction,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        EnsurePacked();
        PredictLastWith(_workspace, input, batchSize, prediction, h0, c0);
    }

    /// <summary>See <see cref="IHeadModel.PredictSequence"/>.</summary>
    public void PredictSequence(ReadOnlySpan<float> input, int batchSize, Span<float> predictions,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        EnsurePacked();
        PredictSequenceWith(_workspace, input, batchSize, predictions, h0, c0);
    }

    /// <summary>Zeros the streaming state and sets its batch size (allocates only when the batch size changes).</summary>
    public void ResetState(int batchSize = 1) => ResetStateWith(_workspace, batchSize);

    /// <summary>See <see cref="IStreamingModel.Step"/>.</summary>
    public void Step(ReadOnlySpan<float> input, Span<float> output)
    {
        EnsurePacked();
        StepWith(_workspace, input, output);
    }

    /// <summary>See <see cref="IStreamingHeadModel.StepPredict"/>.</summary>
    public void StepPredict(ReadOnlySpan<float> input, Span<float> prediction)
    {
        EnsurePacked();
        StepPredictWith(_workspace, input, prediction);
    }

    /// <summary>
    /// PyTorch's default initialisation from a seeded generator: every recurrent weight and bias uniform in
    /// ±1/√H; the head as <c>nn.Linear</c> does it (<see cref="LinearKernel{TSpec}.Initialize"/>), in
    /// <c>state_dict</c> order.
    /// </summary>
    public void InitializeParameters(ulong seed)
    {
        Span<float> parameters = EditParameters();
        var random = new SplitMix64(seed);
        GraphChecks.InitializeUniform(parameters[..RecurrentKernel<TSpec>.ParameterLength], 1f / MathF.Sqrt(HiddenSize), ref random);
        if (OutputSize > 0) LinearKernel<HeadSpec>.Initialize(HeadWeight(parameters), HeadBias(parameters), ref random);
    }

    /// <summary><c>head</c>: the <c>nn.Linear(D·Hout, O)</c> after the recurrent module (when O &gt; 0).</summary>
    internal readonly struct HeadSpec : ILinearSpec
    {
        public static int InFeatures => Sizes<TSpec>.OutputFeatures;
        public static int OutFeatures => TSpec.OutputSize;
        public static bool Bias => true;
    }

    private static Span<float> HeadWeight(Span<float> buffer) => buffer.Slice(HeadWeightOffset, OutputSize * OutputFeatures);

    private static Span<float> HeadBias(Span<float> buffer) => buffer.Slice(HeadBiasOffset, OutputSize);

    // LoadSafetensors and SaveSafetensors: RecurrentModel.Safetensors.cs.

    /// <summary>
    /// The recurrent module's inference forward (<see cref="RecurrentKernel{TSpec}"/>) into
    /// <paramref name="output"/>, with the arena of <paramref name="workspace"/> (a model's, or an inference
    /// context's); the caller has checked the arguments.
    /// </summary>
    private static void Run(Workspace<TSpec> workspace, ReadOnlySpan<float> input, int batch, int steps, ReadOnlySpan<float> h0,
        ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN, Span<float> output)
    {
        Span<float> arena = workspace.Ensure(batch, steps, out _);
        SplitMix64 unused = default;
        RecurrentKernel<TSpec>.Forward<NoCache>(workspace.PackedWeights, input, default, batch, steps, output, h0, c0, hN, cN,
            arena, 0f, ref unused);
    }

    /// <summary><see cref="Run"/> into the workspace's room for the top layer's output, which it returns (for the head).</summary>
    private static Span<float> RunToWorkspace(Workspace<TSpec> workspace, ReadOnlySpan<float> input, int batch, int steps,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN = default, Span<float> cN = default)
    {
        Span<float> arena = workspace.Ensure(batch, steps, out Span<float> output);
        SplitMix64 unused = default;
        RecurrentKernel<TSpec>.Forward<NoCache>(workspace.PackedWeights, input, default, batch, steps, output, h0, c0, hN, cN,
            arena, 0f, ref unused);
        return output;
    }

    /// <summary>
    /// Checks every argument of a forward call that returns <paramref name="result"/> into
    /// <paramref name="resultSpan"/>, with a workspace of <paramref name="rowWidth"/> floats per row, and returns T.
    /// </summary>
    private static int CheckCall(ForwardResult result, long rowWidth, ReadOnlySpan<float> input, int batchSize,
        ReadOnlySpan<float> resultSpan, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<float> hN, ReadOnlySpan<float> cN)
    {
        if (result != ForwardResult.Output) RequireHead();
        int steps = SequenceLength(input, batchSize);
        long rows = (long)batchSize * steps;
        if (rows > ArgumentChecks.MaxCount(rowWidth))
        {
            ArgumentChecks.ThrowTooLarge(nameof(input), $"B·T ({batchSize} sequences of {steps} steps)", rows, rowWidth);
        }
        CheckResultLength(result, resultSpan.Length, batchSize, steps);
        CheckStates(batchSize, h0, c0, nameof(h0), nameof(c0));
        CheckStates(batchSize, hN, cN, nameof(hN), nameof(cN));
        CheckAliasing(input, h0, c0, resultSpan, ResultName(result), hN, cN);
        return steps;
    }

    /// <summary>
    /// Rejects written spans that overlap read ones, or each other: the layers read the input and the initial
    /// state while they write the result and the final state. Only hN = h0 and cN = c0, the very same spans,
    /// are safe (each layer reads its initial state before it writes its final one), and streaming relies on it.
    /// </summary>
    private static void CheckAliasing(ReadOnlySpan<float> input, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0,
        ReadOnlySpan<float> result, string resultName, ReadOnlySpan<float> hN, ReadOnlySpan<float> cN)
    {
        ArgumentChecks.NoOverlap(result, resultName, input, nameof(input));
        ArgumentChecks.NoOverlap(result, resultName, h0, nameof(h0));
        ArgumentChecks.NoOverlap(result, resultName, c0, nameof(c0));
        ArgumentChecks.NoOverlap(hN, nameof(hN), input, nameof(input));
        ArgumentChecks.NoOverlap(hN, nameof(hN), h0, nameof(h0), sameIsSafe: true);
        ArgumentChecks.NoOverlap(hN, nameof(hN), c0, nameof(c0));
        ArgumentChecks.NoOverlap(hN, nameof(hN), result, resultName);
        ArgumentChecks.NoOverlap(cN, nameof(cN), input, nameof(input));
        ArgumentChecks.NoOverlap(cN, nameof(cN), h0, nameof(h0));
        ArgumentChecks.NoOverlap(cN, nameof(cN), c0, nameof(c0), sameIsSafe: true);
        ArgumentChecks.NoOverlap(cN, nameof(cN), result, resultName);
        ArgumentChecks.NoOverlap(cN, nameof(cN), hN, nameof(hN));
    }

    private static string ResultName(ForwardResult result) => result switch
    {
        ForwardResult.Output => "output",
        ForwardResult.LastPrediction => "prediction",
        _ => "predictions",
    };

    /// <summary>The length check of a forward result, or of its gradient (named <paramref name="name"/>).</summary>
    private static void CheckResultLength(ForwardResult result, int length, int batch, int steps, string? name = null)
    {
        name ??= ResultName(result);
        switch (result)
        {
            case ForwardResult.Output: CheckLength(name, length, batch, steps, OutputFeatures, "[B, T, D*Hout]"); break;
            case ForwardResult.LastPrediction: CheckLength(name, length, batch, 1, OutputSize, "[B, O]"); break;
            default: CheckLength(name, length, batch, steps, OutputSize, "[B, T, O]"); break;
        }
    }

    /// <summary>
    /// The head's predictions from the top layer's output <c>[B, T, D*Hout]</c>: from the last step only
    /// (<c>head(output[:, -1])</c>, row b at <c>(b·T + T−1)·D·Hout</c>) or from every step.
    /// </summary>
    private static void Predict(Workspace<TSpec> workspace, ForwardResult result, ReadOnlySpan<float> output, int batch, int steps,
        Span<float> predictions)
    {
        if (result == ForwardResult.LastPrediction) ApplyHead(workspace, output[((steps - 1) * OutputFeatures)..], steps * OutputFeatures, batch, predictions);
        else ApplyHead(workspace, output, OutputFeatures, batch * steps, predictions);
    }

    /// <summary>
    /// <c>head(rows)</c>: prediction[r] = head.weight · rows[r] + head.bias for <paramref name="rowCount"/> rows
    /// <paramref name="rowStride"/> floats apart (the Linear kernel over contiguous rows, or row by row).
    /// </summary>
    private static void ApplyHead(Workspace<TSpec> workspace, ReadOnlySpan<float> rows, int rowStride, int rowCount, Span<float> prediction)
    {
        ReadOnlySpan<float> packed = workspace.PackedWeights.Slice(PackedHead, LinearKernel<HeadSpec>.PackedLength);
        if (rowStride == OutputFeatures)
        {
            LinearKernel<HeadSpec>.Forward(packed, rows, prediction, rowCount, workspace.HeadScratch);
            return;
        }
        for (int row = 0; row < rowCount; row++)
        {
            LinearKernel<HeadSpec>.Forward(packed, rows.Slice(row * rowStride, OutputFeatures), prediction.Slice(row * OutputSize, OutputSize), 1,
                workspace.HeadScratch);
        }
    }

    /// <summary>Repacks the recurrent weights if the parameters may have changed since the last packing.</summary>
    private void EnsurePacked()
    {
        if (_packedVersion == _parameterVersion) return;
        Pack(_parameters, _packed.Span);
        _packedVersion = _parameterVersion;
    }

    /// <summary>Packs every weight of <paramref name="parameters"/> (laid out as <see cref="ParameterTable"/> says) into <paramref name="packed"/>.</summary>
    private static void Pack(float[] parameters, Span<float> packed)
    {
        RecurrentKernel<TSpec>.Pack(parameters, packed);
        if (OutputSize > 0) LinearKernel<HeadSpec>.Pack(HeadWeight(parameters), HeadBias(parameters), packed.Slice(PackedHead, LinearKernel<HeadSpec>.PackedLength));
    }

    private static int SequenceLength(ReadOnlySpan<float> input, int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        long perSequenceStep = (long)batchSize * InputSize;
        if (input.Length == 0 || input.Length % perSequenceStep != 0)
        {
            throw new ArgumentException(
                $"input: expected shape [B, T, I] = [{batchSize}, T, {InputSize}] with T >= 1, a multiple of {perSequenceStep} floats, got {input.Length} floats.",
                nameof(input));
        }
        return (int)(input.Length / perSequenceStep);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckLength(string name, int actual, int batch, int steps, int features, string notation)
    {
        if (actual != (long)batch * steps * features) WrongLength(name, actual, batch, steps, features, notation);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WrongLength(string name, int actual, int batch, int steps, int features, string notation)
    {
        long expected = (long)batch * steps * features;
        string shape = notation.Contains('T', StringComparison.Ordinal)
            ? $"[{batch}, {steps}, {features}]"
            : $"[{batch}, {features}]";
        throw new ArgumentException(
            $"{name}: expected shape {notation} = {shape} ({expected} floats), got {actual} floats.", name);
    }

    private static void CheckStates(int batch, ReadOnlySpan<float> h, ReadOnlySpan<float> c, string hName, string cName)
    {
        long layers = NumLayers * NumDirections;
        if (!h.IsEmpty && h.Length != layers * batch * StateSize)
        {
            throw new ArgumentException(
                $"{hName}: expected shape [L*D, B, Hout] = [{layers}, {batch}, {StateSize}] ({layers * batch * StateSize} floats) or empty, got {h.Length} floats.",
                hName);
        }
        if (c.IsEmpty) return;
        if (TSpec.Cell != CellKind.Lstm)
        {
            throw new ArgumentException($"{cName}: only an LSTM has a cell state; pass an empty span.", cName);
        }
        if (c.Length != layers * batch * HiddenSize)
        {
            throw new ArgumentException(
                $"{cName}: expected shape [L*D, B, H] = [{layers}, {batch}, {HiddenSize}] ({layers * batch * HiddenSize} floats) or empty, got {c.Length} floats.",
                cName);
        }
    }

    private static void RequireHead()
    {
        if (OutputSize == 0) throw new InvalidOperationException("The model has no head (OutputSize = 0).");
    }

    private static void RequireUnidirectional()
    {
        if (TSpec.Bidirectional) throw new InvalidOperationException("A bidirectional model cannot stream: its reverse direction needs the whole sequence.");
    }

    private static ImmutableArray<ParameterInfo> BuildTable() =>
        Geometry.Parameters
            .Select(slot => new ParameterInfo(slot.Name, [.. slot.Shape], checked((int)slot.Offset), checked((int)slot.Length)))
            .ToImmutableArray();
}
