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
    // The training record: written by a training forward, read by Backward.
    private ForwardResult _trained;
    private float _recordDropout;
    private int _trainedBatch;
    private int _trainedSteps;
    private float[] _recordInput = [];
    private float[] _recordH0 = [];
    private float[] _recordC0 = [];
    private float[] _recordOutputs = [];
    private float[] _recordGates = [];
    private float[] _recordCells = [];
    // Backward's workspace.
    private float[] _dSequenceA = [];
    private float[] _dSequenceB = [];
    private float[] _dH = [];
    private float[] _dC = [];
    private float[] _backwardScratch = [];
    // Dropout between layers (training forwards only): a mask per layer below the top, and its output with the
    // mask applied, which is what the layer above read.
    private float _dropout;
    private SplitMix64 _dropoutRandom = new(0);
    private float[] _recordMasks = [];
    private float[] _recordDropped = [];

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
        int batch = _trainedBatch, steps = _trainedSteps, rows = batch * steps, sequence = rows * OutputFeatures;
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

        Span<float> dTop = DSequence(NumLayers - 1).AsSpan(0, sequence);
        ReadOnlySpan<float> top = _recordOutputs.AsSpan((NumLayers - 1) * sequence, sequence);
        switch (_trained)
        {
            case ForwardResult.Output:
                upstream.CopyTo(dTop);
                break;
            case ForwardResult.LastPrediction:
                dTop.Clear();
                HeadBackward(top[((steps - 1) * OutputFeatures)..], steps * OutputFeatures, batch, upstream, dTop[((steps - 1) * OutputFeatures)..]);
                break;
            default:
                dTop.Clear();
                HeadBackward(top, OutputFeatures, rows, upstream, dTop);
                break;
        }

        int hSlice = batch * StateSize, cSlice = batch * HiddenSize;
        if (!inputGradient.IsEmpty) inputGradient.Clear();
        for (int layer = NumLayers - 1; layer >= 0; layer--)
        {
            Span<float> dSource = layer > 0 ? DSequence(layer - 1).AsSpan(0, sequence) : inputGradient;
            if (layer > 0) dSource.Clear();
            ReadOnlySpan<float> source = layer == 0 ? _recordInput.AsSpan(0, rows * InputSize)
                : _recordDropout > 0 ? _recordDropped.AsSpan((layer - 1) * sequence, sequence)
                : _recordOutputs.AsSpan((layer - 1) * sequence, sequence);
            for (int direction = 0; direction < NumDirections; direction++)
            {
                int index = layer * NumDirections + direction;
                int gateRecord = rows * GateCount * LayerShape<TSpec>.CStride, cellRecord = rows * LayerShape<TSpec>.CStride;
                var pass = new BackwardPass
                {
                    Parameters = _parameters,
                    Gradients = gradients,
                    Offsets = Offsets[index],
                    Batch = batch,
                    Steps = steps,
                    Reverse = direction == 1,
                    Source = source,
                    Output = _recordOutputs.AsSpan(layer * sequence, sequence),
                    Column = direction * StateSize,
                    InitialH = _recordH0.AsSpan(index * hSlice, hSlice),
                    InitialC = _recordC0.AsSpan(index * cSlice, cSlice),
                    GateCache = _recordGates.AsSpan(index * gateRecord, gateRecord),
                    CellCache = _recordCells.AsSpan(index * cellRecord, cellRecord),
                    DOutput = DSequence(layer).AsSpan(0, sequence),
                    DSource = dSource,
                    DInitialH = h0Gradient.IsEmpty ? default : h0Gradient.Slice(index * hSlice, hSlice),
                    DInitialC = c0Gradient.IsEmpty ? default : c0Gradient.Slice(index * cSlice, cSlice),
                    DH = _dH,
                    DC = _dC,
                    Scratch = _backwardScratch,
                };
                if (layer == 0) BackwardLayer<FirstLayerInput<TSpec>>(ref pass);
                else BackwardLayer<UpperLayerInput<TSpec>>(ref pass);
            }
            if (layer > 0 && _recordDropout > 0)
            {
                // Through the dropout below this layer: d(output) = d(dropped) ⊙ mask.
                ReadOnlySpan<float> mask = _recordMasks.AsSpan((layer - 1) * sequence, sequence);
                for (int i = 0; i < dSource.Length; i++) dSource[i] *= mask[i];
            }
        }
    }

    private void CheckGradientOutput(ReadOnlySpan<float> output, string name, ReadOnlySpan<float> upstream, ReadOnlySpan<float> gradients)
    {
        ArgumentChecks.NoOverlap(output, name, upstream, nameof(upstream));
        ArgumentChecks.NoOverlap(output, name, _parameters, nameof(Parameters));
        ArgumentChecks.NoOverlap(output, name, gradients, nameof(Gradients));
    }

    /// <summary>Draws layer <paramref name="layer"/>'s dropout mask and returns its output with the mask applied.</summary>
    private Span<float> DropOut(int layer, ReadOnlySpan<float> output)
    {
        Span<float> mask = _recordMasks.AsSpan(layer * output.Length, output.Length);
        Span<float> dropped = _recordDropped.AsSpan(layer * output.Length, output.Length);
        float keep = 1f / (1f - _dropout);
        for (int i = 0; i < output.Length; i++)
        {
            mask[i] = _dropoutRandom.NextUniform(0f, 1f) < _dropout ? 0f : keep;
            dropped[i] = output[i] * mask[i];
        }
        return dropped;
    }

    private static void BackwardLayer<TInput>(scoped ref BackwardPass pass) where TInput : struct, IDim
    {
        switch (TSpec.Cell)
        {
            case CellKind.Lstm: RecurrentLayerBackward<TSpec, LstmCell, TInput>.Backward(ref pass); break;
            case CellKind.Gru: RecurrentLayerBackward<TSpec, GruCell, TInput>.Backward(ref pass); break;
            default: RecurrentLayerBackward<TSpec, RnnCell, TInput>.Backward(ref pass); break;
        }
    }

    /// <summary>
    /// Through <c>y = head.weight · x + head.bias</c> for each row: <c>dW += dy ⊗ x</c>, <c>db += dy</c>,
    /// <c>dx += Wᵀ dy</c>.
    /// </summary>
    private void HeadBackward(ReadOnlySpan<float> rows, int rowStride, int rowCount, ReadOnlySpan<float> dy, Span<float> dRows)
    {
        Span<float> dWeight = Gradients.Slice(HeadWeightOffset, OutputSize * OutputFeatures);
        Span<float> dBias = Gradients.Slice(HeadBiasOffset, OutputSize);
        ReadOnlySpan<float> weight = _parameters.AsSpan(HeadWeightOffset, OutputSize * OutputFeatures);
        for (int row = 0; row < rowCount; row++)
        {
            ReadOnlySpan<float> dyRow = dy.Slice(row * OutputSize, OutputSize);
            Backprop.AddOuter(dWeight, dyRow, rows.Slice(row * rowStride, OutputFeatures));
            Backprop.Add(dBias, dyRow);
            Backprop.AddTransposedProduct(dRows.Slice(row * rowStride, OutputFeatures), weight, dyRow);
        }
    }

    /// <summary>The training forward: records the input, the initial state and every layer's output and cells.</summary>
    private Span<float> Record(ForwardResult result, ReadOnlySpan<float> input, int batch, int steps, ReadOnlySpan<float> h0,
        ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN, Span<float> output)
    {
        _workspace.Ensure(batch, steps);
        EnsureTrainingWorkspace(batch, steps);
        _trained = ForwardResult.None;
        _trainedBatch = batch;
        _trainedSteps = steps;
        _recordDropout = _dropout;
        input.CopyTo(_recordInput);
        CopyOrZero(h0, _recordH0.AsSpan(0, NumLayers * NumDirections * batch * StateSize));
        CopyOrZero(c0, _recordC0.AsSpan(0, NumLayers * NumDirections * batch * HiddenSize));
        int sequence = batch * steps * OutputFeatures;
        EnsurePacked();
        Run<RecordCache>(_workspace, this, input, batch, steps, h0, c0, hN, cN, output);
        _trained = result;
        return _recordOutputs.AsSpan((NumLayers - 1) * sequence, sequence);
    }

    private static void CopyOrZero(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.IsEmpty) destination.Clear();
        else source.CopyTo(destination);
    }

    private float[] DSequence(int layer) => layer % 2 == 0 ? _dSequenceA : _dSequenceB;

    private void EnsureTrainingWorkspace(int batch, int steps)
    {
        int rows = batch * steps, cStride = LayerShape<TSpec>.CStride, layers = NumLayers * NumDirections;
        if (_recordInput.Length < rows * InputSize)
        {
            _recordInput = new float[rows * InputSize];
            _recordOutputs = new float[NumLayers * rows * OutputFeatures];
            _recordGates = new float[layers * rows * GateCount * cStride];
            _recordCells = new float[layers * rows * cStride];
            _dSequenceA = new float[rows * OutputFeatures];
            _recordMasks = new float[(NumLayers - 1) * rows * OutputFeatures];
            _recordDropped = new float[(NumLayers - 1) * rows * OutputFeatures];
            _dSequenceB = NumLayers > 1 ? new float[rows * OutputFeatures] : [];
        }
        if (_recordH0.Length < layers * batch * StateSize)
        {
            _recordH0 = new float[layers * batch * StateSize];
            _recordC0 = new float[layers * batch * HiddenSize];
            _dH = new float[batch * StateSize];
            _dC = new float[batch * cStride];
        }
        int scratch = RecurrentLayerBackward<TSpec, LstmCell, FirstLayerInput<TSpec>>.ScratchLength;
        if (_backwardScratch.Length < scratch) _backwardScratch = new float[scratch];
    }
}
