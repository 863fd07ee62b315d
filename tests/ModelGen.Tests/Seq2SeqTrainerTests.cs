namespace ModelGen.Tests;

/// <summary>
/// <see cref="Seq2SeqTrainer"/> on the encoder–decoders of <c>Seq2SeqModelTests.cs</c>: a step is exactly the
/// teacher-forced forward, cross-entropy, backward and optimiser step written out by hand; a fit learns a task only
/// the source can solve; warm steps allocate nothing; bad arguments are named.
/// </summary>
public class Seq2SeqTrainerTests
{
    private const int Start = 1, End = 2, Padding = 0;

    /// <summary>Pairs of a toy task: the target is the source's tokens (3…8) reversed; the decoder must read the source.</summary>
    private static (int[][] Sources, int[][] Targets) Reversal(int count, ulong seed)
    {
        var random = new SplitMix64(seed);
        var sources = new int[count][];
        var targets = new int[count][];
        for (int n = 0; n < count; n++)
        {
            int length = 2 + (int)(random.Next() % 4);
            sources[n] = [.. Enumerable.Range(0, length).Select(_ => 3 + (int)(random.Next() % 6))];
            targets[n] = [.. sources[n].Reverse()];
        }
        return (sources, targets);
    }

    [Fact]
    public void A_step_is_the_teacher_forced_forward_cross_entropy_backward_and_adam_step()
    {
        var trained = new S2sLuong();
        var manual = new S2sLuong();
        trained.InitializeParameters(3);
        manual.InitializeParameters(3);
        var trainer = new Seq2SeqTrainer(trained, new Adam(S2sLuong.ParameterCount, 0.01f));
        var adam = new Adam(S2sLuong.ParameterCount, 0.01f);
        // Two rows: sources of 3 and 2 tokens, targets [start, y…] of 3 and 2, classes [y…, end] with −100 past them.
        int[] source = [3, 4, 5, 6, 7, 0], input = [Start, 5, 4, Start, 7, 0], output = [5, 4, End, 7, End, -100];
        int[] sourceLengths = [3, 2], targetLengths = [3, 2];
        for (int step = 0; step < 3; step++)
        {
            float loss = trainer.TrainBatch(source, input, 2, output, sourceLengths, targetLengths);

            var logits = new float[input.Length * S2sLuong.TargetVocabularySize];
            var gradient = new float[logits.Length];
            manual.TrainForward(source, input, 2, logits, sourceLengths, targetLengths);
            float expected = Losses.CrossEntropy(logits, S2sLuong.TargetVocabularySize, output, gradient);
            manual.ZeroGradients();
            manual.Backward(gradient);
            adam.Step(manual);

            Assert.Equal(expected, loss);
            Assert.True(manual.Parameters.SequenceEqual(trained.Parameters), $"step {step}: the parameters differ from the hand-written step's");
        }
    }

    [Fact]
    public void A_fit_learns_what_only_the_source_tells()
    {
        (int[][] sources, int[][] targets) = Reversal(600, seed: 5);
        var model = new S2sBahdanau();
        model.InitializeParameters(1);
        var trainer = new Seq2SeqTrainer(model, new Adam(S2sBahdanau.ParameterCount, 0.02f)) { ClipGradientNorm = 1f };
        FitResult fit = trainer.Fit(sources, targets, new Seq2SeqTokens(Start, End, Padding), new FitOptions
        {
            Epochs = 25, BatchSize = 32, ValidationFraction = 0.2, BucketByLength = true, Seed = 2,
        });

        // Without the source, the best a decoder can do at each position is the marginal of the target tokens there
        // (tokens 3…8 uniform, and the end token): its cross-entropy is at least the entropy of the next token given
        // the target prefix alone, which for this task is ln 6 at every token and ≥ 0 at the end. The mean over a
        // target of L tokens and its end is then ≥ L·ln 6 / (L + 1) ≥ 2/3 · ln 6 for L ≥ 2. A validation loss below
        // that means the decoder read the source through the bridge and the attention.
        double withoutSource = 2.0 / 3 * Math.Log(6);
        EpochReport best = fit.History[fit.BestEpoch - 1];
        Assert.True(best.ValidationLoss < withoutSource,
            $"best validation loss {best.ValidationLoss} is not below {withoutSource:F3}, what a decoder that ignores the source can reach");
        Assert.True(best.ValidationLoss < fit.History[0].ValidationLoss);
        Assert.InRange(best.ValidationAccuracy, 0, 1);
    }

    [Fact]
    public void Warm_steps_allocate_nothing()
    {
        var model = new S2sPlain();
        model.InitializeParameters(4);
        var trainer = new Seq2SeqTrainer(model, new Adam(S2sPlain.ParameterCount, 0.01f)) { ClipGradientNorm = 1f };
        int[] source = [3, 4, 5, 6], input = [Start, 5, Start, 7], output = [5, End, 7, End];
        long allocated = AllocationMeasurement.WarmAllocations(() => trainer.TrainBatch(source, input, 2, output));
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Bad_arguments_are_named_with_what_was_expected()
    {
        var model = new S2sPlain();
        var trainer = new Seq2SeqTrainer(model, new Adam(S2sPlain.ParameterCount, 0.01f));
        var output = Assert.Throws<ArgumentException>(() => trainer.TrainBatch([3, 4], [Start, 5], 1, [5]));
        Assert.Equal("targetOutput", output.ParamName);
        Assert.Contains("expected [B, Tt] like targetInput (2 ids), got 1", output.Message);
        var classes = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.TrainBatch([3, 4], [Start, 5], 1, [5, 9]));
        Assert.Equal("targetOutput", classes.ParamName);

        var tokens = new Seq2SeqTokens(Start, End, Padding);
        var count = Assert.Throws<ArgumentException>(() => trainer.Fit([[3]], [[4], [5]], tokens, new FitOptions()));
        Assert.Equal("targets", count.ParamName);
        var same = Assert.Throws<ArgumentException>(() => trainer.Fit([[3]], [[4]], new Seq2SeqTokens(Start, Start, Padding), new FitOptions()));
        Assert.Equal("tokens", same.ParamName);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit([[3]], [[4]], new Seq2SeqTokens(Start, 9, Padding), new FitOptions()));
        Assert.Contains("End = 9 is not a token id in [0, 9)", range.Message);
        var empty = Assert.Throws<ArgumentException>(() => trainer.Fit([[]], [[4]], tokens, new FitOptions()));
        Assert.Equal("sources", empty.ParamName);
    }
}
