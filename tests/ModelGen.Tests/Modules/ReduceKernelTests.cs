using ModelGen.Kernels;

namespace ModelGen.Tests.Modules;

/// <summary>
/// <see cref="ReduceKernel"/> against float64 references written here, with and without lengths, and the
/// backward kernels against central finite differences of those references. F = 11 leaves a vector tail.
/// </summary>
/// <remarks>
/// Last and FinalHidden only copy (exact); Mean sums len floats and divides once: within
/// 1.01·len·u·Σ|x|/len + u·|mean|. The references are linear (Max piecewise linear, differenced away from ties
/// with h below the gap to the runner-up), so the central differences are exact up to ~1e-16 rounding; the
/// float gradients are copies (exact) or dy/len (u·|dy/len|).
/// </remarks>
public class ReduceKernelTests
{
    private const int B = 3, T = 5, F = 11;
    private static readonly int[] Lengths = [5, 1, 3];

    public static TheoryData<bool> WithLengths => new() { false, true };

    private static int Length(int[] lengths, int b) => lengths.Length == 0 ? T : lengths[b];

    private static double[] LastReference(double[] x, int[] lengths)
    {
        var y = new double[B * F];
        for (int b = 0; b < B; b++)
        {
            for (int f = 0; f < F; f++) y[b * F + f] = x[(b * T + Length(lengths, b) - 1) * F + f];
        }
        return y;
    }

    private static double[] MeanReference(double[] x, int[] lengths)
    {
        var y = new double[B * F];
        for (int b = 0; b < B; b++)
        {
            for (int f = 0; f < F; f++)
            {
                double sum = 0;
                for (int t = 0; t < Length(lengths, b); t++) sum += x[(b * T + t) * F + f];
                y[b * F + f] = sum / Length(lengths, b);
            }
        }
        return y;
    }

    private static (double[] Y, int[] Index) MaxReference(double[] x, int[] lengths)
    {
        var y = new double[B * F];
        var index = new int[B * F];
        for (int b = 0; b < B; b++)
        {
            for (int f = 0; f < F; f++)
            {
                int best = 0;
                for (int t = 1; t < Length(lengths, b); t++)
                {
                    double value = x[(b * T + t) * F + f], current = x[(b * T + best) * F + f];
                    if (!double.IsNaN(current) && (double.IsNaN(value) || value > current)) best = t;
                }
                index[b * F + f] = best;
                y[b * F + f] = x[(b * T + best) * F + f];
            }
        }
        return (y, index);
    }

    private static float[] Input(int seed) => ModuleTestSupport.Uniform(B * T * F, seed);

    [Theory, MemberData(nameof(WithLengths))]
    public void Last_and_its_backward(bool withLengths)
    {
        int[] lengths = withLengths ? Lengths : [];
        float[] x = Input(1), g = ModuleTestSupport.Uniform(B * F, 2);
        var y = new float[B * F];
        ReduceKernel.Last(x, lengths, B, T, F, y);
        ModuleTestSupport.AssertWithin(LastReference(ModuleTestSupport.ToDouble(x), lengths), y, _ => 0, "last");

        var dx = new float[x.Length];
        dx.AsSpan().Fill(float.NaN);
        ReduceKernel.LastBackward(g, lengths, B, T, F, dx);
        double[] fd = ModuleTestSupport.FiniteDifference(ModuleTestSupport.ToDouble(x), p => ModuleTestSupport.Dot(LastReference(p, lengths), g), 0.5);
        ModuleTestSupport.AssertWithin(fd, dx, _ => 1e-15, "last dx");
    }

    [Theory, MemberData(nameof(WithLengths))]
    public void Mean_and_its_backward(bool withLengths)
    {
        int[] lengths = withLengths ? Lengths : [];
        float[] x = Input(3), g = ModuleTestSupport.Uniform(B * F, 4);
        var y = new float[B * F];
        ReduceKernel.Mean(x, lengths, B, T, F, y);
        double[] expected = MeanReference(ModuleTestSupport.ToDouble(x), lengths);
        ModuleTestSupport.AssertWithin(expected, y, i =>
        {
            int b = i / F, f = i % F, length = Length(lengths, b);
            double magnitude = 0;
            for (int t = 0; t < length; t++) magnitude += Math.Abs(x[(b * T + t) * F + f]);
            return 1.01 * length * ModuleTestSupport.U * magnitude / length + ModuleTestSupport.U * Math.Abs(expected[i]);
        }, "mean");

        var dx = new float[x.Length];
        dx.AsSpan().Fill(float.NaN);
        ReduceKernel.MeanBackward(g, lengths, B, T, F, dx);
        double[] fd = ModuleTestSupport.FiniteDifference(ModuleTestSupport.ToDouble(x), p => ModuleTestSupport.Dot(MeanReference(p, lengths), g), 0.5);
        ModuleTestSupport.AssertWithin(fd, dx, i => ModuleTestSupport.U * Math.Abs(fd[i]) + 1e-15, "mean dx");
    }

    [Theory, MemberData(nameof(WithLengths))]
    public void Max_and_its_backward_away_from_ties(bool withLengths)
    {
        int[] lengths = withLengths ? Lengths : [];
        float[] x = Input(5), g = ModuleTestSupport.Uniform(B * F, 6);
        var y = new float[B * F];
        var argmax = new int[B * F];
        ReduceKernel.Max(x, lengths, B, T, F, y, argmax);
        (double[] expected, int[] index) = MaxReference(ModuleTestSupport.ToDouble(x), lengths);
        ModuleTestSupport.AssertWithin(expected, y, _ => 0, "max");
        Assert.Equal(index, argmax);

        var dx = new float[x.Length];
        dx.AsSpan().Fill(float.NaN);
        ReduceKernel.MaxBackward(g, argmax, B, T, F, dx);
        // h = 1e-6 is below the smallest gap between distinct random floats of these 15 values per column (checked).
        double[] xd = ModuleTestSupport.ToDouble(x);
        Assert.True(SmallestGap(xd, lengths) > 1e-5, "the data has a near-tie; pick another seed");
        double[] fd = ModuleTestSupport.FiniteDifference(xd, p => ModuleTestSupport.Dot(MaxReference(p, lengths).Y, g), 1e-6);
        ModuleTestSupport.AssertWithin(fd, dx, _ => 1e-9, "max dx");
    }

    private static double SmallestGap(double[] x, int[] lengths)
    {
        double gap = double.PositiveInfinity;
        for (int b = 0; b < B; b++)
        {
            for (int f = 0; f < F; f++)
            {
                for (int s = 0; s < Length(lengths, b); s++)
                {
                    for (int t = s + 1; t < Length(lengths, b); t++)
                    {
                        gap = Math.Min(gap, Math.Abs(x[(b * T + s) * F + f] - x[(b * T + t) * F + f]));
                    }
                }
            }
        }
        return gap;
    }

    /// <summary>
    /// Ties go to the first maximal step and a NaN wins (the first NaN), as torch.max(dim) does; padding never
    /// wins, however large; the gradient goes to that one step only.
    /// </summary>
    [Fact]
    public void Max_takes_the_first_of_ties_and_propagates_nan_and_ignores_padding()
    {
        float[] x = Input(7);
        int[] lengths = [4, 2, 5];
        void Set(int b, int t, int f, float value) => x[(b * T + t) * F + f] = value;
        for (int f = 0; f < F; f++)
        {
            Set(0, 1, f, 2f); Set(0, 3, f, 2f);            // tie at 1 and 3
            Set(0, 4, f, 9f);                              // padding of sequence 0
            Set(1, 0, f, 3f); Set(1, 1, f, 3f);            // tie at 0 and 1
            Set(1, 3, f, 100f);                            // padding of sequence 1
        }
        Set(2, 2, 4, float.NaN); Set(2, 4, 4, float.NaN); Set(2, 3, 4, 50f);   // first NaN wins over a larger value
        Set(2, 3, 10, float.NaN);                                              // NaN in the tail lane
        var y = new float[B * F];
        var argmax = new int[B * F];
        ReduceKernel.Max(x, lengths, B, T, F, y, argmax);
        (double[] expected, int[] index) = MaxReference(ModuleTestSupport.ToDouble(x), lengths);
        Assert.Equal(index, argmax);
        for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], (double)y[i]);
        for (int f = 0; f < F; f++)
        {
            Assert.Equal(1, argmax[f]);
            Assert.Equal(0, argmax[F + f]);
        }
        Assert.Equal(2, argmax[2 * F + 4]);
        Assert.True(float.IsNaN(y[2 * F + 10]));
        Assert.Equal(3, argmax[2 * F + 10]);

        float[] g = ModuleTestSupport.Uniform(B * F, 8);
        var dx = new float[x.Length];
        ReduceKernel.MaxBackward(g, argmax, B, T, F, dx);
        for (int b = 0; b < B; b++)
        {
            for (int t = 0; t < T; t++)
            {
                for (int f = 0; f < F; f++)
                {
                    float want = index[b * F + f] == t ? g[b * F + f] : 0f;
                    Assert.Equal(want, dx[(b * T + t) * F + f]);
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    public void FinalHidden_concatenates_the_top_layer_and_its_backward(int layers, int directions)
    {
        const int batch = 2, state = 5;
        float[] hN = ModuleTestSupport.Uniform(layers * directions * batch * state, 9), g = ModuleTestSupport.Uniform(batch * directions * state, 10);
        double[] Reference(double[] h)
        {
            // torch.cat([h_n[-D + d] for d in range(D)], dim=1)
            var y = new double[batch * directions * state];
            for (int b = 0; b < batch; b++)
            {
                for (int d = 0; d < directions; d++)
                {
                    int slice = layers * directions - directions + d;
                    for (int j = 0; j < state; j++) y[b * directions * state + d * state + j] = h[(slice * batch + b) * state + j];
                }
            }
            return y;
        }
        var y = new float[batch * directions * state];
        ReduceKernel.FinalHidden(hN, layers, directions, batch, state, y);
        ModuleTestSupport.AssertWithin(Reference(ModuleTestSupport.ToDouble(hN)), y, _ => 0, "final hidden");

        var dHN = new float[hN.Length];
        dHN.AsSpan().Fill(float.NaN);
        ReduceKernel.FinalHiddenBackward(g, layers, directions, batch, state, dHN);
        double[] fd = ModuleTestSupport.FiniteDifference(ModuleTestSupport.ToDouble(hN), p => ModuleTestSupport.Dot(Reference(p), g), 0.5);
        ModuleTestSupport.AssertWithin(fd, dHN, _ => 1e-15, "final hidden dhN");
    }

    [Fact]
    public void Bad_lengths_throw_naming_the_argument()
    {
        var e = Assert.Throws<ArgumentException>(() => SequenceLengths.Check([1, 2], 3, 5, "lengths"));
        Assert.Equal("lengths", e.ParamName);
        Assert.Contains("expected shape [B] = [3], got 2", e.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => SequenceLengths.Check([1, 6, 0], 3, 5, "seq"));
        Assert.Equal("seq", range.ParamName);
        Assert.Contains("seq[1] = 6", range.Message);
        range = Assert.Throws<ArgumentOutOfRangeException>(() => SequenceLengths.Check([1, 5, 0], 3, 5, "seq"));
        Assert.Contains("seq[2] = 0", range.Message);
        SequenceLengths.Check([], 3, 5, "lengths");
        SequenceLengths.Check([1, 5, 3], 3, 5, "lengths");

        var y = new float[B * F];
        y.AsSpan().Fill(1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => ReduceKernel.Mean(Input(1), [5, 6, 1], B, T, F, y));
        Assert.All(y, value => Assert.Equal(1f, value));
        e = Assert.Throws<ArgumentException>(() => ReduceKernel.Last(new float[B * T * F - 1], [], B, T, F, y));
        Assert.Equal("x", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => ReduceKernel.MaxBackward(new float[B * F], new int[B * F].Select(_ => T).ToArray(), B, T, F, new float[B * T * F]));
    }
}
