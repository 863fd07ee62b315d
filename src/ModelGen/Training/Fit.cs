using System.Diagnostics;

namespace ModelGen;

/// <summary>
/// Settings of <see cref="Trainer"/>'s fits (<see cref="Trainer.FitLast"/>, <see cref="Trainer.FitLastClasses"/>,
/// <see cref="Trainer.FitSequence"/>, <see cref="Trainer.FitSequenceClasses"/>): the loop a PyTorch user writes
/// around a <c>DataLoader(shuffle=True)</c>.
/// </summary>
/// <remarks>
/// Thread safety: immutable (init-only); one instance may configure fits on several threads, but a
/// <see cref="Schedule"/> it holds is stateful and belongs to one fit at a time.
/// </remarks>
public sealed record FitOptions
{
    /// <summary>Passes over the training samples.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per optimisation step (the last batch of an epoch may be smaller).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seed of the per-epoch shuffle of the training samples.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Fraction of the samples held out for validation: the last ones, in order, never shuffled — for windows
    /// of a time series that is a split by time.
    /// </summary>
    public double ValidationFraction { get; init; }

    /// <summary>Stop after this many epochs without a better validation loss (0: never stop early).</summary>
    public int Patience { get; init; }

    /// <summary>Called after every epoch with its report; print it, log it or ignore it.</summary>
    public Action<EpochReport>? OnEpoch { get; init; }

    /// <summary>
    /// Called after every optimisation step (and the schedule's step, when it steps per batch) with the loss and
    /// the learning rate of that step. The fit itself allocates nothing per batch.
    /// </summary>
    public Action<BatchReport>? OnBatch { get; init; }

    /// <summary>
    /// A learning-rate schedule of the trainer's optimiser, stepped after every epoch (with the validation loss, for
    /// <see cref="ReduceLROnPlateau"/>) or after every batch, as <see cref="ScheduleInterval"/> says.
    /// </summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>When <see cref="Schedule"/> steps; null for its <see cref="LearningRateSchedule.DefaultInterval"/>
    /// (per batch for <see cref="OneCycleLR"/>, per epoch for the others).</summary>
    public ScheduleInterval? ScheduleInterval { get; init; }

    /// <summary>
    /// When set, every epoch whose validation loss is the best so far (every epoch, without validation) writes a
    /// <see cref="Checkpoint"/> there: <c>path + ".safetensors"</c> with the parameters and
    /// <c>path + ".optimizer.safetensors"</c> with the optimiser state, each replaced atomically.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>
    /// Fits of variable-length sequences (<see cref="GraphTrainer.FitSequenceClasses"/>): after each epoch's shuffle,
    /// sort the samples by length within pools of <see cref="BucketPoolBatches"/> batches, cut the batches, and
    /// shuffle the order of the batches, as torchtext's <c>BucketIterator</c> does. Each batch then holds sequences
    /// of similar lengths and costs about its real steps instead of its longest sequence's steps for every row.
    /// Every sample is still seen exactly once per epoch. Fits of fixed-length samples ignore it.
    /// </summary>
    public bool BucketByLength { get; init; }

    /// <summary>
    /// What the best epoch (the one whose parameters the fit keeps, checkpoints, and counts <see cref="Patience"/>
    /// from) is best at: the validation loss (default), or for classification fits the validation accuracy or
    /// macro-F1 — the metric a classifier is judged by, which the loss only follows loosely once it overfits.
    /// </summary>
    public FitMetric BestEpochBy { get; init; } = FitMetric.Loss;

    /// <summary>The batches of one pool of <see cref="BucketByLength"/> (torchtext: 100).</summary>
    public const int BucketPoolBatches = 100;
}

/// <summary>The validation metric that picks a fit's best epoch (<see cref="FitOptions.BestEpochBy"/>).</summary>
public enum FitMetric
{
    /// <summary>The lowest validation loss.</summary>
    Loss = 0,

    /// <summary>The highest validation accuracy (classification fits).</summary>
    Accuracy = 1,

    /// <summary>The highest validation macro-F1 (classification fits).</summary>
    MacroF1 = 2,
}

/// <summary>What one epoch of a fit did.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="TrainLoss">Mean of the epoch's batch losses (before each step).</param>
/// <param name="ValidationLoss">Loss on the validation samples after the epoch; NaN without validation.</param>
/// <param name="SamplesPerSecond">Training samples processed per second in this epoch.</param>
/// <param name="Elapsed">Time since the fit started.</param>
/// <param name="Remaining">Estimated time for the remaining epochs: the mean duration of the epochs after the
/// first (which carries the JIT warm-up) times the epochs left; after the first epoch alone, its duration.</param>
/// <param name="IsBest">Whether the validation loss is the best so far (always true without validation).</param>
/// <param name="ValidationAccuracy">Classification fits: the fraction of validation predictions (argmax) that are the
/// target, as <c>sklearn.metrics.accuracy_score</c>; NaN for regression or without validation.</param>
/// <param name="ValidationMacroF1">Classification fits: <see cref="ConfusionCounts.MacroF1"/> of the validation
/// predictions, as <c>f1_score(average='macro')</c>; NaN for regression or without validation.</param>
public readonly record struct EpochReport(int Epoch, int Epochs, float TrainLoss, float ValidationLoss,
    double SamplesPerSecond, TimeSpan Elapsed, TimeSpan Remaining, bool IsBest,
    double ValidationAccuracy = double.NaN, double ValidationMacroF1 = double.NaN)
{
    /// <summary>
    /// The progress line, e.g. <c>epoch 68/150  train 0.05875  validation 0.08602 *  15475 samples/s  ETA 00:04</c>,
    /// with <c>accuracy … macro-F1 …</c> after the validation loss for classification fits.
    /// </summary>
    public override string ToString()
    {
        string validation = float.IsNaN(ValidationLoss) ? "" : FormattableString.Invariant($"  validation {ValidationLoss:G4}{(IsBest ? " *" : "")}");
        string metrics = double.IsNaN(ValidationAccuracy) ? "" : FormattableString.Invariant($"  accuracy {ValidationAccuracy:G4}  macro-F1 {ValidationMacroF1:G4}");
        return FormattableString.Invariant(
            $"epoch {Epoch}/{Epochs}  train {TrainLoss:G4}{validation}{metrics}  {SamplesPerSecond:F0} samples/s  ETA {Remaining:mm\\:ss}");
    }
}

/// <summary>What one optimisation step of a fit did.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Batch">1-based batch number within the epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">The batch's loss before the step.</param>
/// <param name="LearningRate">The learning rate the step used (a per-batch schedule has moved on since).</param>
public readonly record struct BatchReport(int Epoch, int Batch, int Batches, float Loss, float LearningRate);

/// <summary>The outcome of a fit.</summary>
/// <param name="History">One report per epoch run.</param>
/// <param name="BestEpoch">The epoch whose parameters the model holds at the end.</param>
/// <param name="StoppedEarly">Whether <see cref="FitOptions.Patience"/> ended the fit.</param>
/// <remarks>Thread safety: immutable once the fit has returned; any number of threads may read it.</remarks>
public sealed record FitResult(IReadOnlyList<EpochReport> History, int BestEpoch, bool StoppedEarly);

/// <summary>
/// The remaining-time estimate of <see cref="EpochReport.Remaining"/>: the first epoch includes JIT compilation and
/// buffer growth, often many times a warm epoch, so once a second epoch exists the first is left out and the
/// estimate is the mean of the later ones (the mean, not the median: slow epochs count in the total too).
/// </summary>
internal struct EpochTimeEstimate
{
    private long _firstTicks;
    private long _laterTicks;
    private int _epochs;

    /// <summary>Adds one epoch's duration.</summary>
    public void Add(TimeSpan duration)
    {
        if (_epochs == 0) _firstTicks = duration.Ticks;
        else _laterTicks += duration.Ticks;
        _epochs++;
    }

    /// <summary>The estimated time for <paramref name="epochsLeft"/> more epochs.</summary>
    public readonly TimeSpan Remaining(int epochsLeft) => _epochs switch
    {
        0 => TimeSpan.Zero,
        1 => TimeSpan.FromTicks(_firstTicks * epochsLeft),
        _ => TimeSpan.FromTicks((long)Math.Round((double)_laterTicks / (_epochs - 1) * epochsLeft)),
    };

    /// <summary>The estimate after the epochs of <paramref name="durations"/>, for <paramref name="epochsLeft"/> more.</summary>
    public static TimeSpan Remaining(ReadOnlySpan<TimeSpan> durations, int epochsLeft)
    {
        var estimate = new EpochTimeEstimate();
        foreach (TimeSpan duration in durations) estimate.Add(duration);
        return estimate.Remaining(epochsLeft);
    }
}

public sealed partial class Trainer
{
    private protected override void SaveCheckpoint(string path) => Checkpoint.Save(Model, Optimizer, path);

    /// <summary>
    /// Fits a sequence → one regression: sample n is the window <c>inputs[n]</c> <c>[T, I]</c> with the target
    /// <c>targets[n]</c> <c>[O]</c>, by <see cref="TrainLast"/> (MSE). See <see cref="FitSequenceClasses"/> for what
    /// every fit does.
    /// </summary>
    public FitResult FitLast(ReadOnlySpan<float> inputs, int steps, ReadOnlySpan<float> targets, FitOptions options,
        CancellationToken cancellationToken = default) =>
        Fit(inputs, steps, targets, sequence: false, new Regression(), options, cancellationToken);

    /// <summary>
    /// Fits a sequence → one classifier: sample n is <c>inputs[n]</c> <c>[T, I]</c> with the class
    /// <c>classes[n]</c>, by <see cref="TrainLastClasses"/> (cross-entropy; a class of −100 is ignored). The
    /// reports carry the validation accuracy and macro-F1. See <see cref="FitSequenceClasses"/> for what every fit does.
    /// </summary>
    public FitResult FitLastClasses(ReadOnlySpan<float> inputs, int steps, ReadOnlySpan<int> classes, FitOptions options,
        CancellationToken cancellationToken = default) =>
        Fit(inputs, steps, classes, sequence: false, new Classification(Model.OutputSize), options, cancellationToken);

    /// <summary>
    /// Fits a sequence → sequence regression: sample n is <c>inputs[n]</c> <c>[T, I]</c> with a target per step
    /// <c>targets[n]</c> <c>[T, O]</c>, by <see cref="TrainSequence"/> (MSE). See <see cref="FitSequenceClasses"/> for
    /// what every fit does.
    /// </summary>
    public FitResult FitSequence(ReadOnlySpan<float> inputs, int steps, ReadOnlySpan<float> targets, FitOptions options,
        CancellationToken cancellationToken = default) =>
        Fit(inputs, steps, targets, sequence: true, new Regression(), options, cancellationToken);

    /// <summary>
    /// Fits a sequence → sequence classifier (e.g. a character language model): sample n is
    /// <c>inputs[n]</c> <c>[T, I]</c> with a class per step <c>classes[n]</c> <c>[T]</c>, by
    /// <see cref="TrainSequenceClasses"/> (cross-entropy over all steps; a class of −100 is ignored). The reports
    /// carry the validation accuracy and macro-F1 over all steps.
    /// </summary>
    /// <remarks>
    /// Every fit copies the data once, then runs <see cref="FitOptions.Epochs"/> epochs of shuffled mini-batches,
    /// validates after each, steps the schedule and writes the checkpoint as the options say. With validation, the
    /// model ends with the parameters of the best epoch. When <paramref name="cancellationToken"/> is cancelled the
    /// fit stops before the next batch and throws <see cref="OperationCanceledException"/>; with validation the model
    /// then holds the parameters of the best epoch so far (its starting parameters if no epoch finished), without
    /// validation those of its last step.
    /// </remarks>
    /// <exception cref="ArgumentException">The data or the options do not fit the model (the message names the
    /// argument, the expected shape and the actual one).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public FitResult FitSequenceClasses(ReadOnlySpan<float> inputs, int steps, ReadOnlySpan<int> classes, FitOptions options,
        CancellationToken cancellationToken = default) =>
        Fit(inputs, steps, classes, sequence: true, new Classification(Model.OutputSize), options, cancellationToken);

    /// <summary>How the batch loss and the validation of one kind of fit are computed, for targets of type <typeparamref name="T"/>.</summary>
    private abstract class Objective<T>
    {
        /// <summary>The name of the targets argument.</summary>
        public abstract string TargetsName { get; }

        /// <summary>Whether each prediction row has an O-wide target (regression) or one class index.</summary>
        public abstract bool PerOutput { get; }

        /// <summary>Checks the targets before training starts.</summary>
        public virtual void Check(ReadOnlySpan<T> targets, int outputs)
        {
        }

        public abstract float Train(Trainer trainer, ReadOnlySpan<float> input, int batchSize, ReadOnlySpan<T> targets, bool sequence);

        /// <summary>Loss and metrics of <paramref name="predictions"/>, which it may overwrite.</summary>
        public abstract Evaluation Evaluate(Span<float> predictions, int outputs, ReadOnlySpan<T> targets);
    }

    private sealed class Regression : Objective<float>
    {
        public override string TargetsName => "targets";

        public override bool PerOutput => true;

        public override float Train(Trainer trainer, ReadOnlySpan<float> input, int batchSize, ReadOnlySpan<float> targets, bool sequence) =>
            sequence ? trainer.TrainSequence(input, batchSize, targets) : trainer.TrainLast(input, batchSize, targets);

        public override Evaluation Evaluate(Span<float> predictions, int outputs, ReadOnlySpan<float> targets) =>
            new(Losses.MeanSquaredError(predictions, targets, predictions), double.NaN, double.NaN);
    }

    private sealed class Classification(int classes) : Objective<int>
    {
        private readonly ClassEvaluation _evaluation = new(classes);

        public override string TargetsName => "classes";

        public override bool PerOutput => false;

        public override void Check(ReadOnlySpan<int> targets, int outputs) => FitLoop.CheckClasses(targets, outputs, "classes");

        public override float Train(Trainer trainer, ReadOnlySpan<float> input, int batchSize, ReadOnlySpan<int> targets, bool sequence) =>
            sequence ? trainer.TrainSequenceClasses(input, batchSize, targets) : trainer.TrainLastClasses(input, batchSize, targets);

        public override Evaluation Evaluate(Span<float> predictions, int outputs, ReadOnlySpan<int> targets) =>
            _evaluation.Evaluate(predictions, outputs, targets);
    }

    /// <summary>The one fit behind the four: copies the data, builds the batch and validation steps, and runs the loop.</summary>
    private FitResult Fit<T>(ReadOnlySpan<float> inputs, int steps, ReadOnlySpan<T> targets, bool sequence, Objective<T> objective,
        FitOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        int perSample = PerSample(steps), outputs = Model.OutputSize;
        int rows = sequence ? steps : 1;
        int perTarget = ArgumentChecks.Length(nameof(steps), "steps", rows, objective.PerOutput ? outputs : 1);
        string shape = $"[N{(sequence ? $", T = {steps}" : "")}{(objective.PerOutput ? $", O = {outputs}" : "")}]";
        int samples = SampleCount(inputs.Length, perSample, targets.Length, perTarget, objective.TargetsName, shape);
        objective.Check(targets, outputs);
        FitPlan plan = FitLoop.Plan(samples, options, Optimizer, classification: typeof(T) == typeof(int));

        float[] inputCopy = inputs.ToArray();
        T[] targetCopy = targets.ToArray();
        var batchInput = new float[BatchLength(options, perSample)];
        var batchTargets = new T[BatchLength(options, perTarget)];
        var predictions = new float[ArgumentChecks.Length(nameof(inputs), "validation samples × steps", (long)plan.Validation * rows, outputs)];
        return FitLoop.Run(this, plan, options, cancellationToken,
            trainBatch: indices =>
            {
                Gather(inputCopy, perSample, indices, batchInput);
                Gather(targetCopy, perTarget, indices, batchTargets);
                return objective.Train(this, batchInput.AsSpan(0, indices.Length * perSample), indices.Length,
                    batchTargets.AsSpan(0, indices.Length * perTarget), sequence);
            },
            validate: () =>
            {
                ReadOnlySpan<float> input = inputCopy.AsSpan(plan.Training * perSample, plan.Validation * perSample);
                if (sequence) Model.PredictSequence(input, plan.Validation, predictions);
                else Model.PredictLast(input, plan.Validation, predictions);
                return objective.Evaluate(predictions, outputs, targetCopy.AsSpan(plan.Training * perTarget, plan.Validation * perTarget));
            });
    }

    /// <summary>Floats of one sample <c>[T, I]</c>.</summary>
    private int PerSample(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        return ArgumentChecks.Length(nameof(steps), "steps", steps, Model.InputSize);
    }

    /// <summary>Elements of a batch of <see cref="FitOptions.BatchSize"/> samples of <paramref name="perSample"/> each.</summary>
    private static int BatchLength(FitOptions options, int perSample) => ArgumentChecks.Length(nameof(options), "BatchSize", options.BatchSize, perSample);

    private int SampleCount(int inputLength, int perSample, int targetLength, int perTarget, string targetsName, string shape)
    {
        if (perSample == 0 || inputLength == 0 || inputLength % perSample != 0)
        {
            throw new ArgumentException(
                $"inputs: expected [N, T, I] = [N, {perSample / Model.InputSize}, {Model.InputSize}], a multiple of {perSample} floats, got {inputLength}.", "inputs");
        }
        int samples = inputLength / perSample;
        if (targetLength != (long)samples * perTarget)
        {
            throw new ArgumentException(
                $"{targetsName}: expected {shape.Replace("[N", $"[N = {samples}", StringComparison.Ordinal)} ({(long)samples * perTarget} values) for the {samples} samples of inputs, got {targetLength}.",
                targetsName);
        }
        return samples;
    }

    private static void Gather<T>(T[] source, int perSample, ReadOnlySpan<int> indices, T[] destination)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            source.AsSpan(indices[i] * perSample, perSample).CopyTo(destination.AsSpan(i * perSample, perSample));
        }
    }
}

/// <summary>What <see cref="FitLoop.Run"/> needs of the trainer whose fit it runs.</summary>
internal interface IFitHost
{
    /// <summary>The optimiser whose learning rate the reports show and the schedule sets.</summary>
    Optimizer Optimizer { get; }

    /// <summary>Floats in the model's parameter buffer.</summary>
    int ParameterCount { get; }

    /// <summary>A copy of the model's parameters, into <paramref name="destination"/>.</summary>
    void CopyParameters(float[] destination);

    /// <summary>Writes <paramref name="source"/> into the model's parameters (the best epoch's, at the end).</summary>
    void RestoreParameters(float[] source);

    /// <summary>Writes a <see cref="Checkpoint"/> of the model and the optimiser at <paramref name="path"/>.</summary>
    void SaveCheckpoint(string path);

    /// <summary>Forgets a carried recurrent state (at the start of every epoch).</summary>
    void ResetCarriedState();
}

/// <summary>Loss and metrics of one validation pass.</summary>
internal readonly record struct Evaluation(float Loss, double Accuracy, double MacroF1)
{
    /// <summary>No validation: NaN everywhere.</summary>
    public static Evaluation None => new(float.NaN, double.NaN, double.NaN);
}

/// <summary>The sizes of a fit: samples, the split and batches per epoch.</summary>
internal readonly record struct FitPlan(int Training, int Validation, int Batches);

/// <summary>One optimisation step on the training samples <paramref name="indices"/>; returns its loss.</summary>
internal delegate float BatchStep(ReadOnlySpan<int> indices);

/// <summary>Rearranges an epoch's shuffled order of training samples (e.g. into length buckets), with the fit's generator.</summary>
internal delegate void EpochOrder(int[] order, ref SplitMix64 random);

/// <summary>Cross-entropy, accuracy and macro-F1 of validation logits, on counts allocated once.</summary>
internal sealed class ClassEvaluation(int classes)
{
    private readonly ConfusionCounts _counts = new(classes);

    /// <summary>Loss and metrics of <paramref name="logits"/> <c>[N, outputs]</c>, which it overwrites with the loss gradient.</summary>
    public Evaluation Evaluate(Span<float> logits, int outputs, ReadOnlySpan<int> targets)
    {
        // The metrics read the logits before the loss writes its gradient over them.
        _counts.Clear();
        _counts.Add(logits, targets, FitLoop.IgnoredClass);
        float loss = Losses.CrossEntropy(logits, outputs, targets, logits);
        return new Evaluation(loss, _counts.Accuracy, _counts.MacroF1);
    }
}

/// <summary>
/// The loop every fit runs, <see cref="Trainer"/>'s and <see cref="GraphTrainer"/>'s: the plan and its checks, then
/// epochs of shuffled batches, validation, best-epoch tracking, checkpoints, schedules, reports, early stopping and
/// cancellation.
/// </summary>
internal static class FitLoop
{
    /// <summary>PyTorch's default <c>ignore_index</c>, which the trainers' cross-entropy uses.</summary>
    public const int IgnoredClass = -100;

    /// <summary>Throws unless every target is a class in [0, <paramref name="outputs"/>) or <see cref="IgnoredClass"/>.</summary>
    public static void CheckClasses(ReadOnlySpan<int> targets, int outputs, string argument)
    {
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] != IgnoredClass && (uint)targets[i] >= (uint)outputs)
            {
                throw new ArgumentOutOfRangeException(argument, targets[i],
                    $"{argument}[{i}] = {targets[i]} is not a class in [0, {outputs}) (OutputSize) nor {IgnoredClass} (ignored).");
            }
        }
    }

    /// <summary>Checks the options and splits <paramref name="samples"/> into training and validation.</summary>
    public static FitPlan Plan(int samples, FitOptions options, Optimizer optimizer, bool classification)
    {
        if (options.BestEpochBy is not (FitMetric.Loss or FitMetric.Accuracy or FitMetric.MacroF1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BestEpochBy, "options: BestEpochBy is not a defined FitMetric.");
        }
        if (options.BestEpochBy != FitMetric.Loss && !classification)
        {
            throw new ArgumentException($"options: BestEpochBy = {options.BestEpochBy} needs a classification fit; a regression fit has only its loss.", nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Epochs, "options.Epochs");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize, "options.BatchSize");
        if (options.ValidationFraction is < 0 or >= 1 || double.IsNaN(options.ValidationFraction))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ValidationFraction, "ValidationFraction must be in [0, 1).");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(options.Patience, "options.Patience");
        if (options.CheckpointPath is { Length: 0 }) throw new ArgumentException("options: CheckpointPath is empty; set a path or null.", nameof(options));
        int validation = (int)Math.Round(samples * options.ValidationFraction);
        int training = samples - validation;
        if (training < 1) throw new ArgumentException("No training samples remain after the validation split.", nameof(options));
        var plan = new FitPlan(training, validation, (training + options.BatchSize - 1) / options.BatchSize);
        CheckSchedule(options, plan, optimizer);
        return plan;
    }

    private static void CheckSchedule(FitOptions options, FitPlan plan, Optimizer optimizer)
    {
        if (options.ScheduleInterval is { } requested && !Enum.IsDefined(requested))
        {
            throw new ArgumentOutOfRangeException(nameof(options), requested, "ScheduleInterval must be Epoch or Batch.");
        }
        if (options.Schedule is not { } schedule) return;
        string name = schedule.GetType().Name;
        if (!ReferenceEquals(schedule.Optimizer, optimizer))
        {
            throw new ArgumentException($"options: Schedule ({name}) sets the learning rate of another optimiser than this trainer's.", nameof(options));
        }
        ScheduleInterval interval = options.ScheduleInterval ?? schedule.DefaultInterval;
        if (schedule.NeedsMetric && (interval == ModelGen.ScheduleInterval.Batch || plan.Validation == 0))
        {
            throw new ArgumentException(
                $"options: Schedule {name} steps once per epoch on the validation loss; it needs ValidationFraction > 0 and ScheduleInterval Epoch, got {options.ValidationFraction} and {interval}.",
                nameof(options));
        }
        if (schedule.StepLimit is int limit)
        {
            long planned = interval == ModelGen.ScheduleInterval.Batch ? (long)options.Epochs * plan.Batches : options.Epochs;
            if (schedule.StepCount + planned > limit)
            {
                throw new ArgumentException(
                    $"options: Schedule {name} allows {limit - schedule.StepCount} more steps, the fit may take {planned} " +
                    $"({options.Epochs} epochs{(interval == ModelGen.ScheduleInterval.Batch ? $" × {plan.Batches} batches" : "")}); " +
                    $"make its total steps at least that.", nameof(options));
            }
        }
    }

    /// <summary>The epoch loop: shuffle, batches, validation, best-epoch tracking, checkpoints, schedules, reports, early stopping, cancellation.</summary>
    public static FitResult Run(IFitHost host, FitPlan plan, FitOptions options, CancellationToken cancellationToken, BatchStep trainBatch,
        Func<Evaluation> validate, EpochOrder? arrange = null)
    {
        (int training, int validation, int batches) = plan;
        LearningRateSchedule? schedule = options.Schedule;
        bool perBatch = (options.ScheduleInterval ?? schedule?.DefaultInterval) == ModelGen.ScheduleInterval.Batch;
        var order = new int[training];
        for (int i = 0; i < training; i++) order[i] = i;
        var random = new SplitMix64(options.Seed);
        var best = new float[host.ParameterCount];
        host.CopyParameters(best);
        // The best epoch's score: the validation loss, or the negated accuracy or macro-F1, lower being better.
        double bestScore = double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        var history = new List<EpochReport>();
        var estimate = new EpochTimeEstimate();
        var clock = Stopwatch.StartNew();
        bool stoppedEarly = false;

        void StopIfCancelled()
        {
            if (!cancellationToken.IsCancellationRequested) return;
            if (validation > 0) host.RestoreParameters(best);
            cancellationToken.ThrowIfCancellationRequested();
        }

        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            TimeSpan epochStart = clock.Elapsed;
            Shuffle(order, ref random);
            arrange?.Invoke(order, ref random);
            double lossSum = 0;
            host.ResetCarriedState();
            for (int batch = 0; batch < batches; batch++)
            {
                StopIfCancelled();
                int start = batch * options.BatchSize;
                float learningRate = host.Optimizer.LearningRate;
                float loss = trainBatch(order.AsSpan(start, Math.Min(options.BatchSize, training - start)));
                lossSum += loss;
                if (perBatch) schedule!.Advance(double.NaN);
                options.OnBatch?.Invoke(new BatchReport(epoch, batch + 1, batches, loss, learningRate));
            }
            StopIfCancelled();
            Evaluation evaluation = validation > 0 ? validate() : Evaluation.None;
            double score = options.BestEpochBy switch
            {
                FitMetric.Accuracy => -evaluation.Accuracy,
                FitMetric.MacroF1 => -evaluation.MacroF1,
                _ => evaluation.Loss,
            };
            bool isBest = validation == 0 || score < bestScore;
            if (isBest)
            {
                bestScore = validation > 0 ? score : bestScore;
                bestEpoch = epoch;
                sinceBest = 0;
                if (validation > 0) host.CopyParameters(best);
                if (options.CheckpointPath is { } path) host.SaveCheckpoint(path);
            }
            else
            {
                sinceBest++;
            }
            if (schedule is not null && !perBatch) schedule.Advance(evaluation.Loss);
            TimeSpan elapsed = clock.Elapsed, duration = elapsed - epochStart;
            estimate.Add(duration);
            var report = new EpochReport(epoch, options.Epochs, (float)(lossSum / batches), evaluation.Loss,
                training / Math.Max(duration.TotalSeconds, 1e-9), elapsed, estimate.Remaining(options.Epochs - epoch), isBest,
                evaluation.Accuracy, evaluation.MacroF1);
            history.Add(report);
            options.OnEpoch?.Invoke(report);
            if (options.Patience > 0 && sinceBest >= options.Patience && epoch < options.Epochs)
            {
                stoppedEarly = true;
                break;
            }
        }
        if (validation > 0) host.RestoreParameters(best);
        return new FitResult(history, bestEpoch, stoppedEarly);
    }

    /// <summary>Fisher–Yates with the fit's own seeded generator, so an epoch's order is the same on every machine.</summary>
    public static void Shuffle(int[] order, ref SplitMix64 random)
    {
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(random.Next() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
