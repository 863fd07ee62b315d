using ModelGen.Kernels;

namespace ModelGen.Tests.Modules;

/// <summary>
/// <see cref="LinearKernel{TSpec}"/> against a float64 <c>y = x Wᵀ + b</c> written here, its backward against
/// central finite differences of that reference, for sizes that leave vector tails (1, 3, 5, 7, 8, 9, 17, 130),
/// output sizes that give every number of vectors per pass (40 to 250), inputs of whole vectors (16, 32), and row
/// counts that leave tile tails (1, 3, 4, 5, 9, 13).
/// </summary>
/// <remarks>
/// Forward tolerance: each output is b plus In products accumulated by fused multiply-adds, one rounding each;
/// recursive summation of n terms errs by at most γₙ·Σ|terms| with γₙ = n·u/(1 − n·u), u = 2⁻²⁴, so the bound is
/// 1.01·In·u·(|b| + Σ_k |W[o,k]·x[k]|). (The inputs are floats, exact in double.) A wrong weight, a transposed
/// layout or a missed tail changes an output by about one whole term, far above that.
/// Backward tolerance: the loss L = Σ y·g is linear in W, b and x, so the central difference of the float64
/// reference has no truncation error and only ~1e-16·Σ|terms|/h of rounding; the kernel's float gradient is a sum
/// of n = rows (dW, db) or Out (dx) products accumulated onto the initial value, within 1.01·(n + 1)·u·(|initial|
/// + Σ|terms|); the bound used adds 1e-9 for the difference quotient.
/// </remarks>
public class LinearKernelTests
{
    private static readonly int[] RowCounts = [1, 3, 4, 5, 9];

    private static double[] Reference<TSpec>(double[] w, double[] b, double[] x, int rows) where TSpec : struct, ILinearSpec
    {
        int inF = TSpec.InFeatures, outF = TSpec.OutFeatures;
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outF; o++)
            {
                double sum = TSpec.Bias ? b[o] : 0;
                for (int k = 0; k < inF; k++) sum += w[o * inF + k] * x[r * inF + k];
                y[r * outF + o] = sum;
            }
        }
        return y;
    }

    private static float[] RunForward<TSpec>(float[] w, float[] b, float[] x, int rows) where TSpec : struct, ILinearSpec
    {
        var packed = new float[LinearKernel<TSpec>.PackedLength];
        LinearKernel<TSpec>.Pack(w, b, packed);
        var y = new float[rows * TSpec.OutFeatures];
        LinearKernel<TSpec>.Forward(packed, x, y, rows, new float[LinearKernel<TSpec>.ScratchLength]);
        return y;
    }

    private static void CheckForward<TSpec>() where TSpec : struct, ILinearSpec
    {
        int inF = TSpec.InFeatures, outF = TSpec.OutFeatures;
        float[] w = ModuleTestSupport.Uniform(outF * inF, 1), b = TSpec.Bias ? ModuleTestSupport.Uniform(outF, 2) : [];
        foreach (int rows in RowCounts)
        {
            float[] x = ModuleTestSupport.Uniform(rows * inF, 3 + rows, -2, 2);
            float[] y = RunForward<TSpec>(w, b, x, rows);
            double[] expected = Reference<TSpec>(ModuleTestSupport.ToDouble(w), ModuleTestSupport.ToDouble(b), ModuleTestSupport.ToDouble(x), rows);
            ModuleTestSupport.AssertWithin(expected, y, i =>
            {
                int r = i / outF, o = i % outF;
                double magnitude = TSpec.Bias ? Math.Abs(b[o]) : 0;
                for (int k = 0; k < inF; k++) magnitude += Math.Abs((double)w[o * inF + k] * x[r * inF + k]);
                return 1.01 * inF * ModuleTestSupport.U * magnitude;
            }, $"{typeof(TSpec).Name} y (rows {rows})");

            // The documented order of operations: b, then one multiply-add per k (fused where the CPU has FMA, as
            // the kernel's). Bit-identical, so the result cannot depend on the vector width, the tile a row falls in,
            // or a unit's lane.
            var chain = new float[rows * outF];
            for (int r = 0; r < rows; r++)
            {
                for (int o = 0; o < outF; o++)
                {
                    float sum = TSpec.Bias ? b[o] : 0f;
                    for (int k = 0; k < inF; k++) sum = ModelGen.Kernels.MultiplyAdd.Of(w[o * inF + k], x[r * inF + k], sum);
                    chain[r * outF + o] = sum;
                }
            }
            TestHelpers.AssertBitEqual(chain, y, $"{typeof(TSpec).Name} y (rows {rows}) vs the multiply-add chain");
        }
    }

    [Fact] public void Forward_1x1() => CheckForward<Lin1x1>();
    [Fact] public void Forward_7x5() => CheckForward<Lin7x5>();
    [Fact] public void Forward_3x8() => CheckForward<Lin3x8>();
    [Fact] public void Forward_8x17_without_bias() => CheckForward<Lin8x17NoBias>();
    [Fact] public void Forward_17x3() => CheckForward<Lin17x3>();
    [Fact] public void Forward_130x7() => CheckForward<Lin130x7>();
    [Fact] public void Forward_5x130() => CheckForward<Lin5x130>();
    [Fact] public void Forward_9x1_without_bias() => CheckForward<Lin9x1NoBias>();

    // Output sizes whose blocks make every number of output vectors a pass keeps in registers (1 to 8 for one row,
    // 1 to 4 for four; with and without an odd last block) at 4-, 8- and 16-float vectors.
    [Fact] public void Forward_6x40() => CheckForward<Lin6x40>();
    [Fact] public void Forward_5x56() => CheckForward<Lin5x56>();
    [Fact] public void Forward_3x88_without_bias() => CheckForward<Lin3x88NoBias>();
    [Fact] public void Forward_4x100() => CheckForward<Lin4x100>();
    [Fact] public void Forward_2x120() => CheckForward<Lin2x120>();
    [Fact] public void Forward_3x180() => CheckForward<Lin3x180>();
    [Fact] public void Forward_4x96() => CheckForward<Lin4x96>();
    [Fact] public void Forward_2x250() => CheckForward<Lin2x250>();

    private static void CheckBackward<TSpec>() where TSpec : struct, ILinearSpec
    {
        int inF = TSpec.InFeatures, outF = TSpec.OutFeatures;
        foreach (int rows in new[] { 1, 5, 13 })
        {
            float[] w = ModuleTestSupport.Uniform(outF * inF, 11), b = TSpec.Bias ? ModuleTestSupport.Uniform(outF, 12) : [];
            float[] x = ModuleTestSupport.Uniform(rows * inF, 13), g = ModuleTestSupport.Uniform(rows * outF, 14);
            float[] dW0 = ModuleTestSupport.Uniform(w.Length, 15), dB0 = ModuleTestSupport.Uniform(b.Length, 16);
            float[] dW = (float[])dW0.Clone(), dB = (float[])dB0.Clone(), dX = new float[x.Length];
            dX.AsSpan().Fill(float.NaN);   // overwritten, not accumulated
            LinearKernel<TSpec>.Backward(w, x, g, rows, dW, dB, dX);

            double[] wd = ModuleTestSupport.ToDouble(w), bd = ModuleTestSupport.ToDouble(b), xd = ModuleTestSupport.ToDouble(x);
            double[] gd = ModuleTestSupport.ToDouble(g);
            const double h = 0.5;   // any step: the loss is linear
            double[] fdW = ModuleTestSupport.FiniteDifference(wd, p => ModuleTestSupport.Dot(Reference<TSpec>(p, bd, xd, rows), g), h);
            double[] fdB = ModuleTestSupport.FiniteDifference(bd, p => ModuleTestSupport.Dot(Reference<TSpec>(wd, p, xd, rows), g), h);
            double[] fdX = ModuleTestSupport.FiniteDifference(xd, p => ModuleTestSupport.Dot(Reference<TSpec>(wd, bd, p, rows), g), h);

            double[] expectedW = [.. fdW.Select((d, i) => d + dW0[i])];
            ModuleTestSupport.AssertWithin(expectedW, dW, i =>
            {
                int o = i / inF, k = i % inF;
                double magnitude = Math.Abs(dW0[i]);
                for (int r = 0; r < rows; r++) magnitude += Math.Abs((double)g[r * outF + o] * x[r * inF + k]);
                return 1.01 * (rows + 1) * ModuleTestSupport.U * magnitude + 1e-9;
            }, $"{typeof(TSpec).Name} dW (rows {rows})");

            double[] expectedB = [.. fdB.Select((d, i) => d + dB0[i])];
            ModuleTestSupport.AssertWithin(expectedB, dB, o =>
            {
                double magnitude = Math.Abs(dB0[o]);
                for (int r = 0; r < rows; r++) magnitude += Math.Abs(g[r * outF + o]);
                return 1.01 * (rows + 1) * ModuleTestSupport.U * magnitude + 1e-9;
            }, $"{typeof(TSpec).Name} db (rows {rows})");

            ModuleTestSupport.AssertWithin(fdX, dX, i =>
            {
                int r = i / inF, k = i % inF;
                double magnitude = 0;
                for (int o = 0; o < outF; o++) magnitude += Math.Abs((double)g[r * outF + o] * w[o * inF + k]);
                return 1.01 * (outF + 1) * ModuleTestSupport.U * magnitude + 1e-9;
            }, $"{typeof(TSpec).Name} dx (rows {rows})");

            // The documented order of operations: every gradient adds its terms one multiply-add at a time, in
            // increasing r (dW, db) or o (dx), onto its initial value (dx: zero). Bit-identical, so the result cannot
            // depend on the vector width or on how the rows and columns are blocked.
            float[] chainW = new float[dW.Length], chainB = new float[dB.Length], chainX = new float[dX.Length];
            for (int o = 0; o < outF; o++)
            {
                for (int k = 0; k < inF; k++)
                {
                    float sum = dW0[o * inF + k];
                    for (int r = 0; r < rows; r++) sum = MultiplyAdd.Of(g[r * outF + o], x[r * inF + k], sum);
                    chainW[o * inF + k] = sum;
                }
                if (TSpec.Bias)
                {
                    float sum = dB0[o];
                    for (int r = 0; r < rows; r++) sum = MultiplyAdd.Of(1f, g[r * outF + o], sum);
                    chainB[o] = sum;
                }
            }
            for (int r = 0; r < rows; r++)
            {
                for (int k = 0; k < inF; k++)
                {
                    float sum = 0f;
                    for (int o = 0; o < outF; o++) sum = MultiplyAdd.Of(g[r * outF + o], w[o * inF + k], sum);
                    chainX[r * inF + k] = sum;
                }
            }
            TestHelpers.AssertBitEqual(chainW, dW, $"{typeof(TSpec).Name} dW (rows {rows}) vs the multiply-add chain");
            TestHelpers.AssertBitEqual(chainB, dB, $"{typeof(TSpec).Name} db (rows {rows}) vs the multiply-add chain");
            TestHelpers.AssertBitEqual(chainX, dX, $"{typeof(TSpec).Name} dx (rows {rows}) vs the multiply-add chain");

            // Skipping dx leaves the parameter gradients as they were computed with it.
            float[] dW2 = (float[])dW0.Clone(), dB2 = (float[])dB0.Clone();
            LinearKernel<TSpec>.Backward(w, x, g, rows, dW2, dB2, default);
            TestHelpers.AssertBitEqual(dW, dW2, "dW without dx");
            TestHelpers.AssertBitEqual(dB, dB2, "db without dx");
        }
    }

    [Fact] public void Backward_1x1() => CheckBackward<Lin1x1>();
    [Fact] public void Backward_7x5() => CheckBackward<Lin7x5>();
    [Fact] public void Backward_8x17_without_bias() => CheckBackward<Lin8x17NoBias>();
    [Fact] public void Backward_17x3() => CheckBackward<Lin17x3>();
    [Fact] public void Backward_130x7() => CheckBackward<Lin130x7>();
    [Fact] public void Backward_5x130() => CheckBackward<Lin5x130>();

    // Inputs of whole vectors (at 4, 8 and 16 floats), where the backward runs the row-batched products.
    [Fact] public void Forward_32x13() => CheckForward<Lin32x13>();
    [Fact] public void Forward_16x130_without_bias() => CheckForward<Lin16x130NoBias>();
    [Fact] public void Backward_32x13() => CheckBackward<Lin32x13>();
    [Fact] public void Backward_16x130_without_bias() => CheckBackward<Lin16x130NoBias>();

    [Fact]
    public void Pack_flushes_subnormal_weights_and_inputs_are_flushed_too()
    {
        float[] w = ModuleTestSupport.Uniform(7 * 5, 21), b = ModuleTestSupport.Uniform(5, 22), x = ModuleTestSupport.Uniform(2 * 7, 23);
        float[] wFlushed = (float[])w.Clone(), xFlushed = (float[])x.Clone();
        w[3] = 1e-40f; wFlushed[3] = 0f;
        x[5] = -1e-41f; xFlushed[5] = -0f;
        TestHelpers.AssertBitEqual(RunForward<Lin7x5>(wFlushed, b, xFlushed, 2), RunForward<Lin7x5>(w, b, x, 2), "y with subnormals");
    }

    [Fact]
    public void Initialize_draws_both_from_the_pytorch_bound()
    {
        var random = new SplitMix64(5);
        var w = new float[130 * 7];
        var b = new float[7];
        LinearKernel<Lin130x7>.Initialize(w, b, ref random);
        double bound = 1 / Math.Sqrt(130);
        foreach (float[] values in new[] { w, b })
        {
            Assert.All(values, value => Assert.InRange(value, -bound, bound));
        }
        // Spread over the whole interval: the extremes of 910 uniform draws come within 1% of the bound.
        Assert.True(w.Max() > 0.99 * bound && w.Min() < -0.99 * bound, $"weights span [{w.Min()}, {w.Max()}], bound {bound}");
        Assert.True(b.Distinct().Count() == b.Length, "bias values are drawn, not constant");
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_argument_before_writing()
    {
        var packed = new float[LinearKernel<Lin7x5>.PackedLength];
        var scratch = new float[LinearKernel<Lin7x5>.ScratchLength];
        var y = new float[10];
        y.AsSpan().Fill(42f);
        var e = Assert.Throws<ArgumentException>(() => LinearKernel<Lin7x5>.Forward(packed, new float[13], y, 2, scratch));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("14", e.Message);
        Assert.All(y, value => Assert.Equal(42f, value));
        e = Assert.Throws<ArgumentException>(() => LinearKernel<Lin7x5>.Pack(new float[35], new float[4], packed));
        Assert.Equal("bias", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => LinearKernel<Lin7x5>.Backward(new float[35], new float[7], new float[5], 1, new float[35], [], []));
        Assert.Equal("dBias", e.ParamName);
    }
}
