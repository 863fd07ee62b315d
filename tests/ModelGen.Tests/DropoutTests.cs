namespace ModelGen.Tests;

/// <summary>PyTorch's inter-layer dropout: training forwards only, seeded, and backpropagated through its mask.</summary>
public class DropoutTests
{
    private const int Batch = 2, Steps = 3;

    private static (GruThreeLayers Model, float[] Input, float[] Upstream) Setup(float dropout)
    {
        var model = new GruThreeLayers { Dropout = dropout };
        model.InitializeParameters(4);
        float[] input = TestHelpers.RandomValues(Batch * Steps * GruThreeLayers.InputSize, seed: 5);
        float[] upstream = TestHelpers.RandomValues(Batch * Steps * GruThreeLayers.OutputSize, seed: 6);
        return (model, input, upstream);
    }

    /// <summary>L = sum(y · dy) of a training forward whose masks come from <paramref name="seed"/>.</summary>
    private static double Loss(GruThreeLayers model, float[] input, float[] upstream, ulong seed)
    {
        model.SeedDropout(seed);
        var y = new float[upstream.Length];
        model.TrainPredictSequence(input, Batch, y);
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += (double)y[i] * upstream[i];
        return sum;
    }

    [Fact]
    public void Same_seed_same_masks_and_inference_never_drops()
    {
        (GruThreeLayers model, float[] input, float[] upstream) = Setup(0.5f);
        Assert.Equal(Loss(model, input, upstream, 1), Loss(model, input, upstream, 1));
        Assert.NotEqual(Loss(model, input, upstream, 1), Loss(model, input, upstream, 2));

        (GruThreeLayers plain, _, _) = Setup(0f);
        var dropped = new float[upstream.Length];
        var kept = new float[upstream.Length];
        model.PredictSequence(input, Batch, dropped);
        plain.PredictSequence(input, Batch, kept);
        Assert.Equal(kept, dropped);
        Assert.Equal(Loss(plain, input, upstream, 1), Loss(plain, input, upstream, 2));
    }

    [Fact]
    public void Gradients_flow_through_the_dropout_mask()
    {
        // Central differences of L(θ) with the masks held fixed by the seed, on the first layer's weights
        // (whose gradient crosses two dropout masks) and on the input.
        (GruThreeLayers model, float[] input, float[] upstream) = Setup(0.4f);
        model.SeedDropout(3);
        var y = new float[upstream.Length];
        model.TrainPredictSequence(input, Batch, y);
        model.ZeroGradients();
        var dInput = new float[input.Length];
        model.Backward(upstream, dInput);
        float[] analytic = model.Gradients.ToArray();

        const float Epsilon = 1e-2f;
        int checkedCoordinates = 0;
        ParameterInfo weightIh = GruThreeLayers.ParameterTable.Single(p => p.Name == "rnn.weight_ih_l0");
        for (int i = weightIh.Offset; i < weightIh.Offset + weightIh.Length; i += 3)
        {
            float saved = model.Parameters[i];
            model.EditParameters()[i] = saved + Epsilon;
            double plus = Loss(model, input, upstream, 3);
            model.EditParameters()[i] = saved - Epsilon;
            double minus = Loss(model, input, upstream, 3);
            model.EditParameters()[i] = saved;
            double numeric = (plus - minus) / (2 * Epsilon);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-3 + 2e-2 * Math.Abs(analytic[i]),
                $"weight_ih_l0 element {i - weightIh.Offset}: finite difference {numeric}, backward {analytic[i]}");
            checkedCoordinates++;
        }
        for (int i = 0; i < input.Length; i += 2)
        {
            float saved = input[i];
            input[i] = saved + Epsilon;
            double plus = Loss(model, input, upstream, 3);
            input[i] = saved - Epsilon;
            double minus = Loss(model, input, upstream, 3);
            input[i] = saved;
            double numeric = (plus - minus) / (2 * Epsilon);
            Assert.True(Math.Abs(numeric - dInput[i]) <= 2e-3 + 2e-2 * Math.Abs(dInput[i]),
                $"input element {i}: finite difference {numeric}, backward {dInput[i]}");
            checkedCoordinates++;
        }
        Assert.True(checkedCoordinates > 10);
        Assert.Contains(analytic, g => g != 0);
    }

    [Fact]
    public void Dropout_outside_zero_to_one_is_rejected()
    {
        var model = new GruThreeLayers();
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Dropout = 1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Dropout = -0.1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Dropout = float.NaN);
    }
}
