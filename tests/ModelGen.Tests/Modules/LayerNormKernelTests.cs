using ModelGen.Kernels;

namespace ModelGen.Tests.Modules;

/// <summary>
/// <see cref="LayerNormKernel{TSpec}"/> against a float64 LayerNorm written here (two-pass mean and biased
/// variance), and its backward against central finite differences of that reference; every affine option, and
/// N = 1, 7, 8, 17, 130 so that vector tails occur. Inputs carry an offset of 3 so an inaccurate mean shows.
/// </summary>
/// <remarks>
/// <para>Forward tolerance. Write A_i = rstd·(|x_i| + |mean|) + |x̂_i|. The kernel's float x̂_i = (x_i − mean_f)·rstd_f
/// errs by at most about 3u·A_i (mean_f and rstd_f are the double values rounded once, the subtraction and the
/// product round once), and the fused w·x̂ + b once more, so |y − y₆₄| ≤ 8u·(|w_i|·A_i + |b_i|). An error in the
/// mean or the variance of one float ulp of a term, or a wrong feature, is far above it.</para>
/// <para>Backward tolerance. The loss L = Σ y·g is linear in w and b (any step is exact) and smooth in x: with
/// h = 1e-5 the truncation h²/6·|∂³L/∂x_i³| stays below 1e-8 (that derivative is O(rstd³·max|g·w|), about 10 here) and the rounding
/// of L (≈1e-16·|L|/h) below 1e-10, so 1e-8 is added for the difference. The kernel's float dx_i =
/// rstd·(g_i − mean(g) − x̂_i·mean(g·x̂)) carries the x̂ errors above into each term: with M = mean_j(|g_j|·A_j),
/// |error| ≤ 32u·rstd·(|g_i| + mean|g| + A_i·M). dw is the initial value plus rows terms dy·x̂, each within
/// 4u·|dy|·A: 8u·(rows + 1)·(|dw₀| + Σ_r |dy|·A); db is a float sum: 1.01·(rows + 1)·u·(|db₀| + Σ|dy|).</para>
/// </remarks>
public class LayerNormKernelTests
{
    private const int Rows = 5;

    private static bool HasWeight<TSpec>() where TSpec : struct, ILayerNormSpec => TSpec.ElementwiseAffine;

    private static bool HasBias<TSpec>() where TSpec : struct, ILayerNormSpec => TSpec.ElementwiseAffine && TSpec.Bias;

    private static (double Mean, double Rstd) Moments<TSpec>(double[] x, int r) where TSpec : struct, ILayerNormSpec
    {
        int n = TSpec.NormalizedShape;
        double mean = 0, variance = 0;
        for (int i = 0; i < n; i++) mean += x[r * n + i];
        mean /= n;
        for (int i = 0; i < n; i++) variance += (x[r * n + i] - mean) * (x[r * n + i] - mean);
        variance /= n;
        return (mean, 1 / Math.Sqrt(variance + TSpec.Eps));
    }

    private static double[] Reference<TSpec>(double[] w, double[] b, double[] x, int rows) where TSpec : struct, ILayerNormSpec
    {
        int n = TSpec.NormalizedShape;
        var y = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            (double mean, double rstd) = Moments<TSpec>(x, r);
            for (int i = 0; i < n; i++)
            {
                double value = (x[r * n + i] - mean) * rstd;
                if (HasWeight<TSpec>()) value *= w[i];
                if (HasBias<TSpec>()) value += b[i];
                y[r * n + i] = value;
            }
        }
        return y;
    }

    private static (float[] W, float[] B, float[] X) Data<TSpec>() where TSpec : struct, ILayerNormSpec
    {
        int n = TSpec.NormalizedShape;
        float[] w = HasWeight<TSpec>() ? ModuleTestSupport.Uniform(n, 1, 0.5, 1.5) : [];
        float[] b = HasBias<TSpec>() ? ModuleTestSupport.Uniform(n, 2) : [];
        return (w, b, ModuleTestSupport.Uniform(Rows * n, 3, 2, 4));
    }

    /// <summary>A_i of the remarks, from the reference moments.</summary>
    private static double Magnitude<TSpec>(double[] xd, int r, int i) where TSpec : struct, ILayerNormSpec
    {
        (double mean, double rstd) = Moments<TSpec>(xd, r);
        double x = xd[r * TSpec.NormalizedShape + i];
        return rstd * (Math.Abs(x) + Math.Abs(mean)) + Math.Abs((x - mean) * rstd);
    }

    private static void CheckForward<TSpec>() where TSpec : struct, ILayerNormSpec
    {
        int n = TSpec.NormalizedShape;
        (float[] w, float[] b, float[] x) = Data<TSpec>();
        double[] xd = ModuleTestSupport.ToDouble(x);
        var y = new float[Rows * n];
        var record = new float[LayerNormKernel<TSpec>.RecordLength(Rows)];
        LayerNormKernel<TSpec>.Forward<RecordCache>(w, b, x, y, Rows, record);
        double[] expected = Reference<TSpec>(ModuleTestSupport.ToDouble(w), ModuleTestSupport.ToDouble(b), xd, Rows);
        ModuleTestSupport.AssertWithin(expected, y, k =>
        {
            int r = k / n, i = k % n;
            double wi = HasWeight<TSpec>() ? Math.Abs(w[i]) : 1, bi = HasBias<TSpec>() ? Math.Abs(b[i]) : 0;
            return 8 * ModuleTestSupport.U * (wi * Magnitude<TSpec>(xd, r, i) + bi) + 1e-30;
        }, $"{typeof(TSpec).Name} y");

        // The record: each row's mean and rstd, rounded once from double.
        var moments = new double[2 * Rows];
        for (int r = 0; r < Rows; r++) (moments[2 * r], moments[2 * r + 1]) = Moments<TSpec>(xd, r);
        ModuleTestSupport.AssertWithin(moments, record, k => 1.01 * ModuleTestSupport.U * Math.Abs(moments[k]) + 1e-30, "record");

        // Inference: the same output, the record untouched (or absent); in place: the same output.
        var inferred = new float[y.Length];
        var untouched = new float[record.Length];
        untouched.AsSpan().Fill(float.NaN);
        LayerNormKernel<TSpec>.Forward<NoCache>(w, b, x, inferred, Rows, untouched);
        TestHelpers.AssertBitEqual(y, inferred, "NoCache y");
        Assert.All(untouched, value => Assert.True(float.IsNaN(value)));
        LayerNormKernel<TSpec>.Forward<NoCache>(w, b, x, inferred, Rows, default);
        float[] inPlace = (float[])x.Clone();
        LayerNormKernel<TSpec>.Forward<NoCache>(w, b, inPlace, inPlace, Rows, default);
        TestHelpers.AssertBitEqual(y, inPlace, "in-place y");
    }

    [Fact] public void Forward_7_affine_with_bias() => CheckForward<Ln7>();
    [Fact] public void Forward_17_affine_without_bias() => CheckForward<Ln17NoBias>();
    [Fact] public void Forward_8_not_affine() => CheckForward<Ln8Plain>();
    [Fact] public void Forward_130() => CheckForward<Ln130>();
    [Fact] public void Forward_1_gives_the_bias() => CheckForward<Ln1>();

    private static void CheckBackward<TSpec>() where TSpec : struct, ILayerNormSpec
    {
        int n = TSpec.NormalizedShape;
        (float[] w, float[] b, float[] x) = Data<TSpec>();
        float[] g = ModuleTestSupport.Uniform(Rows * n, 4);
        var y = new float[Rows * n];
        var record = new float[LayerNormKernel<TSpec>.RecordLength(Rows)];
        LayerNormKernel<TSpec>.Forward<RecordCache>(w, b, x, y, Rows, record);
        float[] dW0 = ModuleTestSupport.Uniform(w.Length, 5), dB0 = ModuleTestSupport.Uniform(b.Length, 6);
        float[] dW = (float[])dW0.Clone(), dB = (float[])dB0.Clone(), dX = new float[x.Length];
        dX.AsSpan().Fill(float.NaN);
        LayerNormKernel<TSpec>.Backward(w, x, record, g, Rows, dW, dB, dX);

        double[] wd = ModuleTestSupport.ToDouble(w), bd = ModuleTestSupport.ToDouble(b), xd = ModuleTestSupport.ToDouble(x);
        double[] fdX = ModuleTestSupport.FiniteDifference((double[])xd.Clone(), p => ModuleTestSupport.Dot(Reference<TSpec>(wd, bd, p, Rows), g), 1e-5);
        double[] fdW = ModuleTestSupport.FiniteDifference(wd, p => ModuleTestSupport.Dot(Reference<TSpec>(p, bd, xd, Rows), g), 0.5);
        double[] fdB = ModuleTestSupport.FiniteDifference(bd, p => ModuleTestSupport.Dot(Reference<TSpec>(wd, p, xd, Rows), g), 0.5);

        double u = ModuleTestSupport.U;
        ModuleTestSupport.AssertWithin(fdX, dX, k =>
        {
            int r = k / n, i = k % n;
            (_, double rstd) = Moments<TSpec>(xd, r);
            double meanG = 0, m = 0;
            for (int j = 0; j < n; j++)
            {
                double gj = Math.Abs(g[r * n + j]) * (HasWeight<TSpec>() ? Math.Abs(w[j]) : 1);
                meanG += gj / n;
                m += gj * Magnitude<TSpec>(xd, r, j) / n;
            }
            double gi = Math.Abs(g[k]) * (HasWeight<TSpec>() ? Math.Abs(w[i]) : 1);
            return 32 * u * rstd * (gi + meanG + Magnitude<TSpec>(xd, r, i) * m) + 1e-8;
        }, $"{typeof(TSpec).Name} dx");

        ModuleTestSupport.AssertWithin([.. fdW.Select((d, i) => d + dW0[i])], dW, i =>
        {
            double magnitude = Math.Abs(dW0[i]);
            for (int r = 0; r < Rows; r++) magnitude += Math.Abs(g[r * n + i]) * Magnitude<TSpec>(xd, r, i);
            return 8 * u * (Rows + 1) * magnitude + 1e-8;
        }, $"{typeof(TSpec).Name} dw");

        ModuleTestSupport.AssertWithin([.. fdB.Select((d, i) => d + dB0[i])], dB, i =>
        {
            double magnitude = Math.Abs(dB0[i]);
            for (int r = 0; r < Rows; r++) magnitude += Math.Abs(g[r * n + i]);
            return 1.01 * (Rows + 1) * u * magnitude + 1e-8;
        }, $"{typeof(TSpec).Name} db");

        // dx may be dy itself.
        float[] shared = (float[])g.Clone();
        float[] dW2 = (float[])dW0.Clone(), dB2 = (float[])dB0.Clone();
        LayerNormKernel<TSpec>.Backward(w, x, record, shared, Rows, dW2, dB2, shared);
        TestHelpers.AssertBitEqual(dX, shared, "dx in place of dy");
    }

    [Fact] public void Backward_7_affine_with_bias() => CheckBackward<Ln7>();
    [Fact] public void Backward_17_affine_without_bias() => CheckBackward<Ln17NoBias>();
    [Fact] public void Backward_8_not_affine() => CheckBackward<Ln8Plain>();
    [Fact] public void Backward_130() => CheckBackward<Ln130>();

    [Fact]
    public void Initialize_sets_ones_and_zeros()
    {
        var w = new float[7];
        float[] b = [1, 2, 3, 4, 5, 6, 7];
        LayerNormKernel<Ln7>.Initialize(w, b);
        Assert.All(w, value => Assert.Equal(1f, value));
        Assert.All(b, value => Assert.Equal(0f, value));
        LayerNormKernel<Ln8Plain>.Initialize(default, default);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => LayerNormKernel<Ln17NoBias>.Initialize(new float[17], new float[17])).ParamName);
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_argument()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            LayerNormKernel<Ln7>.Forward<RecordCache>(new float[7], new float[7], new float[14], new float[14], 2, new float[3]));
        Assert.Equal("record", e.ParamName);
        e = Assert.Throws<ArgumentException>(() =>
            LayerNormKernel<Ln7>.Forward<NoCache>(new float[6], new float[7], new float[14], new float[14], 2, default));
        Assert.Equal("weight", e.ParamName);
    }
}
