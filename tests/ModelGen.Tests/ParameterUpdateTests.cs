namespace ModelGen.Tests;

/// <summary>
/// The kernels read a packed copy of the weights. Reading the parameters changes nothing; every named way of
/// changing them (EditParameters, MarkParametersChanged, the optimisers, initialisation, loading) reaches the next
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
    public void Write_through_EditParameters_reaches_the_next_forward()
    {
        var model = new LstmBasic();
        model.InitializeParameters(3);
        float[] before = Predict(model);

        TestHelpers.Writable(model, model.HeadBias)[1] += 0.25f;
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

        model.EditParameters()[model.GetParameter("rnn.weight_hh_l0").Length] += 0.5f; // first weight of the next tensor
        TestHelpers.Writable(model, model.WeightIhL0)[0] += 0.5f;
        Assert.NotEqual(before, Predict(model));
    }

    [Fact]
    public void Reading_the_parameters_does_not_repack_and_a_kept_span_needs_MarkParametersChanged()
    {
        var model = new LstmBasic();
        model.InitializeParameters(3);
        Span<float> kept = model.EditParameters();
        float[] before = Predict(model);

        // Reads between forwards change nothing.
        float sum = 0;
        foreach (float value in model.Parameters) sum += value;
        Assert.True(float.IsFinite(sum));
        Assert.Equal(before, Predict(model));

        // A write through a span kept from before a forward is not seen until the model is told...
        int headBias = model.GetParameter("head.bias").Length;
        kept[^headBias] += 1f;
        Assert.Equal(before, Predict(model));
        // ...and then it is.
        model.MarkParametersChanged();
        float[] after = Predict(model);
        Assert.Equal(before[0] + 1f, after[0], 6);
    }

    [Fact]
    public void An_optimizer_step_reaches_the_next_forward()
    {
        var model = new LstmBasic();
        model.InitializeParameters(3);
        float[] before = Predict(model);
        model.ZeroGradients();
        model.Gradients.Fill(1f);
        new Sgd(LstmBasic.ParameterCount, learningRate: 0.1f).Step(model);
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
