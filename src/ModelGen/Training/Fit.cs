using System.Diagnostics;

namespace ModelGen;

/// <summary>Settings of <see cref="Trainer.FitLast"/> and <see cref="Trainer.FitSequenceClasses"/>.</summary>
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
}

/// <summary>What one epoch of a fit did.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="TrainLoss">Mean of the epoch's batch losses (before each step).</param>
/// <param name="ValidationLoss">Loss on the validation samples after the epoch; NaN without validation.</param>
/// <param name="SamplesPerSecond">Training samples processed per second in this epoch.</param>
/// <param name="Elapsed">Time since the fit started.</param>
/// <param name="Remaining">Estimated time for the remaining epochs.</param>
/// <param name="IsBest">Whether the validation loss is the best so far (always true without validation).</param>
public readonly record struct EpochReport(int Epoch, int Epochs, float TrainLoss, float ValidationLoss,
    double SamplesPerSecond, TimeSpan Elapsed, TimeSpan Remaining, bool IsBest)
{
    /// <inheritdoc/>
    public override string ToString() =>
        FormattableString.Invariant(
            $"epoch {Epoch}/{Epochs}  train {TrainLoss:G4}{(float.IsNaN(ValidationLoss) ? "" : $"  validation {ValidationLoss:G4}{(IsBest ? " *" : "")}")}  {SamplesPerSecond:F0} samples/s  ETA {Remaining:mm\\:ss}");
}

/// <summary>The outcome of a fit.</summary>
/// <param name="History">One report per epoch run.</param>
/// <param name="BestEpoch">The epoch whose parameters the model holds at the end.</param>
/// <param name="StoppedEarly">Whether <see cref="FitOptions.Patience"/> ended the fit.</param>
public sealed record FitResult(IReadOnlyList<EpochReport> History, int BestEpoch, bool StoppedEarly);

public sealed partial class Trainer
{
    /// <summary>
    /// Fits a sequence → one regression: sample n is the window <c>inputs[n]</c> <c>[T, I]</c> with the target
    /// <c>targets[n]</c> <c>[O]</c>. With validation, the model ends with the parameters of the best epoch.
    /// </summary>
    public FitResult FitLast(ReadOnlySpan<float> inputs, int steps, ReadOnlySpan<float> targets, FitOptions options)
    {
        int perSample = PerSample(steps), outputs = Model.OutputSize;
        int samples = SampleCount(inputs.Length, perSample, targets.Length, outputs);
        float[] inputCopy = inputs.ToArray(), targetCopy = targets.ToArray();
        var batchInput = new float[BatchLength(options, perSample)];
        var batchTarget = new float[BatchLength(options, outputs)];
        var prediction = new float[targets.Length];
        var gradient = new float[targets.Length];
        return Fit(samples, options,
            trainBatch: indices =>
            {
                Gather(inputCopy, perSample, indices, batchInput);
                Gather(targetCopy, outputs, indices, batchTarget);
                return TrainLast(batchInput.AsSpan(0, indices.Length * perSample), indices.Length, batchTarget.AsSpan(0, indices.Length * outputs));
            },
            validate: (first, count) =>
            {
                Model.PredictLast(inputCopy.AsSpan(first * perSample, count * perSample), count, prediction.AsSpan(0, count * outputs));
                return Losses.MeanSquaredError(prediction.AsSpan(0, count * outputs), targetCopy.AsSpan(first * outputs, count * outputs),
                    gradient.AsSpan(0, count * outputs));
            });
    }

    /// <summary>
    /// Fits a sequence → sequence classifier (e.g. a character language model): sample n is
    /// <c>inputs[n]</c> <c>[T, I]</c> with a class per step <c>classes[n]</c> <c>[T]</c>. With validation, the
    /// model ends with the parameters of the best epoch.
    /// </summary>
    public FitResult FitSequenceClasses(ReadOnlySpan<float> inputs, int steps, ReadOnlySpan<int> classes, FitOptions options)
    {
        int perSample = PerSample(steps), outputs = Model.OutputSize;
        int samples = SampleCount(inputs.Length, perSample, classes.Length, steps);
        float[] inputCopy = inputs.ToArray();
        int[] classCopy = classes.ToArray();
        var batchInput = new float[BatchLength(options, perSample)];
        var batchClasses = new int[BatchLength(options, steps)];
        int logitCount = ArgumentChecks.Length(nameof(classes), "classes.Length", classes.Length, outputs);
        var logits = new float[logitCount];
        var gradient = new float[logitCount];
        return Fit(samples, options,
            trainBatch: indices =>
            {
                Gather(inputCopy, perSample, indices, batchInput);
                Gather(classCopy, steps, indices, batchClasses);
                return TrainSequenceClasses(batchInput.AsSpan(0, indices.Length * perSample), indices.Length, batchClasses.AsSpan(0, indices.Length * steps));
            },
            validate: (first, count) =>
            {
                int length = count * steps * outputs;
                Model.PredictSequence(inputCopy.AsSpan(first * perSample, count * perSample), count, logits.AsSpan(0, length));
                return Losses.CrossEntropy(logits.AsSpan(0, length), outputs, classCopy.AsSpan(first * steps, count * steps), gradient.AsSpan(0, length));
            });
    }

    private delegate float BatchStep(ReadOnlySpan<int> indices);

    private FitResult Fit(int samples, FitOptions options, BatchStep trainBatch, Func<int, int, float> validate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        if (options.ValidationFraction is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ValidationFraction, "ValidationFraction must be in [0, 1).");
        }
        int validation = (int)Math.Round(samples * options.ValidationFraction);
        int training = samples - validation;
        if (training < 1) throw new ArgumentException("No training samples remain after the validation split.", nameof(options));

        var order = new int[training];
        for (int i = 0; i < training; i++) order[i] = i;
        var random = new SplitMix64(options.Seed);
        float[] best = Model.Parameters.ToArray();
        float bestLoss = float.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        var history = new List<EpochReport>();
        var clock = Stopwatch.StartNew();
        bool stoppedEarly = false;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            TimeSpan epochStart = clock.Elapsed;
            Shuffle(order, ref random);
            double lossSum = 0;
            int batches = 0;
            ResetCarriedState();
            for (int start = 0; start < training; start += options.BatchSize)
            {
                lossSum += trainBatch(order.AsSpan(start, Math.Min(options.BatchSize, training - start)));
                batches++;
            }
            float validationLoss = validation > 0 ? validate(training, validation) : float.NaN;
            bool isBest = validation == 0 || validationLoss < bestLoss;
            if (isBest)
            {
                bestLoss = validation > 0 ? validationLoss : bestLoss;
                bestEpoch = epoch;
                sinceBest = 0;
                if (validation > 0) Model.Parameters.CopyTo(best);
            }
            else
            {
                sinceBest++;
            }
            TimeSpan elapsed = clock.Elapsed;
            double epochSeconds = (elapsed - epochStart).TotalSeconds;
            var report = new EpochReport(epoch, options.Epochs, (float)(lossSum / batches), validationLoss,
                training / Math.Max(epochSeconds, 1e-9), elapsed, elapsed / epoch * (options.Epochs - epoch), isBest);
            history.Add(report);
            options.OnEpoch?.Invoke(report);
            if (options.Patience > 0 && sinceBest >= options.Patience && epoch < options.Epochs)
            {
                stoppedEarly = true;
                break;
            }
        }
        if (validation > 0) best.CopyTo(Model.Parameters);
        return new FitResult(history, bestEpoch, stoppedEarly);
    }

    /// <summary>Floats of one sample <c>[T, I]</c>.</summary>
    private int PerSample(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        return ArgumentChecks.Length(nameof(steps), "steps", steps, Model.InputSize);
    }

    /// <summary>Elements of a batch of <see cref="FitOptions.BatchSize"/> samples of <paramref name="perSample"/> each.</summary>
    private static int BatchLength(FitOptions options, int perSample) => ArgumentChecks.Length(nameof(options), "BatchSize", options.BatchSize, perSample);

    private static int SampleCount(int inputLength, int perSample, int targetLength, int perTarget)
    {
        if (perSample == 0 || inputLength == 0 || inputLength % perSample != 0)
        {
            throw new ArgumentException($"inputs: expected [N, T, I] with {perSample} floats per sample, got {inputLength} floats.", "inputs");
        }
        int samples = inputLength / perSample;
        if (targetLength != (long)samples * perTarget)
        {
            throw new ArgumentException($"targets: expected {samples} samples of {perTarget} values ({(long)samples * perTarget}), got {targetLength}.", "targets");
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

    /// <summary>Fisher–Yates with the fit's own seeded generator, so an epoch's order is the same on every machine.</summary>
    private static void Shuffle(int[] order, ref SplitMix64 random)
    {
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(random.Next() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
