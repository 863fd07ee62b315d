using ModelGen;

namespace ModelGen.Tests;

/// <summary>A sequence → one classifier for the fit tests: 2 features, 3 classes.</summary>
[GruModel(InputSize = 2, HiddenSize = 12, OutputSize = 3)]
public partial class PatternClassifier;

/// <summary>
/// The four fits (FitLast, FitLastClasses, FitSequence, FitSequenceClasses) and what FitOptions adds: metrics in
/// the reports, per-batch callbacks, cancellation, best checkpoints, schedules stepped per epoch or per batch, and
/// the remaining-time estimate. Expected values come from the data, from an independent recomputation, or from the
/// formulas of <see cref="ScheduleTests"/> and <see cref="MetricsTests"/>.
/// </summary>
public sealed class FitTests : IDisposable
{
    private const int Steps = 8;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"modelgen-fit-{Guid.NewGuid():N}");

    public FitTests() => Directory.CreateDirectory(_folder);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <summary>Sequences of 2 noisy features whose first feature carries an offset of −1, 0 or +1 by class.</summary>
    private static (float[] Inputs, int[] Classes) Patterns(int samples, int seed)
    {
        var random = new Random(seed);
        var inputs = new float[samples * Steps * 2];
        var classes = new int[samples];
        for (int n = 0; n < samples; n++)
        {
            classes[n] = random.Next(3);
            for (int t = 0; t < Steps; t++)
            {
                inputs[(n * Steps + t) * 2] = (classes[n] - 1) + 0.6f * (float)(random.NextDouble() * 2 - 1);
                inputs[(n * Steps + t) * 2 + 1] = (float)(random.NextDouble() * 2 - 1);
            }
        }
        return (inputs, classes);
    }

    /// <summary>Windows of a noisy sine: input x[n..n+T), targets x[n+1..n+T+1) (next step at every step).</summary>
    private static (float[] Inputs, float[] Targets) SineSequences(int samples, int seed)
    {
        var random = new Random(seed);
        var series = new float[samples + Steps + 1];
        for (int i = 0; i < series.Length; i++) series[i] = MathF.Sin(i * 0.3f) + 0.03f * (float)(random.NextDouble() * 2 - 1);
        var inputs = new float[samples * Steps];
        var targets = new float[samples * Steps];
        for (int n = 0; n < samples; n++)
        {
            series.AsSpan(n, Steps).CopyTo(inputs.AsSpan(n * Steps));
            series.AsSpan(n + 1, Steps).CopyTo(targets.AsSpan(n * Steps));
        }
        return (inputs, targets);
    }

    private static PatternClassifier Classifier()
    {
        var model = new PatternClassifier();
        model.InitializeParameters(3);
        return model;
    }

    // ---- FitLastClasses and FitSequence ------------------------------------------------------------------------

    [Fact]
    public void FitLastClasses_learns_and_reports_the_accuracy_and_macro_F1_of_its_validation_split()
    {
        const int Samples = 300;
        (float[] inputs, int[] classes) = Patterns(Samples, seed: 1);
        var model = Classifier();
        var trainer = new Trainer(model, new Adam(PatternClassifier.ParameterCount, 0.02f));
        FitResult fit = trainer.FitLastClasses(inputs, Steps, classes,
            new FitOptions { Epochs = 12, BatchSize = 16, Seed = 2, ValidationFraction = 0.2 });

        // The model holds the best epoch: its validation predictions give that epoch's reported numbers.
        const int Validation = 60;
        var logits = new float[Validation * 3];
        model.PredictLast(inputs.AsSpan((Samples - Validation) * Steps * 2), Validation, logits);
        int[] targets = classes[^Validation..];
        int[] predictions = [.. Enumerable.Range(0, Validation).Select(n => Array.IndexOf(logits, logits.AsSpan(n * 3, 3).ToArray().Max(), n * 3) - n * 3)];
        (double accuracy, double macroF1, _) = MetricsTests.Reference(targets, predictions, 3);
        EpochReport best = fit.History[fit.BestEpoch - 1];
        Assert.Equal(accuracy, best.ValidationAccuracy);
        Assert.Equal(macroF1, best.ValidationMacroF1, 15);
        Assert.Equal(Losses.CrossEntropy(logits, 3, targets, new float[logits.Length]), best.ValidationLoss);

        // Learnt: far above always answering the most frequent validation class.
        double majority = targets.GroupBy(c => c).Max(g => g.Count()) / (double)Validation;
        Assert.True(best.ValidationAccuracy > Math.Min(0.9, majority + 0.4), $"accuracy {best.ValidationAccuracy}, majority baseline {majority}");
        Assert.All(fit.History, r => Assert.Contains("accuracy", r.ToString(), StringComparison.Ordinal));
        Assert.Contains("macro-F1", best.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FitSequence_learns_the_next_step_and_reports_the_MSE_of_PredictSequence_without_metrics()
    {
        const int Samples = 200, Validation = 40;
        (float[] inputs, float[] targets) = SineSequences(Samples, seed: 3);
        var model = new SineForecaster();
        model.InitializeParameters(4);
        var trainer = new Trainer(model, new Adam(SineForecaster.ParameterCount, 0.02f));
        FitResult fit = trainer.FitSequence(inputs, Steps, targets,
            new FitOptions { Epochs = 15, BatchSize = 16, Seed = 5, ValidationFraction = Validation / (double)Samples });

        var predictions = new float[Validation * Steps];
        model.PredictSequence(inputs.AsSpan((Samples - Validation) * Steps), Validation, predictions);
        float[] validationTargets = targets[^(Validation * Steps)..];
        EpochReport best = fit.History[fit.BestEpoch - 1];
        Assert.Equal(Losses.MeanSquaredError(predictions, validationTargets, new float[predictions.Length]), best.ValidationLoss);
        // Predicting the mean of the targets costs their variance (≈ 0.5 for a sine); the next step is far better.
        double mean = validationTargets.Average(t => (double)t);
        double variance = validationTargets.Average(t => (t - mean) * (t - mean));
        Assert.True(best.ValidationLoss < variance / 20, $"validation MSE {best.ValidationLoss}, mean predictor {variance}");
        Assert.All(fit.History, r => Assert.True(double.IsNaN(r.ValidationAccuracy) && double.IsNaN(r.ValidationMacroF1)));
        Assert.DoesNotContain("accuracy", best.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_fits_name_the_argument_and_the_expected_and_actual_shapes()
    {
        var model = Classifier();
        var trainer = new Trainer(model, new Adam(PatternClassifier.ParameterCount));
        var options = new FitOptions { Epochs = 1 };
        float[] inputs = new float[10 * Steps * 2];

        var classes = Assert.Throws<ArgumentException>(() => trainer.FitLastClasses(inputs, Steps, new int[9], options));
        Assert.Equal("classes", classes.ParamName);
        Assert.Contains("[N = 10]", classes.Message, StringComparison.Ordinal);
        Assert.Contains("got 9", classes.Message, StringComparison.Ordinal);

        var sequence = Assert.Throws<ArgumentException>(() => trainer.FitSequence(inputs, Steps, new float[10 * Steps * 3 - 1], options));
        Assert.Equal("targets", sequence.ParamName);
        Assert.Contains($"[N = 10, T = {Steps}, O = 3]", sequence.Message, StringComparison.Ordinal);
        Assert.Contains($"got {10 * Steps * 3 - 1}", sequence.Message, StringComparison.Ordinal);

        var last = Assert.Throws<ArgumentException>(() => trainer.FitLast(inputs, Steps, new float[31], options));
        Assert.Contains("[N = 10, O = 3] (30 values)", last.Message, StringComparison.Ordinal);

        var input = Assert.Throws<ArgumentException>(() => trainer.FitLast(inputs.AsSpan(1), Steps, new float[30], options));
        Assert.Equal("inputs", input.ParamName);
        Assert.Contains($"[N, {Steps}, 2]", input.Message, StringComparison.Ordinal);

        int[] bad = new int[10];
        bad[3] = 3;
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.FitLastClasses(inputs, Steps, bad, options));
        Assert.Contains("classes[3] = 3", range.Message, StringComparison.Ordinal);
        bad[3] = -100;   // ignored, as by the cross-entropy
        trainer.FitLastClasses(inputs, Steps, bad, options);
    }

    // ---- OnBatch and the per-batch loop ------------------------------------------------------------------------

    [Fact]
    public void OnBatch_reports_every_step_and_the_epoch_loss_is_the_mean_of_its_batches()
    {
        (float[] inputs, int[] classes) = Patterns(70, seed: 6);
        var trainer = new Trainer(Classifier(), new Sgd(PatternClassifier.ParameterCount, 0.05f));
        var batches = new List<BatchReport>();
        FitResult fit = trainer.FitLastClasses(inputs, Steps, classes, new FitOptions
        {
            Epochs = 3, BatchSize = 16, ValidationFraction = 0.1, OnBatch = batches.Add,
        });
        const int PerEpoch = 4;   // 63 training samples in batches of 16
        Assert.Equal(3 * PerEpoch, batches.Count);
        for (int i = 0; i < batches.Count; i++)
        {
            Assert.Equal(new BatchReport(i / PerEpoch + 1, i % PerEpoch + 1, PerEpoch, batches[i].Loss, 0.05f), batches[i]);
        }
        for (int e = 0; e < 3; e++)
        {
            double sum = 0;
            for (int b = 0; b < PerEpoch; b++) sum += batches[e * PerEpoch + b].Loss;
            Assert.Equal((float)(sum / PerEpoch), fit.History[e].TrainLoss);
        }
    }

    public static TheoryData<string> FitKinds() => new() { "last", "lastClasses", "sequence", "sequenceClasses" };

    /// <summary>Runs the fit of that kind on a small data set, with <paramref name="options"/>.</summary>
    private static FitResult RunFit(string kind, FitOptions options, Func<Optimizer, LearningRateSchedule>? schedule = null)
    {
        const int Samples = 90;
        if (kind is "last" or "sequence")
        {
            (float[] inputs, float[] targets) = SineSequences(Samples, seed: 7);
            var model = new SineForecaster();
            model.InitializeParameters(8);
            var trainer = new Trainer(model, new AdamW(SineForecaster.ParameterCount, 0.01f));
            options = options with { Schedule = schedule?.Invoke(trainer.Optimizer) };
            return kind == "last"
                ? trainer.FitLast(inputs, Steps, [.. Enumerable.Range(0, Samples).Select(n => targets[n * Steps + Steps - 1])], options)
                : trainer.FitSequence(inputs, Steps, targets, options);
        }
        (float[] patterns, int[] classes) = Patterns(Samples, seed: 9);
        var classifier = Classifier();
        var classTrainer = new Trainer(classifier, new Adam(PatternClassifier.ParameterCount, 0.01f)) { ClipGradientNorm = 1f };
        options = options with { Schedule = schedule?.Invoke(classTrainer.Optimizer) };
        int[] perStep = [.. Enumerable.Range(0, Samples * Steps).Select(i => classes[i / Steps])];
        return kind == "lastClasses"
            ? classTrainer.FitLastClasses(patterns, Steps, classes, options)
            : classTrainer.FitSequenceClasses(patterns, Steps, perStep, options);
    }

    [Theory]
    [MemberData(nameof(FitKinds))]
    public void A_warm_batch_with_a_per_batch_schedule_and_a_callback_allocates_nothing(string kind)
    {
        const int Epochs = 4, PerEpoch = 6;   // 81 training samples in batches of 14
        var allocated = new long[Epochs * PerEpoch];
        int index = 0;
        RunFit(kind, new FitOptions
        {
            Epochs = Epochs, BatchSize = 14, ValidationFraction = 0.1,
            OnBatch = _ => allocated[index++] = GC.GetAllocatedBytesForCurrentThread(),
        }, optimizer => new OneCycleLR(optimizer, 0.02, Epochs * PerEpoch));
        Assert.Equal(Epochs * PerEpoch, index);
        // From the second epoch on, between one batch's callback and the next within an epoch: the shuffle is
        // done, the buffers are grown, and nothing may allocate.
        var failures = new List<string>();
        for (int e = 1; e < Epochs; e++)
        {
            for (int b = 1; b < PerEpoch; b++)
            {
                int i = e * PerEpoch + b;
                if (allocated[i] != allocated[i - 1]) failures.Add($"epoch {e + 1} batch {b + 1}: {allocated[i] - allocated[i - 1]} bytes");
            }
        }
        // A per-batch allocation shows in every pair; one pair is allowed for the runtime's own one-off work on this
        // thread (a method's tier-up), which the probes of this test have seen once in ~60 warm steps.
        Assert.True(failures.Count <= 1, $"{kind}: {string.Join("; ", failures)}");
    }

    // ---- Cancellation ------------------------------------------------------------------------------------------

    [Fact]
    public void Cancelling_stops_between_batches_throws_and_restores_the_best_epoch_so_far()
    {
        (float[] inputs, int[] classes) = Patterns(70, seed: 10);
        var model = Classifier();
        var trainer = new Trainer(model, new Adam(PatternClassifier.ParameterCount, 0.02f));
        using var cancellation = new CancellationTokenSource();
        float[]? bestSoFar = null;
        int batches = 0;
        var options = new FitOptions
        {
            Epochs = 10, BatchSize = 16, ValidationFraction = 0.1,
            OnEpoch = report =>
            {
                if (report.IsBest) bestSoFar = model.Parameters.ToArray();
            },
            OnBatch = report =>
            {
                batches++;
                if (report.Epoch == 3 && report.Batch == 2) cancellation.Cancel();
            },
        };

        Assert.ThrowsAny<OperationCanceledException>(() => trainer.FitLastClasses(inputs, Steps, classes, options, cancellation.Token));

        Assert.Equal(2 * 4 + 2, batches);   // no batch after the one that cancelled
        Assert.NotNull(bestSoFar);
        TestHelpers.AssertBitEqual(bestSoFar, model.Parameters, "parameters after cancelling");
    }

    [Fact]
    public void A_cancelled_token_stops_before_the_first_batch_and_without_validation_keeps_the_last_step()
    {
        (float[] inputs, int[] classes) = Patterns(40, seed: 11);
        var model = Classifier();
        float[] initial = model.Parameters.ToArray();
        var trainer = new Trainer(model, new Adam(PatternClassifier.ParameterCount, 0.02f));
        int batches = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.FitLastClasses(inputs, Steps, classes,
            new FitOptions { OnBatch = _ => batches++ }, new CancellationToken(canceled: true)));
        Assert.Equal(0, batches);
        TestHelpers.AssertBitEqual(initial, model.Parameters, "parameters after cancelling before any step");

        using var cancellation = new CancellationTokenSource();
        float[]? lastStep = null;
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.FitLastClasses(inputs, Steps, classes, new FitOptions
        {
            BatchSize = 8,
            OnBatch = report =>
            {
                lastStep = model.Parameters.ToArray();
                if (report.Epoch == 2 && report.Batch == 3) cancellation.Cancel();
            },
        }, cancellation.Token));
        Assert.NotNull(lastStep);
        TestHelpers.AssertBitEqual(lastStep, model.Parameters, "parameters after cancelling without validation");
    }

    // ---- Checkpoints -------------------------------------------------------------------------------------------

    [Fact]
    public void CheckpointPath_holds_the_parameters_and_optimiser_state_of_the_best_epoch()
    {
        (float[] inputs, int[] classes) = Patterns(120, seed: 12);
        var model = Classifier();
        var optimizer = new Adam(PatternClassifier.ParameterCount, 0.05f);
        var trainer = new Trainer(model, optimizer);
        string path = Path.Combine(_folder, "runs", "best");
        byte[]? bestModel = null, bestOptimizer = null;
        int improvements = 0;
        FitResult fit = trainer.FitLastClasses(inputs, Steps, classes, new FitOptions
        {
            Epochs = 8, BatchSize = 16, ValidationFraction = 0.25, CheckpointPath = path,
            OnEpoch = report =>
            {
                if (!report.IsBest) return;
                improvements++;
                bestModel = Bytes(model.SaveSafetensors);
                bestOptimizer = Bytes(optimizer.SaveState);
                // Written by the time the epoch is reported.
                Assert.Equal(bestModel, File.ReadAllBytes(Checkpoint.ModelFile(path)));
            },
        });

        Assert.True(improvements >= 2, "the case should improve more than once, so that the checkpoint is replaced");
        Assert.Equal(path + ".safetensors", Checkpoint.ModelFile(path));
        Assert.Equal(path + ".optimizer.safetensors", Checkpoint.OptimizerFile(path));
        Assert.Equal(bestModel, File.ReadAllBytes(Checkpoint.ModelFile(path)));
        Assert.Equal(bestOptimizer, File.ReadAllBytes(Checkpoint.OptimizerFile(path)));
        Assert.Equal(bestModel, Bytes(model.SaveSafetensors));   // the model ends at the best epoch too
        // Nothing else in the folder: no temporary file left behind.
        Assert.Equal(
            new[] { Checkpoint.ModelFile(path), Checkpoint.OptimizerFile(path) }.Order(StringComparer.Ordinal),
            Directory.GetFiles(Path.GetDirectoryName(path)!).Order(StringComparer.Ordinal));

        // Loading restores both: the optimiser at the best epoch's step count.
        var restored = Classifier();
        var restoredOptimizer = new Adam(PatternClassifier.ParameterCount, 0.05f);
        Checkpoint.Load(restored, restoredOptimizer, path);
        TestHelpers.AssertBitEqual(model.Parameters, restored.Parameters, "loaded parameters");
        Assert.Equal(fit.BestEpoch * 6, restoredOptimizer.StepCount);   // 90 training samples in batches of 16
    }

    private static byte[] Bytes(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_file_whole_and_no_temporary_file()
    {
        string file = Path.Combine(_folder, "state.safetensors");
        File.WriteAllBytes(file, [1, 2, 3]);
        Assert.Throws<IOException>(() => Checkpoint.WriteAtomically(file, stream =>
        {
            stream.Write(new byte[1000]);
            throw new IOException("disk full (simulated)");
        }));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(file));
        Assert.Equal([file], Directory.GetFiles(_folder));

        Checkpoint.WriteAtomically(file, stream => stream.Write([4, 5]));
        Assert.Equal([4, 5], File.ReadAllBytes(file));
        Assert.Equal([file], Directory.GetFiles(_folder));
    }

    [Fact]
    public void Loading_a_checkpoint_whose_optimiser_file_is_bad_changes_neither()
    {
        var model = Classifier();
        var optimizer = new Adam(PatternClassifier.ParameterCount);
        string path = Path.Combine(_folder, "ckpt");
        Checkpoint.Save(model, optimizer, path);
        File.WriteAllBytes(Checkpoint.OptimizerFile(path), [0, 1, 2]);

        var other = new PatternClassifier();
        other.InitializeParameters(99);
        float[] before = other.Parameters.ToArray();
        Assert.Throws<SafetensorsException>(() => Checkpoint.Load(other, new Adam(PatternClassifier.ParameterCount), path));
        TestHelpers.AssertBitEqual(before, other.Parameters, "parameters after a failed load");
    }

    // ---- Schedules in a fit ------------------------------------------------------------------------------------

    [Fact]
    public void A_per_epoch_StepLR_sets_each_epochs_learning_rate()
    {
        var lrs = new List<float>();
        RunFit("lastClasses", new FitOptions { Epochs = 7, BatchSize = 30, ValidationFraction = 0.1, OnBatch = b => lrs.Add(b.LearningRate) },
            optimizer => new StepLR(optimizer, stepSize: 2, gamma: 0.3, initialLearningRate: 0.01));
        const int PerEpoch = 3;   // 81 training samples in batches of 30
        double lr = 0.01;
        for (int e = 1; e <= 7; e++)
        {
            if (e > 1 && (e - 1) % 2 == 0) lr *= 0.3;   // the schedule's step e − 1 ran after epoch e − 1
            for (int b = 0; b < PerEpoch; b++) Assert.Equal((float)lr, lrs[(e - 1) * PerEpoch + b]);
        }
    }

    [Fact]
    public void A_per_batch_OneCycleLR_sets_each_batchs_learning_rate()
    {
        const int Epochs = 4, PerEpoch = 6, Total = Epochs * PerEpoch;
        var lrs = new List<float>();
        RunFit("sequence", new FitOptions { Epochs = Epochs, BatchSize = 14, ValidationFraction = 0.1, OnBatch = b => lrs.Add(b.LearningRate) },
            optimizer => new OneCycleLR(optimizer, 0.03, Total));
        Assert.Equal(Total, lrs.Count);
        for (int k = 0; k < Total; k++)
        {
            (double lr, _) = ScheduleTests.ReferenceOneCycle(k, 0.03, Total, 0.3, cos: true, 0.85, 0.95, 25, 1e4, threePhase: false);
            Assert.Equal((float)lr, lrs[k]);
        }
    }

    [Fact]
    public void A_StepLR_stepped_per_batch_by_the_options_moves_every_batch()
    {
        var lrs = new List<float>();
        RunFit("last", new FitOptions
        {
            Epochs = 2, BatchSize = 14, ScheduleInterval = ScheduleInterval.Batch, OnBatch = b => lrs.Add(b.LearningRate),
        }, optimizer => new StepLR(optimizer, stepSize: 1, gamma: 0.5, initialLearningRate: 0.01));
        double lr = 0.01;
        foreach (float used in lrs)
        {
            Assert.Equal((float)lr, used);
            lr *= 0.5;
        }
    }

    [Fact]
    public void A_ReduceLROnPlateau_steps_on_the_validation_loss()
    {
        var lrs = new List<float>();
        FitResult fit = RunFit("lastClasses", new FitOptions
        {
            Epochs = 12, BatchSize = 30, ValidationFraction = 0.1, OnBatch = b => lrs.Add(b.LearningRate),
        }, optimizer => new ReduceLROnPlateau(optimizer, factor: 0.5, patience: 0, threshold: 0.05, initialLearningRate: 0.01));
        double[] metrics = [.. fit.History.Select(r => (double)r.ValidationLoss)];
        double[] expected = ScheduleTests.ReferencePlateau(0.01, metrics, false, 0.5, 0, 0.05, false, 0, 0, 1e-8);
        const int PerEpoch = 3;
        for (int e = 2; e <= fit.History.Count; e++) Assert.Equal((float)expected[e - 2], lrs[(e - 1) * PerEpoch]);
        Assert.True(expected.Distinct().Count() >= 2, "the case should reduce the learning rate at least once");
    }

    [Fact]
    public void A_schedule_that_cannot_run_the_fit_is_rejected_before_training()
    {
        (float[] inputs, int[] classes) = Patterns(40, seed: 13);
        var model = Classifier();
        var optimizer = new Adam(PatternClassifier.ParameterCount);
        var trainer = new Trainer(model, optimizer);
        float[] initial = model.Parameters.ToArray();
        void Fit(FitOptions options) => trainer.FitLastClasses(inputs, Steps, classes, options with { Epochs = 3, BatchSize = 10 });

        var plateau = Assert.Throws<ArgumentException>(() => Fit(new FitOptions { Schedule = new ReduceLROnPlateau(optimizer) }));
        Assert.Contains("ValidationFraction", plateau.Message, StringComparison.Ordinal);
        var oneCycle = Assert.Throws<ArgumentException>(() => Fit(new FitOptions { Schedule = new OneCycleLR(optimizer, 0.1, 11) }));
        Assert.Contains("11 more steps, the fit may take 12 (3 epochs × 4 batches)", oneCycle.Message, StringComparison.Ordinal);
        var other = Assert.Throws<ArgumentException>(() => Fit(new FitOptions { Schedule = new StepLR(new Adam(PatternClassifier.ParameterCount), 1) }));
        Assert.Contains("another optimiser", other.Message, StringComparison.Ordinal);
        TestHelpers.AssertBitEqual(initial, model.Parameters, "parameters after rejected fits");
        Fit(new FitOptions { Schedule = new OneCycleLR(optimizer, 0.1, 12) });
    }

    // ---- Remaining time ----------------------------------------------------------------------------------------

    [Fact]
    public void The_remaining_time_leaves_out_the_first_epoch_once_there_is_a_second()
    {
        TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
        Assert.Equal(TimeSpan.Zero, EpochTimeEstimate.Remaining([], 5));
        Assert.Equal(S(3) * 4, EpochTimeEstimate.Remaining([S(3)], 4));
        // A 10 s warm-up epoch, then 1 s epochs: 6 more take 6 s, not the 6 × 10 s of extrapolating the first.
        Assert.Equal(S(1) * 6, EpochTimeEstimate.Remaining([S(10), S(1)], 6));
        TimeSpan[] durations = [S(10), S(2), S(4), S(3)];
        Assert.Equal(S((2 + 4 + 3) / 3.0) * 7, EpochTimeEstimate.Remaining(durations, 7));
        Assert.Equal(TimeSpan.Zero, EpochTimeEstimate.Remaining(durations, 0));
    }

    [Fact]
    public void The_last_epoch_reports_no_remaining_time()
    {
        FitResult fit = RunFit("last", new FitOptions { Epochs = 3, BatchSize = 30 });
        Assert.Equal(TimeSpan.Zero, fit.History[^1].Remaining);
        Assert.All(fit.History, r => Assert.True(r.Remaining >= TimeSpan.Zero));
    }
}
