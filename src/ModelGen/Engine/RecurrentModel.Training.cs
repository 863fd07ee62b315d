using ModelGen.Kernels;

namespace ModelGen;

/// <summary>What a forward call returns; for the last training forward, what Backward's upstream is the gradient of.</summary>
internal enum ForwardResult
{
    None,
    Output,
    LastPrediction,
    SequencePrediction,
}

public sealed partial class RecurrentModel<TSpec>
{
    private float[]? _gradients;
    // The training record: written by a training forward, read by Backward. What it returned and its sizes, and
    // one arena (TrainingSlices): RecurrentKernel's training arena, which holds every layer's output, the cells'
    // records and the dropout masks, then the copies of the forward's input, h0 and c0 that Backward reads (the
    // caller may reuse its buffers in between), then dL/d(top layer's output) for the head's backward. Separate
    // from the inference workspace, so that inference calls between a training forward and Backward are harmless.
    private ForwardResult _trained;
    private int _trainedBatch;
    private int _trainedSteps;
    private AlignedFloats _training = new(0);
    // Dropout between layers (training forwards only), drawn by the kernel from this generator.
    private float _dropout;
    private SplitMix64 _dropoutRandom = new(0);

    /// <summary>
    /// PyTorch's <c>dropout</c>: in training forwards, each output of every layer but the last is zeroed with
    /// this probability and the others scaled by 1/(1 − p). Inference forwards never drop. Default 0.
    /// </summary>
    public float Dropout
    {
        get => _dropout;
        set
        {
            if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(nameof(value), value, "Dropout must be in [0, 1).");
            _dropout = value;
        }
    }

    /// <summary>Restarts the dropout masks' generator: the same seed gives the same masks in the same training forwards.</summary>
    public void SeedDropout(ulong seed) => _dropoutRandom = new SplitMix64(seed);

    /// <summary>
    /// The gradient buffer, laid out like <see cref="Parameters"/>; <see cref="Backward"/> adds to it, so call
    /// <see cref="ZeroGradients"/> between optimisation steps. Allocated by the first use.
    /// </summary>
    public Span<float> Gradients => _gradients ??= new float[ParameterCount];

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Gradients.Clear();

    /// <summary>
    /// <see cref="Forward"/> that also records what <see cref="Backward"/> needs; <see cref="Backward"/> then
    /// takes dL/d(output) <c>[B, T, D*Hout]</c>.
    /// </summary>
    public void TrainForward(ReadOnlySpan<float> input, int batchSize, Span<float> output,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN)
    {
        int steps = CheckCall(ForwardResult.Output, TrainingRowWidth, input, batchSize, output, h0, c0, hN, cN);
        Record(ForwardResult.Output, input, batchSize, steps, h0, c0, hN, cN, output);
    }

    /// <summary>
    /// <see cref="PredictLast"/> that also records what <see cref="Backward"/> needs; <see cref="Backward"/>
    /// then takes dL/d(prediction) <c>[B, O]</c>.
    /// </summary>
    public void TrainPredictLast(ReadOnlySpan<float> input, int batchSize, Span<float> prediction,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN = default, Span<float> cN = default)
    {
        int steps = CheckCall(ForwardResult.LastPrediction, TrainingRowWidth, input, batchSize, prediction, h0, c0, hN, cN);
        Span<float> output = Record(ForwardResult.LastPrediction, input, batchSize, steps, h0, c0, hN, cN, default);
        Predict(_workspace, ForwardResult.LastPrediction, output, batchSize, steps, prediction);
    }

    /// <summary>
    /// <see cref="PredictSequence"/> that also records what <see cref="Backward"/> needs; <see cref="Backward"/>
    /// then takes dL/d(predictions) <c>[B, T, O]</c>.
    /// </summary>
    public void TrainPredictSequence(ReadOnlySpan<float> input, int batchSize, Span<float> predictions,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN = default, Span<float> cN = default)
    {
        int steps = CheckCall(ForwardResult.SequencePrediction, TrainingRowWidth, input, batchSize, predictions, h0, c0, hN, cN);
        Span<float> output = Record(ForwardResult.SequencePrediction, input, batchSize, steps, h0, c0, hN, cN, default);
        Predict(_workspace, ForwardResult.SequencePrediction, output, batchSize, steps, predictions);
    }

    /// <summary>
    /// Backpropagation through time from the last training forward: adds dL/d(parameter) to
    /// <see cref="Gradients"/> and writes dL/d(input) <c>[B, T, I]</c>, dL/dh0 <c>[L*D, B, Hout]</c> and dL/dc0
    /// <c>[L*D, B, H]</c> where those spans are not empty.
    /// </summary>
    /// <param name="upstream">dL/d(what the training forward returned): <c>[B, T, D*Hout]</c> after
    /// <see cref="TrainForward"/>, <c>[B, O]</c> after <see cref="TrainPredictLast"/>, <c>[B, T, O]</c> after
    /// <see cref="TrainPredictSequence"/>.</param>
    /// <param name="inputGradient">dL/d(input) <c>[B, T, I]</c>, overwritten; empty to skip.</param>
    /// <param name="h0Gradient">dL/dh0 <c>[L*D, B, Hout]</c>, overwritten; empty to skip.</param>
    /// <param name="c0Gradient">dL/dc0 <c>[L*D, B, H]</c> (LSTM), overwritten; empty to skip.</param>
    public void Backward(ReadOnlySpan<float> upstream, Span<float> inputGradient, Span<float> h0Gradient, Span<float> c0Gradient)
    {
        int batch = _trainedBatch, steps = _trainedSteps, rows = batch * steps;
        if (_trained == ForwardResult.None)
        {
            throw new InvalidOperationException("Backward needs a training forward first (TrainForward, TrainPredictLast or TrainPredictSequence).");
        }
        CheckResultLength(_trained, upstream.Length, batch, steps, nameof(upstream));
        if (!inputGradient.IsEmpty) CheckLength(nameof(inputGradient), inputGradient.Length, batch, steps, InputSize, "[B, T, I]");
        CheckStates(batch, h0Gradient, c0Gradient, nameof(h0Gradient), nameof(c0Gradient));
        // Backward reads upstream and the parameters while it writes the parameter gradients and the three
        // outputs, so none of these may overlap another.
        Span<float> gradients = Gradients;
        ArgumentChecks.NoOverlap(gradients, nameof(Gradients), upstream, nameof(upstream));
        CheckGradientOutput(inputGradient, nameof(inputGradient), upstream, gradients);
        CheckGradientOutput(h0Gradient, nameof(h0Gradient), upstream, gradients);
        CheckGradientOutput(c0Gradient, nameof(c0Gradient), upstream, gradients);
        ArgumentChecks.NoOverlap(h0Gradient, nameof(h0Gradient), inputGradient, nameof(inputGradient));
        ArgumentChecks.NoOverlap(c0Gradient, nameof(c0Gradient), inputGradient, nameof(inputGradient));
        ArgumentChecks.NoOverlap(c0Gradient, nameof(c0Gradient), h0Gradient, nameof(h0Gradient));

        Span<float> arena = TrainingSlices(batch, steps, out Span<float> recordInput, out Span<float> recordH0, out Span<float> recordC0,
            out Span<float> dTop);
        ReadOnlySpan<float> top = RecurrentKernel<TSpec>.RecordedOutput(arena, batch, steps);
        ReadOnlySpan<float> dOutput;
        switch (_trained)
        {
            case ForwardResult.Output:
                dOutput = upstream;
                break;
            case ForwardResult.LastPrediction:
                dTop.Clear();
                HeadBackward(top[((steps - 1) * OutputFeatures)..], steps * OutputFeatures, batch, upstream, dTop[((steps - 1) * OutputFeatures)..]);
                dOutput = dTop;
                break;
            default:
                dTop.Clear();
                HeadBackward(top, OutputFeatures, rows, upstream, dTop);
                dOutput = dTop;
                break;
        }
        RecurrentKernel<TSpec>.Backward(_parameters, gradients, recordInput, default, batch, steps, recordH0, recordC0,
            dOutput, default, default, inputGradient, h0Gradient, c0Gradient, arena);
    }

    private void CheckGradientOutput(ReadOnlySpan<float> output, string name, ReadOnlySpan<float> upstream, ReadOnlySpan<float> gradients)
    {
        ArgumentChecks.NoOverlap(output, name, upstream, nameof(upstream));
        ArgumentChecks.NoOverlap(output, name, _parameters, nameof(Parameters));
        ArgumentChecks.NoOverlap(output, name, gradients, nameof(Gradients));
    }

    /// <summary>
    /// Through <c>y = head(x)</c> for each of <paramref name="rowCount"/> rows <paramref name="rowStride"/> floats
    /// apart (the Linear kernel's backward): <c>dW += dyᵀ x</c>, <c>db += Σ dy</c>, and <c>dx = dy W</c> written
    /// into <paramref name="dRows"/> at the rows' places.
    /// </summary>
    private void HeadBackward(ReadOnlySpan<float> rows, int rowStride, int rowCount, ReadOnlySpan<float> dy, Span<float> dRows)
    {
        Span<float> gradients = Gradients;
        ReadOnlySpan<float> weight = _parameters.AsSpan(HeadWeightOffset, OutputSize * OutputFeatures);
        if (rowStride == OutputFeatures)
        {
            LinearKernel<HeadSpec>.Backward(weight, rows, dy, rowCount, HeadWeight(gradients), HeadBias(gradients), dRows);
            return;
        }
        for (int row = 0; row < rowCount; row++)
        {
            LinearKernel<HeadSpec>.Backward(weight, rows.Slice(row * rowStride, OutputFeatures), dy.Slice(row * OutputSize, OutputSize), 1,
                HeadWeight(gradients), HeadBias(gradients), dRows.Slice(row * rowStride, OutputFeatures));
        }
    }

    /// <summary>The training forward: records the input, the initial state and every layer's output and cells.</summary>
    private Span<float> Record(ForwardResult result, ReadOnlySpan<float> input, int batch, int steps, ReadOnlySpan<float> h0,
        ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN, Span<float> output)
    {
        _trained = ForwardResult.None;
        Span<float> arena = TrainingSlices(batch, steps, out Span<float> recordInput, out Span<float> recordH0, out Span<float> recordC0, out _);
        _trainedBatch = batch;
        _trainedSteps = steps;
        input.CopyTo(recordInput);
        CopyOrZero(h0, recordH0);
        CopyOrZero(c0, recordC0);
        EnsurePacked();
        RecurrentKernel<TSpec>.Forward<RecordCache>(_packed.Span, input, default, batch, steps, output, h0, c0, hN, cN,
            arena, _dropout, ref _dropoutRandom);
        _trained = result;
        return RecurrentKernel<TSpec>.RecordedOutput(arena, batch, steps);
    }

    private static void CopyOrZero(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.IsEmpty) destination.Clear();
        else source.CopyTo(destination);
    }

    /// <summary>
    /// The slices of the training arena for <paramref name="batch"/> sequences of <paramref name="steps"/> steps,
    /// growing it when this call needs more than any before (the caller has checked the sizes against its row
    /// widths; an arena past what one array holds is rejected here).
    /// </summary>
    private Span<float> TrainingSlices(int batch, int steps, out Span<float> input, out Span<float> h0, out Span<float> c0,
        out Span<float> dTop)
    {
        long rows = (long)batch * steps;
        long kernel = RecurrentKernel<TSpec>.ArenaLength(batch, steps, training: true);
        long inputLength = rows * InputSize;
        long hLength = (long)Sizes<TSpec>.LayerDirections * batch * StateSize;
        long cLength = TSpec.Cell == CellKind.Lstm ? (long)Sizes<TSpec>.LayerDirections * batch * HiddenSize : 0;
        long dTopLength = OutputSize > 0 ? rows * OutputFeatures : 0;
        long length = kernel + inputLength + hLength + cLength + dTopLength;
        if (length > Array.MaxLength - AlignedFloats.Alignment) Workspace<TSpec>.ThrowArenaTooLarge("input", length);
        if (_training.Length < length) _training = new AlignedFloats((int)length);
        Span<float> all = _training.Span;
        int offset = (int)kernel;
        input = all.Slice(offset, (int)inputLength);
        h0 = all.Slice(offset += (int)inputLength, (int)hLength);
        c0 = all.Slice(offset += (int)hLength, (int)cLength);
        dTop = all.Slice(offset + (int)cLength, (int)dTopLength);
        return all[..(int)kernel];
    }
}
