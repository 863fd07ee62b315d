namespace ModelGen;

/// <summary>
/// <see cref="Trainer"/> for <c>[Seq2SeqModel]</c> encoder–decoders (<see cref="ISeq2SeqModel"/>): one call per
/// teacher-forced optimisation step on a batch — training forward, cross-entropy over the target positions,
/// zero-grad, backward through decoder, bridge and encoder, optional clipping, optimiser step — and a fit over
/// variable-length (source, target) pairs. Buffers grow on the first step that needs them; warm steps allocate nothing.
/// </summary>
/// <remarks>
/// <para>Teacher forcing as PyTorch's tutorials do it: for a target y₁ … yₙ the decoder reads
/// <c>[start, y₁, …, yₙ]</c> and is scored against <c>[y₁, …, yₙ, end]</c>; positions past a row's length hold
/// class −100 (<c>ignore_index</c>), so the loss is the mean over the real target tokens of the batch.</para>
/// <para>Thread safety: not thread-safe; a trainer, its model and its optimiser belong to one thread.</para>
/// </remarks>
/// <example>
/// <code>
/// var model = new Speller();
/// model.InitializeParameters(seed: 1);
/// var trainer = new Seq2SeqTrainer(model, new Adam(model.ParameterCount, 2e-3f)) { ClipGradientNorm = 1f };
/// FitResult fit = trainer.Fit(sources, targets, new Seq2SeqTokens(Start: 1, End: 2, Padding: 0),
///     new FitOptions { Epochs = 10, BatchSize = 64, ValidationFraction = 0.05, BucketByLength = true });
/// </code>
/// </example>
public sealed class Seq2SeqTrainer : TrainerBase
{
    private float[] _logits = [];
    private float[] _gradient = [];

    /// <summary>Trains <paramref name="model"/> with <paramref name="optimizer"/>, sized for the model's parameters.</summary>
    public Seq2SeqTrainer(ISeq2SeqModel model, Optimizer optimizer) : base(model, optimizer) => Model = model;

    /// <summary>The model being trained.</summary>
    public ISeq2SeqModel Model { get; }

    /// <summary>
    /// One teacher-forced step: <c>cross_entropy(model(source, targetInput), targetOutput, ignore_index=-100)</c>,
    /// the mean over the positions whose class is not −100. Returns the loss before the step.
    /// </summary>
    /// <param name="source">Source token ids <c>[B, Ts]</c>.</param>
    /// <param name="targetInput">What the decoder reads <c>[B, Tt]</c>: each target behind the start token.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="targetOutput">What it should predict <c>[B, Tt]</c>: each target followed by the end token, −100 past it.</param>
    /// <param name="sourceLengths">Per-row source lengths <c>[B]</c>; empty: Ts.</param>
    /// <param name="targetLengths">Per-row target lengths <c>[B]</c> (end token included); empty: Tt.</param>
    public float TrainBatch(ReadOnlySpan<int> source, ReadOnlySpan<int> targetInput, int batchSize, ReadOnlySpan<int> targetOutput,
        ReadOnlySpan<int> sourceLengths = default, ReadOnlySpan<int> targetLengths = default)
    {
        if (targetOutput.Length != targetInput.Length)
        {
            throw new ArgumentException(
                $"targetOutput: expected [B, Tt] like targetInput ({targetInput.Length} ids), got {targetOutput.Length}.", nameof(targetOutput));
        }
        int vocabulary = Model.TargetVocabularySize;
        FitLoop.CheckClasses(targetOutput, vocabulary, nameof(targetOutput));
        int length = ArgumentChecks.Length(nameof(targetInput), "target positions", targetInput.Length, vocabulary);
        if (_logits.Length < length)
        {
            _logits = new float[length];
            _gradient = new float[length];
        }
        Span<float> logits = _logits.AsSpan(0, length), gradient = _gradient.AsSpan(0, length);
        Model.TrainForward(source, targetInput, batchSize, logits, sourceLengths, targetLengths);
        float loss = Losses.CrossEntropy(logits, vocabulary, targetOutput, gradient);
        Model.ZeroGradients();
        Model.Backward(gradient);
        return ClipAndStep(loss);
    }

    /// <summary>
    /// Fits the model to pairs: <c>sources[n]</c> → <c>targets[n]</c> (token ids, without start and end tokens),
    /// teacher-forced, by <see cref="TrainBatch"/>. The reports carry the validation loss, and the accuracy and
    /// macro-F1 of the next-token predictions over the validation targets' tokens (end tokens included).
    /// </summary>
    /// <remarks>
    /// <para>The loop of every fit (<see cref="GraphTrainer.FitSequenceClasses"/>): the data is copied once; every
    /// epoch shuffles the training pairs with <see cref="FitOptions.Seed"/>, validates on the last
    /// <see cref="FitOptions.ValidationFraction"/> of the pairs, steps the schedule, checkpoints a best epoch and
    /// stops early after <see cref="FitOptions.Patience"/> epochs without a better one; with validation the model ends
    /// with the best epoch's parameters. Each batch is padded to its longest source and target with
    /// <see cref="Seq2SeqTokens.Padding"/>, and the lengths are passed. With <see cref="FitOptions.BucketByLength"/>
    /// the pairs are bucketed by source plus target length.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">The data or the options do not fit the model (the message names the pair).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public FitResult Fit(IReadOnlyList<int[]> sources, IReadOnlyList<int[]> targets, Seq2SeqTokens tokens, FitOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(options);
        int vocabulary = Model.TargetVocabularySize;
        tokens.Check(vocabulary);
        if (targets.Count != sources.Count)
        {
            throw new ArgumentException($"targets: expected one target per source ({sources.Count}), got {targets.Count}.", nameof(targets));
        }
        var source = new TokenSequences(sources, Model.SourceVocabularySize, nameof(sources));
        var target = new TokenSequences([.. targets.Select((t, n) => t is null ? null! : (int[])[tokens.Start, .. t])], vocabulary, nameof(targets));
        FitPlan plan = FitLoop.Plan(source.Count, options, Optimizer, classification: true);
        var lengths = new int[source.Count];
        for (int n = 0; n < lengths.Length; n++) lengths[n] = source.Lengths[n] + target.Lengths[n];

        int batch = options.BatchSize;
        var batchSource = new int[ArgumentChecks.Length(nameof(options), "BatchSize", batch, source.MaxLength)];
        var batchInput = new int[ArgumentChecks.Length(nameof(options), "BatchSize", batch, target.MaxLength)];
        var batchOutput = new int[batchInput.Length];
        var sourceLengths = new int[batch];
        var targetLengths = new int[batch];

        // Validation: every pair once, in batches of similar lengths; the logits of all its positions, then one evaluation.
        var validationOrder = new int[plan.Validation];
        for (int i = 0; i < validationOrder.Length; i++) validationOrder[i] = plan.Training + i;
        Array.Sort(validationOrder.Select(n => (long)lengths[n] * lengths.Length + n).ToArray(), validationOrder);
        long positions = 0;
        for (int first = 0; first < validationOrder.Length; first += batch)
        {
            int count = Math.Min(batch, validationOrder.Length - first), longest = 0;
            for (int i = first; i < first + count; i++) longest = Math.Max(longest, target.Lengths[validationOrder[i]]);
            positions += (long)count * longest;
        }
        var validationLogits = new float[ArgumentChecks.Length(nameof(sources), "validation target positions", positions, vocabulary)];
        var validationClasses = new int[positions];
        var evaluation = new ClassEvaluation(vocabulary);

        // One batch: the sources padded, the decoder's input [start, y…] padded, and its classes [y…, end] with −100 past it.
        (int SourceSteps, int TargetSteps) Pad(ReadOnlySpan<int> indices)
        {
            int targetSteps = target.Pad(indices, tokens.Padding, batchInput, targetLengths);
            for (int i = 0; i < indices.Length; i++)
            {
                Span<int> input = batchInput.AsSpan(i * targetSteps, targetSteps), output = batchOutput.AsSpan(i * targetSteps, targetSteps);
                int length = targetLengths[i];
                input.Slice(1, length - 1).CopyTo(output);
                output[length - 1] = tokens.End;
                output[length..].Fill(FitLoop.IgnoredClass);
            }
            return (source.Pad(indices, tokens.Padding, batchSource, sourceLengths), targetSteps);
        }

        EpochOrder? arrange = options.BucketByLength ? new LengthBuckets(lengths, plan.Training, batch).Arrange : null;
        return FitLoop.Run(this, plan, options, cancellationToken,
            trainBatch: indices =>
            {
                (int sourceSteps, int targetSteps) = Pad(indices);
                int count = indices.Length;
                return TrainBatch(batchSource.AsSpan(0, count * sourceSteps), batchInput.AsSpan(0, count * targetSteps), count,
                    batchOutput.AsSpan(0, count * targetSteps), sourceLengths.AsSpan(0, count), targetLengths.AsSpan(0, count));
            },
            validate: () =>
            {
                long at = 0;
                for (int first = 0; first < validationOrder.Length; first += batch)
                {
                    int count = Math.Min(batch, validationOrder.Length - first);
                    (int sourceSteps, int targetSteps) = Pad(validationOrder.AsSpan(first, count));
                    int rows = count * targetSteps;
                    Model.Forward(batchSource.AsSpan(0, count * sourceSteps), batchInput.AsSpan(0, rows), count,
                        validationLogits.AsSpan((int)(at * vocabulary), rows * vocabulary), sourceLengths.AsSpan(0, count), targetLengths.AsSpan(0, count));
                    batchOutput.AsSpan(0, rows).CopyTo(validationClasses.AsSpan((int)at));
                    at += rows;
                }
                return evaluation.Evaluate(validationLogits, vocabulary, validationClasses);
            },
            arrange);
    }

    private protected override void SaveCheckpoint(string path) => SaveCheckpoint(path, Model.SaveSafetensors);
}

/// <summary>The special token ids of a target vocabulary for teacher forcing and decoding.</summary>
/// <param name="Start">The token the decoder reads first (BOS).</param>
/// <param name="End">The token that ends a target (EOS); decoding stops at it.</param>
/// <param name="Padding">The token batches are padded with (the Embeddings' <c>padding_idx</c>).</param>
public readonly record struct Seq2SeqTokens(int Start, int End, int Padding)
{
    /// <summary>Throws unless every id is a token of a vocabulary of <paramref name="vocabulary"/> ids and start differs from end.</summary>
    public void Check(int vocabulary)
    {
        foreach ((string name, int id) in new[] { (nameof(Start), Start), (nameof(End), End), (nameof(Padding), Padding) })
        {
            if ((uint)id >= (uint)vocabulary)
            {
                throw new ArgumentOutOfRangeException("tokens", id, $"tokens: {name} = {id} is not a token id in [0, {vocabulary}) (TargetVocabularySize).");
            }
        }
        if (Start == End) throw new ArgumentException($"tokens: Start and End are both {Start}; decoding could not tell a start from an end.", "tokens");
    }
}
