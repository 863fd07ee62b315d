namespace ModelGen.Tests;

/// <summary>InitializeParameters(seed): PyTorch's default distributions, reproducible from the seed.</summary>
public class InitializationTests
{
    /// <summary>Tensors with at least this many values must reach into the outer tenth of their range on both sides.</summary>
    private const int SpreadMinimumLength = 256;

    private static IRecurrentModel Initialized(string name, ulong seed)
    {
        IRecurrentModel model = TestModels.Create(name);
        model.InitializeParameters(seed);
        return model;
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Same_seed_gives_bit_identical_parameters_in_two_instances(string name)
    {
        TestHelpers.AssertBitEqual(Initialized(name, 123).Parameters, Initialized(name, 123).Parameters, "parameters");
    }

    [Fact]
    public void Initializing_again_with_the_same_seed_overwrites_everything_identically()
    {
        IRecurrentModel model = Initialized("lstm_projection_bidirectional", 5);
        float[] first = model.Parameters.ToArray();
        model.EditParameters().Fill(9f);
        model.InitializeParameters(5);
        TestHelpers.AssertBitEqual(first, model.Parameters, "parameters");
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Different_seeds_give_different_values_in_every_tensor(string name)
    {
        IRecurrentModel a = Initialized(name, 1), b = Initialized(name, 2);
        foreach (ParameterInfo info in a.ParameterTable)
        {
            float[] x = a.GetParameter(info.Name).ToArray(), y = b.GetParameter(info.Name).ToArray();
            int equal = x.Zip(y).Count(pair => pair.First == pair.Second);
            Assert.True(equal <= info.Length / 10, $"{info.Name}: {equal} of {info.Length} values equal under seeds 1 and 2.");
        }
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Every_tensor_is_uniform_within_pytorchs_bound(string name)
    {
        IRecurrentModel model = Initialized(name, 77);
        double recurrentBound = 1 / Math.Sqrt(model.HiddenSize);
        double headBound = 1 / Math.Sqrt(model.OutputFeatures);
        foreach (ParameterInfo info in model.ParameterTable)
        {
            double bound = info.Name.StartsWith("head.", StringComparison.Ordinal) ? headBound : recurrentBound;
            float[] values = model.GetParameter(info.Name).ToArray();
            double min = values.Min(), max = values.Max();
            Assert.True(min >= -bound && max <= bound, $"{info.Name}: [{min}, {max}] leaves ±{bound}.");
            Assert.True(values.Any(v => v != 0), $"{info.Name} is all zeros.");
            Assert.True(values.Distinct().Count() > values.Length / 2, $"{info.Name}: too many repeated values.");
            if (values.Length >= SpreadMinimumLength)
            {
                Assert.True(min < -0.9 * bound && max > 0.9 * bound, $"{info.Name}: [{min}, {max}] does not spread over ±{bound}.");
                Assert.True(Math.Abs(values.Average()) < 0.1 * bound, $"{info.Name}: mean {values.Average()} is off centre.");
            }
        }
    }

    /// <summary>The head's bound (fan-in 16) and the recurrent one (H = 32) differ: a swap would show.</summary>
    [Fact]
    public void Head_and_recurrent_tensors_use_their_own_bounds()
    {
        var model = (LstmProjectionBidirectional)Initialized("lstm_projection_bidirectional", 3);
        double headBound = 1 / Math.Sqrt(LstmProjectionBidirectional.OutputFeatures);
        double recurrentBound = 1 / Math.Sqrt(LstmProjectionBidirectional.HiddenSize);
        Assert.True(headBound > 1.2 * recurrentBound);
        float headMax = model.HeadWeight.ToArray().Max(v => Math.Abs(v));
        float recurrentMax = model.WeightIhL1.ToArray().Max(v => Math.Abs(v));
        Assert.InRange(headMax, 0.9 * headBound, headBound);
        Assert.InRange(recurrentMax, 0.9 * recurrentBound, recurrentBound);
        // W_hr has shape [P, H]; PyTorch still draws it within 1/sqrt(H), not 1/sqrt(P).
        Assert.True(model.WeightHrL0.ToArray().Max(v => Math.Abs(v)) <= recurrentBound);
    }

    [Fact]
    public void Initialization_does_not_touch_the_streaming_state()
    {
        var model = new GruBasic();
        model.ResetState(2);
        model.HiddenState.Fill(0.5f);
        model.InitializeParameters(1);
        Assert.All(model.HiddenState.ToArray(), v => Assert.Equal(0.5f, v));
    }
}
