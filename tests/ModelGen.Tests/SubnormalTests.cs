namespace ModelGen.Tests;

/// <summary>
/// Subnormal weights, inputs and states are flushed to zero before the arithmetic sees them (they cost a
/// microcode assist per operation on x64; docs/benchmarks.md has the timings): a model then computes exactly
/// what it computes with zeros in their place, never stores a subnormal h or c, and normal values are unchanged.
/// </summary>
public class SubnormalTests
{
    private const int Batch = 2;
    private const int Steps = 6;
    private const float Subnormal = 3e-39f;

    private static void AssertNoSubnormal(ReadOnlySpan<float> values, string what)
    {
        for (int i = 0; i < values.Length; i++)
        {
            Assert.False(float.IsSubnormal(values[i]), $"{what}[{i}] = {values[i]:R} is subnormal.");
        }
    }

    /// <summary>output, hN and cN of a forward pass from the given initial state.</summary>
    private static (float[] Output, float[] HN, float[] CN) Run(IRecurrentModel model, float[] input, float[] h0, float[] c0)
    {
        var output = new float[Batch * Steps * model.OutputFeatures];
        var hN = new float[h0.Length];
        var cN = new float[c0.Length];
        model.Forward(input, Batch, output, h0, c0, hN, cN);
        return (output, hN, cN);
    }

    private static (float[] H0, float[] C0) States(IRecurrentModel model, float value)
    {
        int layers = model.NumLayers * model.NumDirections;
        float[] h0 = Enumerable.Repeat(value, layers * Batch * model.StateSize).ToArray();
        float[] c0 = model.Cell == CellKind.Lstm ? Enumerable.Repeat(value, layers * Batch * model.HiddenSize).ToArray() : [];
        return (h0, c0);
    }

    private static void AssertSameRun((float[] Output, float[] HN, float[] CN) expected, (float[] Output, float[] HN, float[] CN) actual)
    {
        TestHelpers.AssertBitEqual(expected.Output, actual.Output, "output");
        TestHelpers.AssertBitEqual(expected.HN, actual.HN, "hN");
        TestHelpers.AssertBitEqual(expected.CN, actual.CN, "cN");
        AssertNoSubnormal(actual.Output, "output");
        AssertNoSubnormal(actual.HN, "hN");
        AssertNoSubnormal(actual.CN, "cN");
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Subnormal_weights_compute_what_zero_weights_compute(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        float[] input = TestHelpers.RandomInput(model, Batch, Steps, seed: 1);
        (float[] h0, float[] c0) = States(model, 0.25f);
        model.EditParameters().Clear();
        var zero = Run(model, input, h0, c0);

        model.EditParameters().Fill(Subnormal);
        AssertSameRun(zero, Run(model, input, h0, c0));
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Subnormal_inputs_and_states_compute_what_zeros_compute(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        model.InitializeParameters(2);
        // Without biases a zero input and state give exactly zero; subnormal ones must give the same.
        foreach (ParameterInfo info in model.ParameterTable.Where(p => p.Name.Contains(".bias", StringComparison.Ordinal)))
        {
            TestHelpers.Writable(model, model.GetParameter(info.Name)).Clear();
        }
        (float[] h0, float[] c0) = States(model, 0f);
        var zero = Run(model, new float[Batch * Steps * model.InputSize], h0, c0);

        (float[] subnormalH0, float[] subnormalC0) = States(model, -Subnormal);
        float[] subnormalInput = Enumerable.Repeat(Subnormal, Batch * Steps * model.InputSize).ToArray();
        AssertSameRun(zero, Run(model, subnormalInput, subnormalH0, subnormalC0));
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void A_state_that_decays_below_the_normal_range_becomes_zero(string name)
    {
        // Zero weights and biases: LSTM gates are ½ and g = 0, so c halves every step; GRU keeps ½(h + tanh 0).
        // From 2⁻¹²⁰ a few steps reach the subnormal range, where the stored state must be zero instead.
        IRecurrentModel model = TestModels.Create(name);
        model.EditParameters().Clear();
        (float[] h0, float[] c0) = States(model, MathF.ScaleB(1f, -122));
        var run = Run(model, new float[Batch * Steps * model.InputSize], h0, c0);
        AssertNoSubnormal(run.Output, "output");
        AssertNoSubnormal(run.HN, "hN");
        AssertNoSubnormal(run.CN, "cN");
    }

    [Fact]
    public void Flushing_keeps_every_normal_value_and_zero_bit_for_bit()
    {
        float[] values = [0f, -0f, Subnormal, -Subnormal, float.Epsilon, 1.17549435e-38f, -1.17549435e-38f, 1f, -2.5f,
            float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-30f];
        // Every window of the values, so that each passes through the copy's full vectors, its 128-bit remainder
        // and its scalar tail, whatever Vector<float>.Count is.
        for (int start = 0; start < values.Length; start++)
        {
            for (int length = 1; start + length <= values.Length; length++)
            {
                var flushed = new float[length];
                Kernels.Subnormals.FlushCopy(values.AsSpan(start, length), flushed);
                for (int i = 0; i < length; i++)
                {
                    float value = values[start + i], expected = float.IsSubnormal(value) ? MathF.CopySign(0f, value) : value;
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(flushed[i]));
                }
            }
        }
        foreach (float value in values)
        {
            float expected = float.IsSubnormal(value) ? MathF.CopySign(0f, value) : value;
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(Kernels.Subnormals.Flush(value)));
        }
    }
}
