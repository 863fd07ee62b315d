using ModelGen;

namespace ModelGen.Tests;

/// <summary>A model for the learning tests: the classic SimpleLSTM forecaster.</summary>
[LstmModel(InputSize = 1, HiddenSize = 16, OutputSize = 1)]
public partial class SineForecaster;

/// <summary>A character model for the learning tests: one-hot over a 6-letter alphabet, a class per step.</summary>
[GruModel(InputSize = 6, HiddenSize = 24, OutputSize = 6)]
public partial class CharGru;

/// <summary>
/// Training makes real progress: fixed seeds, fixed epochs, loss bounds stated against a baseline computed
/// from the same data (never a number taken from a previous run of our own code).
/// </summary>
public class LearningTests
{
    private const int Steps = 20;

    /// <summary>Windows of a noisy sine: input x[n..n+T), target x[n+T].</summary>
    private static (float[] Inputs, float[] Targets) NoisySine(int samples, ulong seed)
    {
        var random = new Random((int)seed);
        var series = new float[samples + Steps];
        for (int n = 0; n < series.Length; n++) series[n] = MathF.Sin(n * 0.25f) + 0.05f * (float)(random.NextDouble() * 2 - 1);
        var inputs = new float[samples * Steps];
        var targets = new float[samples];
        for (int s = 0; s < samples; s++)
        {
            series.AsSpan(s, Steps).CopyTo(inputs.AsSpan(s * Steps));
            targets[s] = series[s + Steps];
        }
        return (inputs, targets);
    }

    [Fact]
    public void Lstm_learns_a_noisy_sine_far_better_than_predicting_the_mean()
    {
        (float[] inputs, float[] targets) = NoisySine(400, seed: 7);
        var model = new SineForecaster();
        model.InitializeParameters(11);
        var trainer = new Trainer(model, new Adam(SineForecaster.ParameterCount, learningRate: 0.01f));
        FitResult result = trainer.FitLast(inputs, Steps, targets,
            new FitOptions { Epochs = 15, BatchSize = 16, Seed = 3, ValidationFraction = 0.2 });

        // The baseline: always predicting the mean of the validation targets (variance ≈ 0.5 for a sine).
        float[] validation = targets[^80..];
        float mean = validation.Average();
        float baseline = validation.Select(t => (t - mean) * (t - mean)).Average();
        float best = result.History.Min(r => r.ValidationLoss);
        Assert.True(best < baseline / 20, $"validation MSE {best} is not 20× below the mean predictor's {baseline}");
        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss / 5, "training loss did not fall 5×");
    }

    [Fact]
    public void Truncated_bptt_carries_state_between_chunks()
    {
        // With lr = 0 nothing changes the weights, so a carried state makes the second chunk's prediction that of
        // the whole sequence run at once: its loss against that prediction is zero. Without carrying it is not.
        var model = new SineForecaster();
        model.InitializeParameters(5);
        (float[] inputs, _) = NoisySine(1, seed: 1);
        var whole = new float[1];
        model.PredictLast(inputs, 1, whole);

        float ChunkedLoss(bool carry)
        {
            var trainer = new Trainer(model, new Sgd(SineForecaster.ParameterCount, learningRate: 0)) { CarryState = carry };
            trainer.TrainLast(inputs.AsSpan(0, Steps / 2), 1, new float[1]);
            return trainer.TrainLast(inputs.AsSpan(Steps / 2), 1, whole);
        }

        Assert.True(ChunkedLoss(carry: true) < 1e-14f, "the second chunk did not start from the carried state");
        Assert.True(ChunkedLoss(carry: false) > 1e-9f, "the control without carried state should differ");
    }

    [Fact]
    public void Character_model_learns_a_text_with_structure()
    {
        // A period-16 text in which "b" is followed by "c" or "d" depending on the letter three steps back. A
        // uniform guess costs ln 6 ≈ 1.79 nats per character; the best model that only knows the current letter
        // (bigram statistics) still pays ln 2 on the 1/8 of targets after a "b": ≈ 0.087 nats. Getting below
        // 0.05 needs memory of earlier steps, i.e. the recurrent path and its gradients through time.
        const string Alphabet = "abcdef";
        string text = string.Concat(Enumerable.Repeat("eabcfabdeabcfabd", 40));
        const int Window = 12;
        int samples = (text.Length - 1) / Window;
        var inputs = new float[samples * Window * Alphabet.Length];
        var classes = new int[samples * Window];
        for (int s = 0; s < samples; s++)
        {
            for (int t = 0; t < Window; t++)
            {
                int position = s * Window + t;
                inputs[(s * Window + t) * Alphabet.Length + Alphabet.IndexOf(text[position])] = 1;
                classes[s * Window + t] = Alphabet.IndexOf(text[position + 1]);
            }
        }
        var model = new CharGru();
        model.InitializeParameters(21);
        var trainer = new Trainer(model, new Adam(CharGru.ParameterCount, learningRate: 0.02f)) { ClipGradientNorm = 1f };
        FitResult result = trainer.FitSequenceClasses(inputs, Window, classes, new FitOptions { Epochs = 30, BatchSize = 8, Seed = 1 });

        Assert.True(result.History[0].TrainLoss > 1.2f, $"first epoch loss {result.History[0].TrainLoss} is suspiciously low");
        Assert.True(result.History[^1].TrainLoss < 0.05f,
            $"after 30 epochs the loss is {result.History[^1].TrainLoss} nats/char, not below 0.05 (bigram bound 0.087, uniform: {Math.Log(6):F2})");
    }
}
