namespace ModelGen;

/// <summary>
/// <see cref="Trainer"/> for <c>[SequenceModel]</c> graphs (<see cref="ITokenSequenceModel"/>,
/// <see cref="IFeatureSequenceModel"/>): one call per optimisation step on a batch — training forward, loss,
/// zero-grad, backward, optional gradient clipping, optimiser step — and fits over variable-length token sequences
/// that pad each batch, pass the lengths and can bucket the sequences by length. Buffers for outputs and loss
/// gradients grow on the first step that needs them; warm steps allocate nothing.
/// </summary>
/// <remarks>
/// <para>A step's targets follow the graph's output: one per sequence (<c>[B]</c> classes or <c>[B, O]</c> values)
/// when it reduces over time (<see cref="ISequenceModel.OutputPerStep"/> false), one per step (<c>[B, T]</c> or
/// <c>[B, T, O]</c>) when it does not. With lengths, a per-step output is zero past each row's length; give those
/// positions the class −100 (ignored).</para>
/// <para>With <see cref="TrainerBase.CarryState"/> the final state of each step's sequences becomes the initial state of the
/// next step's (same batch size): truncated backpropagation through time over a long stream cut into chunks, with
/// the gradient stopped at every chunk boundary. <see cref="TrainerBase.ResetCarriedState"/> starts a new stream.</para>
/// <para>Thread safety: not thread-safe; a trainer, its model and its optimiser belong to one thread, and a fit's
/// callbacks run on that thread.</para>
/// </remarks>
/// <example>
/// <code>
/// var model = new TopicClassifier();
/// model.InitializeParameters(seed: 1);
/// var trainer = new GraphTrainer(model, new Adam(model.ParameterCount, 2e-3f)) { ClipGradientNorm = 1f };
/// FitResult fit = trainer.FitSequenceClasses(sequences, labels, new FitOptions
/// {
///     Epochs = 20, BatchSize = 32, ValidationFraction = 0.1, Patience = 4, BucketByLength = true,
///     OnEpoch = report => Console.WriteLine(report),
/// });
/// </code>
/// </example>
public sealed class GraphTrainer : TrainerBase
{
    private float[] _output = [];
    private float[] _lossGradient = [];
    private float[] _state = [];
    private float[] _nextState = [];

    /// <summary>Trains <paramref name="model"/> with <paramref name="optimizer"/>, sized for the model's parameters.</summary>
    public GraphTrainer(ISequenceModel model, Optimizer optimizer) : base(model, optimizer)
    {
        if (model is not ITokenSequenceModel and not IFeatureSequenceModel)
        {
            throw new ArgumentException(
                $"model: {model.GetType().Name} is neither an {nameof(ITokenSequenceModel)} nor an {nameof(IFeatureSequenceModel)}.", nameof(model));
        }
        Model = model;
    }

    /// <summary>The model being trained.</summary>
    public ISequenceModel Model { get; }

    // ---- Single steps --------------------------------------------------------------------------------------------

    /// <summary>
    /// Classification of token sequences: <c>cross_entropy(model(tokens, lengths), classes)</c> for token ids
    /// <c>[B, T]</c> and class indices <c>[B]</c> (a graph that reduces over time) or <c>[B, T]</c> (one per step:
    /// language models, taggers; the mean over all B·T positions). A class of −100 is ignored (PyTorch's default
    /// <c>ignore_index</c>, e.g. padding). Returns the loss before the step.
    /// </summary>
    /// <param name="tokens">Token ids <c>[B, T]</c>, batch first.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="classes">Class indices <c>[B]</c> or <c>[B, T]</c>, as the graph's output.</param>
    /// <param name="lengths">Per-row lengths <c>[B]</c>, each from 1 to T; empty: every row has T steps.</param>
    /// <exception cref="InvalidOperationException">The model does not read tokens.</exception>
    public float TrainClasses(ReadOnlySpan<int> tokens, int batchSize, ReadOnlySpan<int> classes, ReadOnlySpan<int> lengths = default)
    {
        ITokenSequenceModel model = TokenModel();
        int steps = GraphChecks.Steps(tokens.Length, batchSize, 1, nameof(tokens), "[B, T]");
        Span<float> logits = Outputs(batchSize, steps, classes.Length, perRow: 1, nameof(classes));
        Span<float> finalState = StartState(batchSize, out ReadOnlySpan<float> initialState);
        model.TrainForward(tokens, batchSize, logits, lengths, initialState, finalState);
        CarryOn();
        float loss = Losses.CrossEntropy(logits, Model.OutputSize, classes, _lossGradient.AsSpan(0, logits.Length));
        model.ZeroGradients();
        model.Backward(_lossGradient.AsSpan(0, logits.Length));
        return ClipAndStep(loss);
    }

    /// <summary>
    /// Classification of feature sequences: <c>cross_entropy(model(input, lengths), classes)</c> for input
    /// <c>[B, T, I]</c> and class indices <c>[B]</c> or <c>[B, T]</c>, as the graph's output; a class of −100 is
    /// ignored. Returns the loss before the step.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model reads tokens, not features.</exception>
    public float TrainClasses(ReadOnlySpan<float> input, int batchSize, ReadOnlySpan<int> classes, ReadOnlySpan<int> lengths = default)
    {
        IFeatureSequenceModel model = FeatureModel();
        int steps = GraphChecks.Steps(input.Length, batchSize, model.InputSize, nameof(input), "[B, T, I]");
        Span<float> logits = Outputs(batchSize, steps, classes.Length, perRow: 1, nameof(classes));
        Span<float> finalState = StartState(batchSize, out ReadOnlySpan<float> initialState);
        model.TrainForward(input, batchSize, logits, lengths, initialState, finalState);
        CarryOn();
        float loss = Losses.CrossEntropy(logits, Model.OutputSize, classes, _lossGradient.AsSpan(0, logits.Length));
        model.ZeroGradients();
        model.Backward(_lossGradient.AsSpan(0, logits.Length));
        return ClipAndStep(loss);
    }

    /// <summary>
    /// Regression of feature sequences: <c>mse_loss(model(input, lengths), targets)</c> for input <c>[B, T, I]</c>
    /// and targets <c>[B, O]</c> or <c>[B, T, O]</c>, as the graph's output. Returns the loss before the step.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model reads tokens, not features.</exception>
    public float TrainRegression(ReadOnlySpan<float> input, int batchSize, ReadOnlySpan<float> targets, ReadOnlySpan<int> lengths = default)
    {
        IFeatureSequenceModel model = FeatureModel();
        int steps = GraphChecks.Steps(input.Length, batchSize, model.InputSize, nameof(input), "[B, T, I]");
        Span<float> predictions = Outputs(batchSize, steps, targets.Length, perRow: Model.OutputSize, nameof(targets));
        Span<float> finalState = StartState(batchSize, out ReadOnlySpan<float> initialState);
        model.TrainForward(input, batchSize, predictions, lengths, initialState, finalState);
        CarryOn();
        float loss = Losses.MeanSquaredError(predictions, targets, _lossGradient.AsSpan(0, predictions.Length));
        model.ZeroGradients();
        model.Backward(_lossGradient.AsSpan(0, predictions.Length));
        return ClipAndStep(loss);
    }

    private ITokenSequenceModel TokenModel() => Model as ITokenSequenceModel ?? throw new InvalidOperationException(
        $"{Model.GetType().Name} reads feature vectors [B, T, I], not token ids: call the overload that takes ReadOnlySpan<float> input.");

    private IFeatureSequenceModel FeatureModel() => Model as IFeatureSequenceModel ?? throw new InvalidOperationException(
        $"{Model.GetType().Name} reads token ids [B, T] (its first module is an Embedding): call the overload that takes ReadOnlySpan<int> tokens.");

    /// <summary>The output buffer of a step, after checking that the targets have one row (of <paramref name="perRow"/>) per output row.</summary>
    private Span<float> Outputs(int batchSize, int steps, int targetLength, int perRow, string targetsName)
    {
        bool perStep = Model.OutputPerStep;
        long rows = perStep ? (long)batchSize * steps : batchSize;
        if (targetLength != rows * perRow)
        {
            string shape = (perStep ? $"[B, T{(perRow > 1 ? ", O" : "")}] = [{batchSize}, {steps}" : $"[B{(perRow > 1 ? ", O" : "")}] = [{batchSize}")
                + (perRow > 1 ? $", {perRow}]" : "]");
            throw new ArgumentException(
                $"{targetsName}: expected {shape} ({rows * perRow} values: {(perStep ? "the graph outputs every step" : "the graph reduces over time")}), got {targetLength}.",
                targetsName);
        }
        int length = ArgumentChecks.Length(nameof(batchSize), "output rows", rows, Model.OutputSize);
        if (_output.Length < length)
        {
            _output = new float[length];
            _lossGradient = new float[length];
        }
        return _output.AsSpan(0, length);
    }

    /// <summary>The final-state buffer of a step and its initial state (empty: zeros), when <see cref="TrainerBase.CarryState"/> is set.</summary>
    private Span<float> StartState(int batchSize, out ReadOnlySpan<float> initialState)
    {
        initialState = default;
        if (!CarryState || Model.RecurrentStateSize == 0) return default;
        int length = ArgumentChecks.Length(nameof(batchSize), "batchSize", batchSize, Model.RecurrentStateSize);
        if (_state.Length != length)
        {
            (_state, _nextState) = (new float[length], new float[length]);
            HasCarriedState = false;
        }
        if (HasCarriedState) initialState = _state;
        return _nextState;
    }

    /// <summary>After a carrying forward: its final state is the next step's initial state, detached (a value, not a path for gradients).</summary>
    private void CarryOn()
    {
        if (!CarryState || Model.RecurrentStateSize == 0) return;
        (_state, _nextState) = (_nextState, _state);
        HasCarriedState = true;
    }


    // ---- Fits ------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Fits a classifier of variable-length token sequences (one class per sequence: a graph that reduces over
    /// time), sample n being <c>sequences[n]</c> with the class <c>labels[n]</c> (−100: ignored), by
    /// <see cref="TrainClasses(ReadOnlySpan{int}, int, ReadOnlySpan{int}, ReadOnlySpan{int})"/>.
    /// </summary>
    /// <remarks>
    /// <para>The same loop as <see cref="Trainer"/>'s fits: the data is copied once; every epoch shuffles the training
    /// samples with <see cref="FitOptions.Seed"/>, runs the mini-batches, validates on the last
    /// <see cref="FitOptions.ValidationFraction"/> of the samples (in order, never shuffled; shuffle or stratify the
    /// data beforehand), steps the schedule, writes the checkpoint of a best epoch (the model's parameters and the
    /// optimiser's state, as <see cref="Checkpoint"/> names the files) and stops early after
    /// <see cref="FitOptions.Patience"/> epochs without a better validation loss. With validation, the model ends with
    /// the parameters of the best epoch, and the reports carry the validation accuracy and macro-F1. Cancellation
    /// behaves as in <see cref="Trainer.FitSequenceClasses"/>.</para>
    /// <para>Each batch is padded to its own longest sequence with the model's <see cref="ITokenSequenceModel.PaddingIdx"/>
    /// (token 0 when it has none), and the lengths are passed, so padding changes nothing but the cost. With
    /// <see cref="FitOptions.BucketByLength"/>, after the shuffle the samples are sorted by length within pools of
    /// <see cref="FitOptions.BucketPoolBatches"/> batches, cut into batches, and the batches are shuffled: a batch
    /// then costs about its real steps. The <c>N mod BatchSize</c> samples the shuffle puts last form the one short
    /// batch, which stays last. Validation runs in batches of <see cref="FitOptions.BatchSize"/> sorted by length.</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">The model does not read tokens, or outputs every step.</exception>
    /// <exception cref="ArgumentException">The data or the options do not fit the model (the message names the sample).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public FitResult FitSequenceClasses(IReadOnlyList<int[]> sequences, IReadOnlyList<int> labels, FitOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        ITokenSequenceModel model = TokenModel();
        if (model.OutputPerStep)
        {
            throw new InvalidOperationException(
                $"{Model.GetType().Name} outputs every step; FitSequenceClasses needs one output per sequence (a Reduce module). Use FitTokenClasses for a class per step.");
        }
        if (labels.Count != sequences.Count)
        {
            throw new ArgumentException($"labels: expected one class per sequence ({sequences.Count}), got {labels.Count}.", nameof(labels));
        }
        var data = new TokenSequences(sequences, model.VocabularySize, nameof(sequences));
        int[] classes = [.. labels];
        int outputs = model.OutputSize;
        FitLoop.CheckClasses(classes, outputs, nameof(labels));
        FitPlan plan = FitLoop.Plan(data.Count, options, Optimizer, classification: true);

        int padding = Padding(model);
        int batch = options.BatchSize;
        var batchTokens = new int[ArgumentChecks.Length(nameof(options), "BatchSize", batch, data.MaxLength)];
        var batchLengths = new int[batch];
        var batchClasses = new int[batch];
        var validationOrder = new int[plan.Validation];
        for (int i = 0; i < validationOrder.Length; i++) validationOrder[i] = plan.Training + i;
        data.SortByLength(validationOrder);
        var logits = new float[ArgumentChecks.Length(nameof(sequences), "validation samples", plan.Validation, outputs)];
        var batchOutput = new float[ArgumentChecks.Length(nameof(options), "BatchSize", batch, outputs)];
        var evaluation = new ClassEvaluation(outputs);
        EpochOrder? arrange = null;
        if (options.BucketByLength)
        {
            var buckets = new LengthBuckets(data.Lengths, plan.Training, batch);
            arrange = buckets.Arrange;
        }
        return FitLoop.Run(this, plan, options, cancellationToken,
            trainBatch: indices =>
            {
                int steps = data.Pad(indices, padding, batchTokens, batchLengths);
                for (int i = 0; i < indices.Length; i++) batchClasses[i] = classes[indices[i]];
                return TrainClasses(batchTokens.AsSpan(0, indices.Length * steps), indices.Length,
                    batchClasses.AsSpan(0, indices.Length), batchLengths.AsSpan(0, indices.Length));
            },
            validate: () =>
            {
                data.Predict(model, validationOrder, batch, padding, batchTokens, batchLengths, batchOutput, logits, firstRow: plan.Training);
                return evaluation.Evaluate(logits, outputs, classes.AsSpan(plan.Training, plan.Validation));
            },
            arrange);
    }

    /// <summary>
    /// Fits a sequence → sequence classifier of token windows (e.g. a language model): sample n is the window
    /// <c>tokens[n]</c> <c>[T]</c> with a class per step <c>classes[n]</c> <c>[T]</c> (−100: ignored), by
    /// <see cref="TrainClasses(ReadOnlySpan{int}, int, ReadOnlySpan{int}, ReadOnlySpan{int})"/> (cross-entropy over
    /// all steps). The reports carry the validation accuracy and macro-F1 over all steps; see
    /// <see cref="FitSequenceClasses"/> for what every fit does.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model does not read tokens, or reduces over time.</exception>
    /// <exception cref="ArgumentException">The data or the options do not fit the model.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public FitResult FitTokenClasses(ReadOnlySpan<int> tokens, int steps, ReadOnlySpan<int> classes, FitOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ITokenSequenceModel model = TokenModel();
        if (!model.OutputPerStep)
        {
            throw new InvalidOperationException(
                $"{Model.GetType().Name} reduces over time (one output per sequence); FitTokenClasses needs one per step. Use FitSequenceClasses for a class per sequence.");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        if (tokens.IsEmpty || tokens.Length % steps != 0)
        {
            throw new ArgumentException($"tokens: expected [N, T] = [N, {steps}], a multiple of {steps} ids, got {tokens.Length}.", nameof(tokens));
        }
        int samples = tokens.Length / steps, outputs = model.OutputSize;
        if (classes.Length != tokens.Length)
        {
            throw new ArgumentException(
                $"classes: expected [N = {samples}, T = {steps}] ({tokens.Length} values) for the {samples} windows of tokens, got {classes.Length}.", nameof(classes));
        }
        TokenSequences.CheckTokens(tokens, model.VocabularySize, nameof(tokens));
        FitLoop.CheckClasses(classes, outputs, nameof(classes));
        FitPlan plan = FitLoop.Plan(samples, options, Optimizer, classification: true);

        int[] tokenCopy = tokens.ToArray(), classCopy = classes.ToArray();
        int batch = options.BatchSize, perBatch = ArgumentChecks.Length(nameof(options), "BatchSize", batch, steps);
        var batchTokens = new int[perBatch];
        var batchClasses = new int[perBatch];
        var logits = new float[ArgumentChecks.Length(nameof(tokens), "validation windows × steps", (long)plan.Validation * steps, outputs)];
        var evaluation = new ClassEvaluation(outputs);
        return FitLoop.Run(this, plan, options, cancellationToken,
            trainBatch: indices =>
            {
                for (int i = 0; i < indices.Length; i++)
                {
                    tokenCopy.AsSpan(indices[i] * steps, steps).CopyTo(batchTokens.AsSpan(i * steps));
                    classCopy.AsSpan(indices[i] * steps, steps).CopyTo(batchClasses.AsSpan(i * steps));
                }
                return TrainClasses(batchTokens.AsSpan(0, indices.Length * steps), indices.Length, batchClasses.AsSpan(0, indices.Length * steps));
            },
            validate: () =>
            {
                for (int first = 0; first < plan.Validation; first += batch)
                {
                    int count = Math.Min(batch, plan.Validation - first);
                    model.Forward(tokenCopy.AsSpan((plan.Training + first) * steps, count * steps), count,
                        logits.AsSpan(first * steps * outputs, count * steps * outputs));
                }
                return evaluation.Evaluate(logits, outputs, classCopy.AsSpan(plan.Training * steps, plan.Validation * steps));
            });
    }

    /// <summary>
    /// The outputs of a graph that reduces over time for variable-length token sequences: <c>output[n]</c>
    /// <c>[O]</c> is <c>model(sequences[n])</c>, by <see cref="ITokenSequenceModel.Forward"/> on batches of
    /// <paramref name="batchSize"/> sequences of similar lengths, each padded with the model's
    /// <see cref="ITokenSequenceModel.PaddingIdx"/> (0 for none) and run with its lengths. A sequence's output does
    /// not depend on the others of its batch. Allocates a copy of the sequences per call.
    /// </summary>
    /// <param name="model">A graph that reads tokens and reduces over time.</param>
    /// <param name="sequences">N sequences of token ids, each of at least one token.</param>
    /// <param name="output">The result <c>[N, O]</c>, overwritten.</param>
    /// <param name="batchSize">Sequences per forward call.</param>
    public static void PredictSequences(ITokenSequenceModel model, IReadOnlyList<int[]> sequences, Span<float> output, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (model.OutputPerStep)
        {
            throw new InvalidOperationException($"{model.GetType().Name} outputs every step; PredictSequences needs one output per sequence (a Reduce module).");
        }
        if (output.Length != (long)sequences.Count * model.OutputSize)
        {
            throw new ArgumentException(
                $"output: expected [N, O] = [{sequences.Count}, {model.OutputSize}] ({(long)sequences.Count * model.OutputSize} floats), got {output.Length}.", nameof(output));
        }
        if (sequences.Count == 0) return;
        var data = new TokenSequences(sequences, model.VocabularySize, nameof(sequences));
        var order = new int[data.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        data.SortByLength(order);
        int batch = Math.Min(batchSize, data.Count);
        var tokens = new int[ArgumentChecks.Length(nameof(batchSize), "batchSize", batch, data.MaxLength)];
        data.Predict(model, order, batch, Padding(model), tokens, new int[batch], new float[batch * model.OutputSize], output, firstRow: 0);
    }

    /// <summary>The token a batch is padded with: the Embedding's <c>padding_idx</c>, or 0 without one.</summary>
    private static int Padding(ITokenSequenceModel model) => model.PaddingIdx >= 0 ? model.PaddingIdx : 0;

    private protected override void SaveCheckpoint(string path) => SaveCheckpoint(path, Model.SaveSafetensors);
}

/// <summary>Variable-length token sequences copied into one buffer, with their lengths; pads batches of them.</summary>
internal sealed class TokenSequences
{
    private readonly int[] _tokens;
    private readonly int[] _offsets;

    /// <summary>Copies <paramref name="sequences"/>, checking that each is non-empty and holds token ids in [0, <paramref name="vocabulary"/>).</summary>
    public TokenSequences(IReadOnlyList<int[]> sequences, int vocabulary, string argument)
    {
        int count = sequences.Count;
        if (count == 0) throw new ArgumentException($"{argument}: expected at least one sequence.", argument);
        Lengths = new int[count];
        _offsets = new int[count];
        long total = 0;
        for (int n = 0; n < count; n++)
        {
            int[]? sequence = sequences[n];
            if (sequence is null || sequence.Length == 0)
            {
                throw new ArgumentException($"{argument}[{n}] is {(sequence is null ? "null" : "empty")}; every sequence needs at least one token.", argument);
            }
            CheckTokens(sequence, vocabulary, $"{argument}[{n}]");
            _offsets[n] = (int)total;
            Lengths[n] = sequence.Length;
            MaxLength = Math.Max(MaxLength, sequence.Length);
            total += sequence.Length;
            if (total > Array.MaxLength) throw new ArgumentException($"{argument}: more than {Array.MaxLength} tokens in all.", argument);
        }
        _tokens = new int[total];
        for (int n = 0; n < count; n++) sequences[n].CopyTo(_tokens, _offsets[n]);
    }

    /// <summary>N.</summary>
    public int Count => Lengths.Length;

    /// <summary>Each sequence's length.</summary>
    public int[] Lengths { get; }

    /// <summary>The longest sequence's length.</summary>
    public int MaxLength { get; }

    /// <summary>Throws unless every id of <paramref name="tokens"/> is in [0, <paramref name="vocabulary"/>).</summary>
    public static void CheckTokens(ReadOnlySpan<int> tokens, int vocabulary, string argument)
    {
        for (int t = 0; t < tokens.Length; t++)
        {
            if ((uint)tokens[t] >= (uint)vocabulary)
            {
                throw new ArgumentOutOfRangeException(argument, tokens[t],
                    $"{argument}[{t}] = {tokens[t]} is not a token id in [0, {vocabulary}) (VocabularySize).");
            }
        }
    }

    /// <summary>
    /// Writes the sequences <paramref name="indices"/> as a batch <c>[B, T]</c> into <paramref name="tokens"/>, T being
    /// their longest length, each row padded with <paramref name="padding"/>, and their lengths; returns T.
    /// </summary>
    public int Pad(ReadOnlySpan<int> indices, int padding, Span<int> tokens, Span<int> lengths)
    {
        int steps = 0;
        foreach (int index in indices) steps = Math.Max(steps, Lengths[index]);
        for (int i = 0; i < indices.Length; i++)
        {
            int length = Lengths[indices[i]];
            Span<int> row = tokens.Slice(i * steps, steps);
            _tokens.AsSpan(_offsets[indices[i]], length).CopyTo(row);
            row[length..].Fill(padding);
            lengths[i] = length;
        }
        return steps;
    }

    /// <summary>Sorts <paramref name="order"/> by the sequences' lengths (stable: equal lengths keep their order).</summary>
    public void SortByLength(int[] order)
    {
        var keys = new long[order.Length];
        for (int i = 0; i < order.Length; i++) keys[i] = (long)Lengths[order[i]] * order.Length + i;
        Array.Sort(keys, order);
    }

    /// <summary>
    /// <see cref="ITokenSequenceModel.Forward"/> over the sequences of <paramref name="order"/> in batches of
    /// <paramref name="batch"/>, through <paramref name="batchOutput"/> <c>[batch, O]</c>; sequence n's output goes to
    /// row <c>n − firstRow</c> of <paramref name="output"/>.
    /// </summary>
    public void Predict(ITokenSequenceModel model, int[] order, int batch, int padding, int[] tokens, int[] lengths,
        float[] batchOutput, Span<float> output, int firstRow)
    {
        int outputs = model.OutputSize;
        for (int first = 0; first < order.Length; first += batch)
        {
            int count = Math.Min(batch, order.Length - first);
            ReadOnlySpan<int> indices = order.AsSpan(first, count);
            int steps = Pad(indices, padding, tokens, lengths);
            Span<float> result = batchOutput.AsSpan(0, count * outputs);
            model.Forward(tokens.AsSpan(0, count * steps), count, result, lengths.AsSpan(0, count));
            for (int i = 0; i < count; i++) result.Slice(i * outputs, outputs).CopyTo(output.Slice((indices[i] - firstRow) * outputs, outputs));
        }
    }
}

/// <summary>
/// torchtext's <c>BucketIterator</c> order for one epoch: after the shuffle, sort within pools of
/// <see cref="FitOptions.BucketPoolBatches"/> batches by length, cut into batches, shuffle the batches. Buffers are
/// allocated once per fit.
/// </summary>
internal sealed class LengthBuckets
{
    private readonly int[] _lengths;
    private readonly int _batch;
    private readonly long[] _keys;
    private readonly int[] _scratch;
    private readonly int[] _batchOrder;

    public LengthBuckets(int[] lengths, int training, int batch)
    {
        _lengths = lengths;
        _batch = batch;
        _keys = new long[training];
        _scratch = new int[training];
        _batchOrder = new int[training / batch];
    }

    /// <summary>Rearranges the shuffled <paramref name="order"/> of the training samples into length buckets.</summary>
    public void Arrange(int[] order, ref SplitMix64 random)
    {
        int n = order.Length, full = n / _batch * _batch;
        int pool = (int)Math.Min((long)_batch * FitOptions.BucketPoolBatches, int.MaxValue);
        // Sort each pool, and the short remainder, by (length, position in the shuffle): deterministic for a seed.
        for (int start = 0; start < full; start += pool) SortRange(order, start, Math.Min(pool, full - start));
        if (full < n) SortRange(order, full, n - full);
        // Shuffle the full batches among themselves; the short one stays last.
        int batches = full / _batch;
        for (int b = 0; b < batches; b++) _batchOrder[b] = b;
        for (int b = batches - 1; b > 0; b--)
        {
            int j = (int)(random.Next() % (ulong)(b + 1));
            (_batchOrder[b], _batchOrder[j]) = (_batchOrder[j], _batchOrder[b]);
        }
        order.AsSpan(0, full).CopyTo(_scratch);
        for (int b = 0; b < batches; b++) _scratch.AsSpan(_batchOrder[b] * _batch, _batch).CopyTo(order.AsSpan(b * _batch));
    }

    private void SortRange(int[] order, int start, int length)
    {
        for (int i = start; i < start + length; i++) _keys[i] = (long)_lengths[order[i]] * order.Length + i;
        Array.Sort(_keys, order, start, length);
    }
}
