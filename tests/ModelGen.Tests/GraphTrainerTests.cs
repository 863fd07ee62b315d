using System.Runtime.InteropServices;
using ModelGen;

namespace ModelGen.Tests;

/// <summary>A small topic classifier: tokens → Embedding (padding_idx 1) → BiLSTM → final hidden → Dropout → Linear, 3 classes.</summary>
[SequenceModel]
public partial class TinyTopicModel
{
    [Embedding(NumEmbeddings = 12, EmbeddingDim = 6, PaddingIdx = 1)] public partial Embedding Embed { get; }
    [Lstm(InputSize = 6, HiddenSize = 8, Bidirectional = true)] public partial Lstm Rnn { get; }
    [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
    [Dropout(0.1f)] public partial Dropout Drop { get; }
    [Linear(InFeatures = 16, OutFeatures = 3)] public partial Linear Fc { get; }
}

/// <summary>The same without a padding_idx: batches are padded with token 0.</summary>
[SequenceModel]
public partial class TinyUnpaddedModel
{
    [Embedding(NumEmbeddings = 12, EmbeddingDim = 4)] public partial Embedding Embed { get; }
    [Gru(InputSize = 4, HiddenSize = 5)] public partial Gru Rnn { get; }
    [Reduce(ReduceMode.Mean)] public partial Reduction Pool { get; }
    [Linear(InFeatures = 5, OutFeatures = 3)] public partial Linear Fc { get; }
}

/// <summary>A token language model: a class per step, an LSTM (h and c) then a GRU, for truncated BPTT.</summary>
[SequenceModel]
public partial class TinyTokenLanguageModel
{
    [Embedding(NumEmbeddings = 10, EmbeddingDim = 5)] public partial Embedding Embed { get; }
    [Lstm(InputSize = 5, HiddenSize = 6)] public partial Lstm First { get; }
    [Gru(InputSize = 6, HiddenSize = 7)] public partial Gru Second { get; }
    [Linear(InFeatures = 7, OutFeatures = 10)] public partial Linear Head { get; }
}

/// <summary>A feature graph that reduces over time: classes or regression targets per sequence.</summary>
[SequenceModel]
public partial class TinyFeatureModel
{
    [Lstm(InputSize = 3, HiddenSize = 6)] public partial Lstm Rnn { get; }
    [Reduce(ReduceMode.Last)] public partial Reduction Pool { get; }
    [Tanh] public partial Activation Act { get; }
    [Linear(InFeatures = 6, OutFeatures = 2)] public partial Linear Head { get; }
}

/// <summary>
/// <see cref="GraphTrainer"/>: a step is exactly the manual TrainForward / loss / ZeroGradients / Backward / clip /
/// Step sequence; carried state equals the concatenated sequence; warm steps and warm fit batches allocate nothing;
/// the sequence fit pads with PaddingIdx, passes lengths, buckets by length without losing or repeating a sample,
/// learns a trivially learnable task and checkpoints its best epoch.
/// </summary>
public sealed class GraphTrainerTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"modelgen-graphfit-{Guid.NewGuid():N}");

    public GraphTrainerTests() => Directory.CreateDirectory(_folder);

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

    private static T Create<T>(ulong seed = 1) where T : ISequenceModel, new()
    {
        var model = new T();
        model.InitializeParameters(seed);
        model.SeedDropout(seed + 100);
        return model;
    }

    private static int Count(ITrainableModel model) => model.ParameterCount;

    private static int[] RandomInts(int count, int low, int high, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => random.Next(low, high))];
    }

    private static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));

    /// <summary>Unique random token sequences of lengths 1..<paramref name="maxLength"/> over tokens 2..11 (not the padding 1).</summary>
    private static int[][] Sequences(int count, int maxLength, int seed)
    {
        var random = new Random(seed);
        var seen = new HashSet<string>();
        var result = new List<int[]>();
        while (result.Count < count)
        {
            int[] sequence = [.. Enumerable.Range(0, random.Next(1, maxLength + 1)).Select(_ => random.Next(2, 12))];
            if (seen.Add(string.Join(',', sequence))) result.Add(sequence);
        }
        return [.. result];
    }

    // ---- Single steps equal the manual sequence ----------------------------------------------------------------

    [Fact]
    public void A_token_classification_step_is_the_manual_sequence_bit_for_bit()
    {
        const int Batch = 4, Steps = 7;
        TinyTopicModel manual = Create<TinyTopicModel>(), trained = Create<TinyTopicModel>();
        var manualOptimizer = new Adam(Count(manual), 0.01f);
        var trainer = new GraphTrainer(trained, new Adam(Count(trained), 0.01f)) { ClipGradientNorm = 0.5f, ClipGradientValue = 0.2f };
        int[] lengths = [7, 3, 5, 1];
        int[] classes = [2, -100, 0, 1];
        var logits = new float[Batch * 3];
        var gradient = new float[logits.Length];
        for (int step = 0; step < 3; step++)
        {
            int[] tokens = RandomInts(Batch * Steps, 0, 12, seed: step);

            manual.TrainForward(tokens, Batch, logits, lengths);
            float expectedLoss = Losses.CrossEntropy(logits, 3, classes, gradient);
            manual.ZeroGradients();
            manual.Backward(gradient);
            GradientClipping.ClipByValue(manual.Gradients, 0.2f);
            float expectedNorm = GradientClipping.ClipByNorm(manual.Gradients, 0.5f);
            manualOptimizer.Step(manual);

            float loss = trainer.TrainClasses(tokens, Batch, classes, lengths);
            Assert.Equal(expectedLoss, loss);
            Assert.Equal(expectedNorm, trainer.LastGradientNorm);
            Assert.True(SameBits(manual.Parameters, trained.Parameters), $"parameters differ after step {step + 1}");
            Assert.True(SameBits(manual.Gradients, trained.Gradients), $"gradients differ after step {step + 1}");
        }
    }

    [Fact]
    public void Per_step_classes_feature_classes_and_regression_steps_are_the_manual_sequences_bit_for_bit()
    {
        // Tokens with a class per step [B, T].
        {
            const int Batch = 3, Steps = 5;
            TinyTokenLanguageModel manual = Create<TinyTokenLanguageModel>(), trained = Create<TinyTokenLanguageModel>();
            var optimizer = new Sgd(Count(manual), 0.1f, momentum: 0.9f);
            var trainer = new GraphTrainer(trained, new Sgd(Count(trained), 0.1f, momentum: 0.9f));
            int[] tokens = RandomInts(Batch * Steps, 0, 10, seed: 1), classes = RandomInts(Batch * Steps, 0, 10, seed: 2);
            classes[4] = -100;
            var logits = new float[Batch * Steps * 10];
            var gradient = new float[logits.Length];
            for (int step = 0; step < 2; step++)
            {
                manual.TrainForward(tokens, Batch, logits);
                float expected = Losses.CrossEntropy(logits, 10, classes, gradient);
                manual.ZeroGradients();
                manual.Backward(gradient);
                optimizer.Step(manual);
                Assert.Equal(expected, trainer.TrainClasses(tokens, Batch, classes));
                Assert.True(SameBits(manual.Parameters, trained.Parameters));
            }
        }
        // Features with a class per sequence, and with regression targets per sequence.
        {
            const int Batch = 4, Steps = 6;
            TinyFeatureModel manual = Create<TinyFeatureModel>(), trained = Create<TinyFeatureModel>();
            var optimizer = new AdamW(Count(manual), 0.01f);
            var trainer = new GraphTrainer(trained, new AdamW(Count(trained), 0.01f));
            float[] input = TestHelpers.RandomValues(Batch * Steps * 3, seed: 3);
            float[] targets = TestHelpers.RandomValues(Batch * 2, seed: 4);
            int[] classes = [1, 0, 0, 1];
            int[] lengths = [6, 2, 4, 5];
            var output = new float[Batch * 2];
            var gradient = new float[output.Length];

            manual.TrainForward(input, Batch, output, lengths);
            float expected = Losses.CrossEntropy(output, 2, classes, gradient);
            manual.ZeroGradients();
            manual.Backward(gradient);
            optimizer.Step(manual);
            Assert.Equal(expected, trainer.TrainClasses(input, Batch, classes, lengths));
            Assert.True(SameBits(manual.Parameters, trained.Parameters));

            manual.TrainForward(input, Batch, output);
            expected = Losses.MeanSquaredError(output, targets, gradient);
            manual.ZeroGradients();
            manual.Backward(gradient);
            optimizer.Step(manual);
            Assert.Equal(expected, trainer.TrainRegression(input, Batch, targets));
            Assert.True(SameBits(manual.Parameters, trained.Parameters));
        }
    }

    // ---- Carried state -----------------------------------------------------------------------------------------

    [Fact]
    public void CarryState_equals_the_forward_of_the_concatenated_sequence_and_ResetCarriedState_starts_over()
    {
        const int Batch = 2, Chunk = 4, Chunks = 3, Total = Chunk * Chunks, Classes = 10;
        TinyTokenLanguageModel model = Create<TinyTokenLanguageModel>();
        // Learning rate 0: the parameters stay, so every chunk's loss can be compared with the whole sequence's forward.
        var trainer = new GraphTrainer(model, new Sgd(Count(model), 0f)) { CarryState = true };
        int[] tokens = RandomInts(Batch * Total, 0, 10, seed: 5), targets = RandomInts(Batch * Total, 0, 10, seed: 6);
        var whole = new float[Batch * Total * Classes];
        model.Forward(tokens, Batch, whole);

        int[] ChunkOf(int[] source, int c)
        {
            var chunk = new int[Batch * Chunk];
            for (int b = 0; b < Batch; b++) source.AsSpan(b * Total + c * Chunk, Chunk).CopyTo(chunk.AsSpan(b * Chunk));
            return chunk;
        }
        float ExpectedLoss(int c)
        {
            var logits = new float[Batch * Chunk * Classes];
            for (int b = 0; b < Batch; b++)
            {
                whole.AsSpan((b * Total + c * Chunk) * Classes, Chunk * Classes).CopyTo(logits.AsSpan(b * Chunk * Classes));
            }
            return Losses.CrossEntropy(logits, Classes, ChunkOf(targets, c), new float[logits.Length]);
        }

        for (int c = 0; c < Chunks; c++)
        {
            Assert.Equal(ExpectedLoss(c), trainer.TrainClasses(ChunkOf(tokens, c), Batch, ChunkOf(targets, c)));
        }
        // Without a reset the next chunk would start from the carried state; after one, from zeros again.
        float carried = trainer.TrainClasses(ChunkOf(tokens, 0), Batch, ChunkOf(targets, 0));
        Assert.NotEqual(ExpectedLoss(0), carried);
        trainer.ResetCarriedState();
        Assert.Equal(ExpectedLoss(0), trainer.TrainClasses(ChunkOf(tokens, 0), Batch, ChunkOf(targets, 0)));

        // The carried state is detached: a carried step's gradients are those of a fresh forward from that state.
        trainer.ResetCarriedState();
        trainer.TrainClasses(ChunkOf(tokens, 0), Batch, ChunkOf(targets, 0));
        var state = new float[((ISequenceModel)model).RecurrentStateSize * Batch];
        var logitsFirst = new float[Batch * Chunk * Classes];
        model.Forward(ChunkOf(tokens, 0), Batch, logitsFirst, finalState: state);
        trainer.TrainClasses(ChunkOf(tokens, 1), Batch, ChunkOf(targets, 1));
        float[] trainerGradients = model.Gradients.ToArray();
        var logits = new float[Batch * Chunk * Classes];
        var gradient = new float[logits.Length];
        model.TrainForward(ChunkOf(tokens, 1), Batch, logits, initialState: state);
        Losses.CrossEntropy(logits, Classes, ChunkOf(targets, 1), gradient);
        model.ZeroGradients();
        model.Backward(gradient);
        Assert.True(SameBits(trainerGradients, model.Gradients));
    }

    // ---- Allocations -------------------------------------------------------------------------------------------

    // The generated graphs' forward and backward calls build their expected-shape messages eagerly (an interpolated
    // string argument of GraphChecks.Length, 40 bytes a call): until the generator defers them, a warm graph call
    // allocates that string. The trainer must add nothing to it, and once the generator is fixed these are all 0.

    /// <summary>What the model's own warm TrainForward + Backward on a batch of this shape allocate.</summary>
    private static long ModelCallAllocations(ITokenSequenceModel model, int batch, int steps, bool withLengths)
    {
        var tokens = new int[batch * steps];
        int[] lengths = withLengths ? [.. Enumerable.Repeat(steps, batch)] : [];
        var output = new float[batch * (model.OutputPerStep ? steps : 1) * model.OutputSize];
        return AllocationMeasurement.WarmAllocations(() =>
        {
            model.TrainForward(tokens, batch, output, lengths);
            model.Backward(output);
        });
    }

    private static long ModelCallAllocations(IFeatureSequenceModel model, int batch, int steps)
    {
        var input = new float[batch * steps * model.InputSize];
        var output = new float[batch * (model.OutputPerStep ? steps : 1) * model.OutputSize];
        return AllocationMeasurement.WarmAllocations(() =>
        {
            model.TrainForward(input, batch, output);
            model.Backward(output);
        });
    }

    [Fact]
    public void Warm_steps_allocate_nothing_beyond_the_models_own_calls()
    {
        TinyTopicModel topic = Create<TinyTopicModel>();
        var topicTrainer = new GraphTrainer(topic, new Adam(Count(topic))) { ClipGradientNorm = 1f, ClipGradientValue = 1f };
        int[] tokens = RandomInts(4 * 9, 0, 12, seed: 1), lengths = [9, 2, 5, 7], classes = [0, 1, 2, 0];
        Assert.Equal(ModelCallAllocations(topic, 4, 9, withLengths: true),
            AllocationMeasurement.WarmAllocations(() => topicTrainer.TrainClasses(tokens, 4, classes, lengths)));

        TinyTokenLanguageModel language = Create<TinyTokenLanguageModel>();
        var languageTrainer = new GraphTrainer(language, new Sgd(Count(language), 0.1f)) { CarryState = true };
        int[] window = RandomInts(3 * 8, 0, 10, seed: 2), next = RandomInts(3 * 8, 0, 10, seed: 3);
        Assert.Equal(ModelCallAllocations(language, 3, 8, withLengths: false),
            AllocationMeasurement.WarmAllocations(() => languageTrainer.TrainClasses(window, 3, next)));

        TinyFeatureModel feature = Create<TinyFeatureModel>();
        var featureTrainer = new GraphTrainer(feature, new Adam(Count(feature))) { CarryState = true };
        float[] input = TestHelpers.RandomValues(2 * 5 * 3, seed: 4), targets = TestHelpers.RandomValues(2 * 2, seed: 5);
        int[] featureClasses = [1, 0];
        long own = ModelCallAllocations(feature, 2, 5);
        Assert.Equal(own, AllocationMeasurement.WarmAllocations(() => featureTrainer.TrainRegression(input, 2, targets)));
        Assert.Equal(own, AllocationMeasurement.WarmAllocations(() => featureTrainer.TrainClasses(input, 2, featureClasses)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Warm_batches_of_a_sequence_fit_allocate_nothing_beyond_the_models_own_calls(bool bucket)
    {
        // 96 samples in batches of 16: every epoch has the same six full batches, so after the first epoch every
        // batch shape has been seen (the longest sequence makes some batch B × its length in every epoch).
        int[][] sequences = Sequences(96, 20, seed: 7);
        int[] labels = RandomInts(96, 0, 3, seed: 8);
        TinyTopicModel model = Create<TinyTopicModel>();
        long own = ModelCallAllocations(model, 16, 20, withLengths: true);
        var trainer = new GraphTrainer(model, new Adam(Count(model)));
        // Capacity for every batch up front: a growing list would allocate inside the measurement.
        var allocated = new List<(int Epoch, long Bytes)>(capacity: 64);
        trainer.FitSequenceClasses(sequences, labels, new FitOptions
        {
            Epochs = 3, BatchSize = 16, Seed = 1, BucketByLength = bucket,
            OnBatch = report => allocated.Add((report.Epoch, GC.GetAllocatedBytesForCurrentThread())),
        });
        for (int i = 1; i < allocated.Count; i++)
        {
            if (allocated[i].Epoch >= 2 && allocated[i - 1].Epoch == allocated[i].Epoch)
            {
                long bytes = allocated[i].Bytes - allocated[i - 1].Bytes;
                Assert.True(bytes == own, $"batch {i} of the fit allocated {bytes} bytes, the model's own calls {own}");
            }
        }
    }

    // ---- Padding and bucketing ---------------------------------------------------------------------------------

    [Fact]
    public void Each_batch_is_padded_to_its_longest_sequence_with_PaddingIdx_and_carries_the_lengths()
    {
        int[][] sequences = Sequences(50, 12, seed: 3);
        int[] labels = RandomInts(50, 0, 3, seed: 4);
        foreach ((ITokenSequenceModel inner, int padding) in new (ITokenSequenceModel, int)[] { (Create<TinyTopicModel>(), 1), (Create<TinyUnpaddedModel>(), 0) })
        {
            var model = new RecordingTokenModel(inner);
            var trainer = new GraphTrainer(model, new Adam(Count(model)));
            trainer.FitSequenceClasses(sequences, labels, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 2, ValidationFraction = 0.2 });
            Assert.NotEmpty(model.Batches);
            foreach (RecordedBatch batch in model.Batches)
            {
                Assert.Equal(batch.Lengths.Max(), batch.Steps);
                for (int b = 0; b < batch.BatchSize; b++)
                {
                    int length = batch.Lengths[b];
                    int[] row = batch.Tokens[(b * batch.Steps)..((b + 1) * batch.Steps)];
                    Assert.Contains(sequences, s => s.AsSpan().SequenceEqual(row.AsSpan(0, length)));
                    Assert.All(row[length..], token => Assert.Equal(padding, token));
                }
            }
            // Validation: the inference forwards see only the 10 validation samples, padded the same way.
            Assert.Equal(2 * 10, model.Predicted.Sum(batch => batch.BatchSize));
            Assert.All(model.Predicted, batch => Assert.Equal(batch.Lengths.Max(), batch.Steps));
        }
    }

    [Fact]
    public void Bucketing_keeps_every_sample_once_per_epoch_and_cuts_the_padded_steps()
    {
        const int Samples = 203, Batch = 10, Epochs = 3;
        int[][] sequences = Sequences(Samples, 40, seed: 11);
        int[] labels = RandomInts(Samples, 0, 3, seed: 12);
        long PaddedSteps(bool bucket, out List<RecordedBatch> batches)
        {
            var model = new RecordingTokenModel(Create<TinyTopicModel>());
            var trainer = new GraphTrainer(model, new Sgd(Count(model), 0.01f));
            trainer.FitSequenceClasses(sequences, labels, new FitOptions { Epochs = Epochs, BatchSize = Batch, Seed = 3, BucketByLength = bucket });
            batches = model.Batches;
            return batches.Sum(b => (long)b.BatchSize * b.Steps);
        }
        var index = sequences.Select((s, i) => (Key: string.Join(',', s), i)).ToDictionary(p => p.Key, p => p.i);
        long plain = PaddedSteps(bucket: false, out _);
        long bucketed = PaddedSteps(bucket: true, out List<RecordedBatch> batches);

        int perEpoch = (Samples + Batch - 1) / Batch;
        Assert.Equal(Epochs * perEpoch, batches.Count);
        var epochOrders = new List<int[]>();
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            var seen = new List<int>();
            foreach (RecordedBatch batch in batches.Skip(epoch * perEpoch).Take(perEpoch))
            {
                for (int b = 0; b < batch.BatchSize; b++)
                {
                    seen.Add(index[string.Join(',', batch.Tokens.AsSpan(b * batch.Steps, batch.Lengths[b]).ToArray())]);
                }
            }
            Assert.Equal(Enumerable.Range(0, Samples), seen.Order());
            epochOrders.Add([.. seen]);
        }
        // Batches differ between epochs (the shuffle still works), and their real steps are most of their cost.
        Assert.NotEqual(epochOrders[0], epochOrders[1]);
        long real = Epochs * (long)sequences.Sum(s => s.Length);
        Assert.True(bucketed < plain * 0.75, $"padded steps: bucketed {bucketed}, plain {plain}");
        Assert.True(bucketed < real * 1.25, $"padded steps: bucketed {bucketed}, real {real}");
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(7, 8)]
    [InlineData(64, 8)]
    [InlineData(2_345, 4)]
    [InlineData(3_000, 10)]
    public void The_bucket_order_is_a_permutation_with_sorted_pools(int samples, int batch)
    {
        int[] lengths = RandomInts(samples, 1, 50, seed: samples);
        var buckets = new LengthBuckets(lengths, samples, batch);
        int[] order = [.. Enumerable.Range(0, samples)];
        var random = new SplitMix64(9);
        FitLoop.Shuffle(order, ref random);
        buckets.Arrange(order, ref random);
        Assert.Equal(Enumerable.Range(0, samples), order.Order());
        // Within every full batch the lengths are sorted, and a pool's batches are its sorted run cut into pieces.
        int full = samples / batch * batch;
        for (int start = 0; start < full; start += batch)
        {
            int[] batchLengths = [.. order.Skip(start).Take(batch).Select(i => lengths[i])];
            Assert.Equal(batchLengths.Order(), batchLengths);
        }
        int[] rest = [.. order.Skip(full).Select(i => lengths[i])];
        Assert.Equal(rest.Order(), rest);
    }

    // ---- Fits --------------------------------------------------------------------------------------------------

    /// <summary>Class c ∈ {0, 1, 2}: a sequence of filler tokens 5..11, 3–15 long, holding the marker token 2 + c once.</summary>
    private static (int[][] Sequences, int[] Labels) MarkerTask(int samples, int seed)
    {
        var random = new Random(seed);
        var sequences = new int[samples][];
        var labels = new int[samples];
        for (int n = 0; n < samples; n++)
        {
            labels[n] = random.Next(3);
            sequences[n] = [.. Enumerable.Range(0, random.Next(3, 16)).Select(_ => random.Next(5, 12))];
            sequences[n][random.Next(sequences[n].Length)] = 2 + labels[n];
        }
        return (sequences, labels);
    }

    [Fact]
    public void FitSequenceClasses_learns_a_marker_task_and_reports_the_metrics_of_the_best_epoch()
    {
        (int[][] sequences, int[] labels) = MarkerTask(600, seed: 1);
        TinyTopicModel model = Create<TinyTopicModel>();
        var trainer = new GraphTrainer(model, new Adam(Count(model), 0.02f)) { ClipGradientNorm = 1f };
        var reports = new List<EpochReport>();
        FitResult fit = trainer.FitSequenceClasses(sequences, labels, new FitOptions
        {
            Epochs = 25, BatchSize = 16, Seed = 2, ValidationFraction = 0.2, Patience = 5, BucketByLength = true,
            OnEpoch = reports.Add,
        });
        Assert.Equal(reports, fit.History);
        EpochReport best = fit.History[fit.BestEpoch - 1];
        Assert.True(best.ValidationAccuracy >= 0.95, $"validation accuracy {best.ValidationAccuracy} at epoch {fit.BestEpoch}");
        Assert.True(best.ValidationMacroF1 >= 0.95, $"validation macro-F1 {best.ValidationMacroF1}");
        Assert.Contains("macro-F1", best.ToString(), StringComparison.Ordinal);

        // The model holds the best epoch: PredictSequences on the validation part gives that epoch's numbers.
        int[][] validation = sequences[480..];
        int[] targets = labels[480..];
        var logits = new float[validation.Length * 3];
        GraphTrainer.PredictSequences(model, validation, logits, batchSize: 7);
        Assert.Equal(best.ValidationAccuracy, Metrics.Accuracy(logits, 3, targets));
        Assert.Equal(best.ValidationLoss, Losses.CrossEntropy(logits, 3, targets, new float[logits.Length]));
    }

    [Theory]
    [InlineData(FitMetric.Accuracy)]
    [InlineData(FitMetric.MacroF1)]
    public void BestEpochBy_keeps_the_epoch_with_the_best_validation_metric(FitMetric metric)
    {
        // A hard variant of the marker task (few samples, a noisy label in five): loss and metrics disagree on
        // the best epoch (asserted below), and the kept parameters must be those of the metric's best epoch.
        (int[][] sequences, int[] labels) = MarkerTask(240, seed: 5);
        for (int n = 0; n < labels.Length; n += 5) labels[n] = (labels[n] + 1) % 3;
        TinyTopicModel model = Create<TinyTopicModel>();
        var trainer = new GraphTrainer(model, new Adam(Count(model), 0.02f));
        FitResult fit = trainer.FitSequenceClasses(sequences, labels, new FitOptions
        {
            Epochs = 12, BatchSize = 16, Seed = 4, ValidationFraction = 0.25, BestEpochBy = metric,
        });
        double Metric(EpochReport report) => metric == FitMetric.Accuracy ? report.ValidationAccuracy : report.ValidationMacroF1;
        double bestValue = fit.History.Max(Metric);
        // The first epoch that reached the best value (later ties are not better).
        Assert.Equal(fit.History.First(r => Metric(r) == bestValue).Epoch, fit.BestEpoch);
        Assert.True(fit.History[fit.BestEpoch - 1].IsBest);
        // The test means something only where the loss would have kept another epoch.
        int lossBest = fit.History.MinBy(r => r.ValidationLoss).Epoch;
        Assert.NotEqual(lossBest, fit.BestEpoch);

        int[][] validation = sequences[180..];
        var logits = new float[validation.Length * 3];
        GraphTrainer.PredictSequences(model, validation, logits);
        Assert.Equal(fit.History[fit.BestEpoch - 1].ValidationAccuracy, Metrics.Accuracy(logits, 3, labels[180..]));
    }

    [Fact]
    public void BestEpochBy_a_metric_is_refused_for_regression()
    {
        var trainer = new Trainer(new LstmBasic(), new Adam(LstmBasic.ParameterCount));
        var error = Assert.Throws<ArgumentException>(() => trainer.FitLast(new float[4 * 7 * 3], 7, new float[4 * LstmBasic.OutputSize],
            new FitOptions { BestEpochBy = FitMetric.Accuracy, ValidationFraction = 0.25 }));
        Assert.Contains("BestEpochBy", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PredictSequences_equals_one_forward_per_sequence()
    {
        int[][] sequences = Sequences(37, 15, seed: 5);
        TinyTopicModel model = Create<TinyTopicModel>();
        var batched = new float[sequences.Length * 3];
        GraphTrainer.PredictSequences(model, sequences, batched, batchSize: 8);
        var single = new float[3];
        for (int n = 0; n < sequences.Length; n++)
        {
            model.Forward(sequences[n], 1, single);
            for (int o = 0; o < 3; o++) Assert.Equal(single[o], batched[n * 3 + o], 6);
        }
    }

    [Fact]
    public void FitTokenClasses_lowers_the_validation_loss_of_a_language_model()
    {
        // A cyclic stream 0, 1, …, 9, 0, 1, …: the next token is the current one plus 1, learnable from one step.
        const int Steps = 6, Windows = 120;
        var tokens = new int[Windows * Steps];
        var next = new int[Windows * Steps];
        var random = new Random(1);
        for (int n = 0; n < Windows; n++)
        {
            int start = random.Next(10);
            for (int t = 0; t < Steps; t++)
            {
                tokens[n * Steps + t] = (start + t) % 10;
                next[n * Steps + t] = (start + t + 1) % 10;
            }
        }
        TinyTokenLanguageModel model = Create<TinyTokenLanguageModel>();
        var trainer = new GraphTrainer(model, new Adam(Count(model), 0.03f));
        FitResult fit = trainer.FitTokenClasses(tokens, Steps, next, new FitOptions { Epochs = 20, BatchSize = 12, Seed = 1, ValidationFraction = 0.25 });
        Assert.True(fit.History[fit.BestEpoch - 1].ValidationLoss < fit.History[0].ValidationLoss / 4,
            $"validation loss {fit.History[0].ValidationLoss} -> {fit.History[fit.BestEpoch - 1].ValidationLoss}");
        Assert.True(fit.History[fit.BestEpoch - 1].ValidationAccuracy > 0.9);
    }

    [Fact]
    public void CheckpointPath_holds_the_best_epoch_of_a_sequence_fit()
    {
        (int[][] sequences, int[] labels) = MarkerTask(120, seed: 3);
        TinyTopicModel model = Create<TinyTopicModel>();
        var optimizer = new Adam(Count(model), 0.02f);
        var trainer = new GraphTrainer(model, optimizer);
        string path = Path.Combine(_folder, "nested", "best");
        trainer.FitSequenceClasses(sequences, labels, new FitOptions { Epochs = 4, BatchSize = 16, ValidationFraction = 0.25, CheckpointPath = path });
        var reloaded = new TinyTopicModel();
        using (FileStream stream = File.OpenRead(Checkpoint.ModelFile(path))) reloaded.LoadSafetensors(stream);
        Assert.True(SameBits(model.Parameters, reloaded.Parameters));
        var state = new Adam(Count(model), 0.02f);
        using (FileStream stream = File.OpenRead(Checkpoint.OptimizerFile(path))) state.LoadState(stream);
        Assert.True(state.StepCount > 0);
    }

    // ---- Argument checks ---------------------------------------------------------------------------------------

    [Fact]
    public void Wrong_shapes_and_models_are_refused_with_the_argument_and_the_shapes()
    {
        TinyTopicModel topic = Create<TinyTopicModel>();
        var trainer = new GraphTrainer(topic, new Adam(Count(topic)));
        var classes = Assert.Throws<ArgumentException>(() => trainer.TrainClasses(new int[4 * 5], 4, new int[4 * 5]));
        Assert.Equal("classes", classes.ParamName);
        Assert.Contains("[B] = [4]", classes.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => trainer.TrainClasses(new float[12], 4, new int[4]));
        Assert.Throws<InvalidOperationException>(() => trainer.TrainRegression(new float[12], 4, new float[12]));
        Assert.Throws<InvalidOperationException>(() => trainer.FitTokenClasses(new int[10], 5, new int[10], new FitOptions()));
        var token = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.FitSequenceClasses([[2, 3], [4, 12]], [0, 1], new FitOptions()));
        Assert.Contains("sequences[1][1] = 12", token.Message, StringComparison.Ordinal);
        var empty = Assert.Throws<ArgumentException>(() => trainer.FitSequenceClasses([[2, 3], []], [0, 1], new FitOptions()));
        Assert.Contains("sequences[1] is empty", empty.Message, StringComparison.Ordinal);
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.FitSequenceClasses([[2, 3], [4]], [0, 3], new FitOptions()));
        Assert.Contains("labels[1] = 3", label.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => trainer.FitSequenceClasses([[2, 3], [4]], [0], new FitOptions()));

        TinyTokenLanguageModel language = Create<TinyTokenLanguageModel>();
        var languageTrainer = new GraphTrainer(language, new Adam(Count(language)));
        Assert.Throws<InvalidOperationException>(() => languageTrainer.FitSequenceClasses([[2, 3]], [0], new FitOptions()));
        var perStep = Assert.Throws<ArgumentException>(() => languageTrainer.TrainClasses(new int[2 * 3], 2, new int[2]));
        Assert.Contains("[B, T] = [2, 3]", perStep.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new GraphTrainer(language, new Adam(Count(language) + 1)));
    }

    // ---- A recording model -------------------------------------------------------------------------------------

    private sealed record RecordedBatch(int[] Tokens, int BatchSize, int Steps, int[] Lengths);

    /// <summary>Forwards every call to a generated model and records the batches of its forward calls.</summary>
    private sealed class RecordingTokenModel(ITokenSequenceModel inner) : ITokenSequenceModel
    {
        public List<RecordedBatch> Batches { get; } = [];

        public List<RecordedBatch> Predicted { get; } = [];

        public int VocabularySize => inner.VocabularySize;
        public int PaddingIdx => inner.PaddingIdx;
        public int OutputSize => inner.OutputSize;
        public int RecurrentStateSize => inner.RecurrentStateSize;
        public bool OutputPerStep => inner.OutputPerStep;
        public int ParameterCount => inner.ParameterCount;
        public ReadOnlySpan<float> Parameters => inner.Parameters;
        public Span<float> Gradients => inner.Gradients;
        public Span<float> EditParameters() => inner.EditParameters();
        public void MarkParametersChanged() => inner.MarkParametersChanged();
        public void ZeroGradients() => inner.ZeroGradients();
        public void InitializeParameters(ulong seed) => inner.InitializeParameters(seed);
        public void SeedDropout(ulong seed) => inner.SeedDropout(seed);
        public LoadResult LoadSafetensors(Stream stream, LoadOptions? options = null) => inner.LoadSafetensors(stream, options);
        public void SaveSafetensors(Stream stream) => inner.SaveSafetensors(stream);

        public void Forward(ReadOnlySpan<int> tokens, int batchSize, Span<float> output, ReadOnlySpan<int> lengths = default,
            ReadOnlySpan<float> initialState = default, Span<float> finalState = default)
        {
            Predicted.Add(new RecordedBatch(tokens.ToArray(), batchSize, tokens.Length / batchSize, lengths.ToArray()));
            inner.Forward(tokens, batchSize, output, lengths, initialState, finalState);
        }

        public void TrainForward(ReadOnlySpan<int> tokens, int batchSize, Span<float> output, ReadOnlySpan<int> lengths = default,
            ReadOnlySpan<float> initialState = default, Span<float> finalState = default)
        {
            Batches.Add(new RecordedBatch(tokens.ToArray(), batchSize, tokens.Length / batchSize, lengths.ToArray()));
            inner.TrainForward(tokens, batchSize, output, lengths, initialState, finalState);
        }

        public void Backward(ReadOnlySpan<float> upstream, ReadOnlySpan<float> finalStateGradient = default, Span<float> initialStateGradient = default) =>
            inner.Backward(upstream, finalStateGradient, initialStateGradient);
    }
}
