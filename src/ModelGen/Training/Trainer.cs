namespace ModelGen;

/// <summary>
/// One call per optimisation step on a batch: training forward, loss, zero-grad, backward, optional gradient
/// clipping, optimiser step — the five lines of a PyTorch training loop. Buffers for predictions and loss
/// gradients grow on the first step that needs them; warm steps allocate nothing.
/// </summary>
/// <remarks>
/// With <see cref="TrainerBase.CarryState"/> the final state of each step's sequences becomes the initial state of the
/// next step's (same batch size): truncated backpropagation through time over a long stream cut into chunks,
/// with the gradient stopped at every chunk boundary. <see cref="TrainerBase.ResetCarriedState"/> starts a new stream.
/// <para>Thread safety: not thread-safe; a trainer, its model and its optimiser belong to one thread, and a fit's
/// callbacks run on that thread. Inference on other threads goes through contexts over weights shared before
/// or between steps (<see cref="IRecurrentModel.ShareWeights"/>), never through the model being trained.</para>
/// </remarks>
public sealed partial class Trainer : TrainerBase
{
    private float[] _predictions = [];
    private float[] _lossGradient = [];
    private float[] _stateH = [];
    private float[] _stateC = [];
    private float[] _nextH = [];
    private float[] _nextC = [];

    /// <summary>Trains <paramref name="model"/> with <paramref name="optimizer"/>, sized for the model's parameters.</summary>
    public Trainer(IHeadModel model, Optimizer optimizer) : base(model, optimizer) => Model = model;

    /// <summary>The model being trained.</summary>
    public IHeadModel Model { get; }

    /// <summary>
    /// Sequence → one regression: <c>mse_loss(head(output[:, -1]), target)</c> for input <c>[B, T, I]</c> and
    /// target <c>[B, O]</c>. Returns the loss before the step.
    /// </summary>
    public float TrainLast(ReadOnlySpan<float> input, int batchSize, ReadOnlySpan<float> target)
    {
        Span<float> prediction = Buffers(ArgumentChecks.Length(nameof(batchSize), "batchSize", batchSize, Model.OutputSize));
        RunForward(input, batchSize, prediction, sequence: false);
        float loss = Losses.MeanSquaredError(prediction, target, _lossGradient.AsSpan(0, prediction.Length));
        return Finish(loss, prediction.Length);
    }

    /// <summary>
    /// Sequence → one classification: <c>cross_entropy(head(output[:, -1]), classes)</c> for input
    /// <c>[B, T, I]</c> and class indices <c>[B]</c>; a class of −100 is ignored (PyTorch's default
    /// <c>ignore_index</c>). Returns the loss before the step.
    /// </summary>
    public float TrainLastClasses(ReadOnlySpan<float> input, int batchSize, ReadOnlySpan<int> classes)
    {
        Span<float> logits = Buffers(ArgumentChecks.Length(nameof(batchSize), "batchSize", batchSize, Model.OutputSize));
        RunForward(input, batchSize, logits, sequence: false);
        float loss = Losses.CrossEntropy(logits, Model.OutputSize, classes, _lossGradient.AsSpan(0, logits.Length));
        return Finish(loss, logits.Length);
    }

    /// <summary>
    /// Sequence → sequence regression: <c>mse_loss(head(output), targets)</c> for input <c>[B, T, I]</c> and
    /// targets <c>[B, T, O]</c>. Returns the loss before the step.
    /// </summary>
    public float TrainSequence(ReadOnlySpan<float> input, int batchSize, ReadOnlySpan<float> targets)
    {
        Span<float> predictions = Buffers(targets.Length);
        RunForward(input, batchSize, predictions, sequence: true);
        float loss = Losses.MeanSquaredError(predictions, targets, _lossGradient.AsSpan(0, predictions.Length));
        return Finish(loss, predictions.Length);
    }

    /// <summary>
    /// Sequence → sequence classification (language models, taggers): <c>cross_entropy</c> of the logits
    /// <c>[B·T, O]</c> against class indices <c>[B, T]</c>, mean over all B·T positions except those of class −100
    /// (PyTorch's default <c>ignore_index</c>, e.g. padding). Returns the loss before the step.
    /// </summary>
    public float TrainSequenceClasses(ReadOnlySpan<float> input, int batchSize, ReadOnlySpan<int> classes)
    {
        Span<float> logits = Buffers(ArgumentChecks.Length(nameof(classes), "classes.Length", classes.Length, Model.OutputSize));
        RunForward(input, batchSize, logits, sequence: true);
        float loss = Losses.CrossEntropy(logits, Model.OutputSize, classes, _lossGradient.AsSpan(0, logits.Length));
        return Finish(loss, logits.Length);
    }

    private Span<float> Buffers(int length)
    {
        if (_predictions.Length < length)
        {
            _predictions = new float[length];
            _lossGradient = new float[length];
        }
        return _predictions.AsSpan(0, length);
    }

    private void RunForward(ReadOnlySpan<float> input, int batchSize, Span<float> result, bool sequence)
    {
        Span<float> hN = default, cN = default;
        ReadOnlySpan<float> h0 = default, c0 = default;
        if (CarryState)
        {
            long layers = Model.NumLayers * Model.NumDirections;
            int hLength = ArgumentChecks.Length(nameof(batchSize), "batchSize", batchSize, layers * Model.StateSize);
            int cLength = Model.Cell == CellKind.Lstm ? ArgumentChecks.Length(nameof(batchSize), "batchSize", batchSize, layers * Model.HiddenSize) : 0;
            if (_stateH.Length != hLength || _stateC.Length != cLength)
            {
                (_stateH, _nextH, _stateC, _nextC) = (new float[hLength], new float[hLength], new float[cLength], new float[cLength]);
                HasCarriedState = false;
            }
            if (HasCarriedState)
            {
                h0 = _stateH;
                c0 = _stateC;
            }
            hN = _nextH;
            cN = _nextC;
        }
        if (sequence) Model.TrainPredictSequence(input, batchSize, result, h0, c0, hN, cN);
        else Model.TrainPredictLast(input, batchSize, result, h0, c0, hN, cN);
        if (CarryState)
        {
            // The carried state is a value, not a path for gradients: the next chunk starts from it detached.
            (_stateH, _nextH) = (_nextH, _stateH);
            (_stateC, _nextC) = (_nextC, _stateC);
            HasCarriedState = true;
        }
    }

    private float Finish(float loss, int gradientLength)
    {
        Model.ZeroGradients();
        Model.Backward(_lossGradient.AsSpan(0, gradientLength), default, default, default);
        return ClipAndStep(loss);
    }
}
