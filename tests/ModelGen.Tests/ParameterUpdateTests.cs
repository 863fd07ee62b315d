namespace ModelGen.Tests;

/// <summary>
/// The kernels read a packed copy of the weights; every way of changing the parameters must reach the next
/// forward call, however many calls came before.
/// </summary>
public class ParameterUpdateTests
{
    private static readonly float[] Input = [.. Enumerable.Range(0, 2 * 7 * 3).Select(i => MathF.Sin(i * 0.37f))];

    private static float[] Predict(LstmBasic model)
    {
        var prediction = new float[2 * LstmBasic.OutputSize];
        model.PredictLast(Input, 2, prediction);
        return prediction;
    }

    [Fact]
    public void Write_through_an_accessor_reaches_the_next_forward()
    {
        var model = new LstmBasic();
        model.InitializeParameters(3);
        float[] before = Predict(model);

        model.HeadBias[1] += 0.25f;
        float[] after = Predict(model);

        Assert.Equal(before[0], after[0]);
        Assert.Equal(before[1] + 0.25f, after[1], 6);
    }

    [Fact]
    public void Write_to_a_recurrent_weight_reaches_the_next_forward()
    {
        var model = new LstmBasic();
        model.InitializeParameters(3);
        float[] before = Predict(model);

        model.Parameters[model.GetParameter("rnn.weight_hh_l0").Length] += 0.5f; // first weight of the next tensor
        model.WeightIhL0[0] += 0.5f;
        Assert.NotEqual(before, Predict(model));
    }

    [Fact]
    public void Initialize_and_load_after_a_forward_are_seen()
    {
        var model = new LstmBasic();
        model.InitializeParameters(1);
        float[] first = Predict(model);

        model.InitializeParameters(2);
        float[] second = Predict(model);
        Assert.NotEqual(first, second);

        using var saved = new MemoryStream();
        var other = new LstmBasic();
        other.InitializeParameters(1);
        other.SaveSafetensors(saved);
        saved.Position = 0;
        model.LoadSafetensors(saved);
        Assert.Equal(first, Predict(model));
    }
}
