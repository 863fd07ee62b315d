using Xunit.Sdk;

namespace ModelGen.Tests;

/// <summary>
/// The losses beyond MSE and plain cross-entropy against PyTorch's definitions (its ATen kernels and
/// torch.nn.functional docs), recomputed here in double; every gradient also against central finite differences of
/// the loss itself; the aliasing and shape rules of <see cref="Losses"/>.
/// </summary>
public class LossTests
{
    /// <summary>|actual − expected| ≤ tolerance·max(|expected|, floor) for each element.</summary>
    private static void AssertMatches(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what, double tolerance = 2e-7, double floor = 1e-30)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= tolerance * Math.Max(Math.Abs(expected[i]), floor)))
            {
                throw new XunitException($"{what}[{i}] = {actual[i]:R}, expected {expected[i]:R} (error {error:G3}).");
            }
        }
    }

    /// <summary>
    /// Central differences of <paramref name="loss"/> at every element of <paramref name="x"/>, against
    /// <paramref name="gradient"/>. The loss is a float near 1 (rounding 6e-8), so with h = 1e-2 the difference
    /// quotient carries ~3e-6 of rounding and O(h²) of curvature; 2e-3 of the gradient scale bounds both, while a
    /// wrong factor, sign or branch is off by far more.
    /// </summary>
    private static void AssertFiniteDifferences(float[] x, float[] gradient, Func<float[], float> loss, string what)
    {
        double scale = gradient.Max(g => Math.Abs(g));
        Assert.True(scale > 0, $"{what}: the gradient is zero everywhere");
        for (int i = 0; i < x.Length; i++)
        {
            float original = x[i];
            float plus = original + 1e-2f, minus = original - 1e-2f;
            x[i] = plus;
            double up = loss(x);
            x[i] = minus;
            double down = loss(x);
            x[i] = original;
            double numeric = (up - down) / ((double)plus - minus);
            if (!(Math.Abs(numeric - gradient[i]) <= 2e-3 * scale))
            {
                throw new XunitException($"{what}: gradient[{i}] = {gradient[i]:R}, finite difference {numeric:R}.");
            }
        }
    }

    /// <summary>Values in [-2, 2) whose differences from the targets stay clear of the kinks at 0 and ±1 by more than h.</summary>
    private static (float[] Prediction, float[] Target) Regression(int length, int seed)
    {
        float[] target = TestHelpers.RandomValues(length, seed);
        float[] prediction = new float[length];
        float[] offsets = TestHelpers.RandomValues(length, seed + 1);
        for (int i = 0; i < length; i++)
        {
            // |d| in [0.05, 0.95] ∪ [1.05, 1.95], either sign.
            double magnitude = 0.05 + 0.9 * Math.Abs(offsets[i]) + (i % 2 == 0 ? 1.0 : 0.0);
            prediction[i] = target[i] + (float)(offsets[i] < 0 ? -magnitude : magnitude);
        }
        return (prediction, target);
    }

    // ---- L1, smooth L1, Huber -----------------------------------------------------------------------------------

    [Fact]
    public void MeanAbsoluteError_is_l1_loss_with_sgn_gradient_zero_at_zero()
    {
        (float[] p, float[] y) = Regression(9, seed: 1);
        p[4] = y[4];   // d = 0: PyTorch's sgn(0) = 0
        var gradient = new float[p.Length];
        float loss = Losses.MeanAbsoluteError(p, y, gradient);

        double[] d = [.. p.Select((v, i) => (double)(v - y[i]))];
        AssertMatches([d.Sum(Math.Abs) / d.Length], [loss], "l1 loss");
        AssertMatches([.. d.Select(v => (double)Math.Sign(v) / d.Length)], gradient, "l1 gradient");
        Assert.Equal(0f, gradient[4]);
        AssertFiniteDifferences(p.Where((_, i) => i != 4).ToArray(), gradient.Where((_, i) => i != 4).ToArray(),
            q => Losses.MeanAbsoluteError([.. q[..4], p[4], .. q[4..]], y, new float[y.Length]), "l1");
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.5f)]
    [InlineData(1.5f)]
    public void SmoothL1_matches_smooth_l1_loss_and_its_gradient(float beta)
    {
        (float[] p, float[] y) = Regression(10, seed: 2);
        var gradient = new float[p.Length];
        float loss = Losses.SmoothL1(p, y, gradient, beta);

        double[] d = [.. p.Select((v, i) => (double)(v - y[i]))];
        double Term(double v) => Math.Abs(v) < beta ? 0.5 * v * v / beta : Math.Abs(v) - 0.5 * beta;
        double Slope(double v) => Math.Abs(v) < beta ? v / beta : Math.Sign(v);
        AssertMatches([d.Sum(Term) / d.Length], [loss], "smooth l1 loss");
        AssertMatches([.. d.Select(v => Slope(v) / d.Length)], gradient, "smooth l1 gradient");
        if (beta != 1.0f) return;   // the kink-free sample points are built for β = 1
        AssertFiniteDifferences(p, gradient, q => Losses.SmoothL1(q, y, new float[y.Length], beta), "smooth l1");
    }

    [Fact]
    public void SmoothL1_with_beta_zero_is_l1_and_a_negative_beta_is_rejected()
    {
        (float[] p, float[] y) = Regression(8, seed: 3);
        p[2] = y[2];
        float[] smooth = new float[8], l1 = new float[8];
        Assert.Equal(Losses.MeanAbsoluteError(p, y, l1), Losses.SmoothL1(p, y, smooth, beta: 0));
        TestHelpers.AssertBitEqual(l1, smooth, "beta = 0 gradient");
        Assert.Equal("beta", Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SmoothL1(p, y, smooth, -1)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SmoothL1(p, y, smooth, float.NaN)).ParamName);
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.7f)]
    [InlineData(2.5f)]
    public void Huber_matches_huber_loss_and_its_gradient(float delta)
    {
        (float[] p, float[] y) = Regression(10, seed: 4);
        var gradient = new float[p.Length];
        float loss = Losses.Huber(p, y, gradient, delta);

        double[] d = [.. p.Select((v, i) => (double)(v - y[i]))];
        double Term(double v) => Math.Abs(v) < delta ? 0.5 * v * v : delta * (Math.Abs(v) - 0.5 * delta);
        double Slope(double v) => Math.Abs(v) < delta ? v : delta * Math.Sign(v);
        AssertMatches([d.Sum(Term) / d.Length], [loss], "huber loss");
        AssertMatches([.. d.Select(v => Slope(v) / d.Length)], gradient, "huber gradient");
        if (delta == 1.0f) AssertFiniteDifferences(p, gradient, q => Losses.Huber(q, y, new float[y.Length], delta), "huber");
        // huber_loss(δ) = δ · smooth_l1_loss(β = δ).
        AssertMatches([delta * (double)Losses.SmoothL1(p, y, new float[p.Length], delta)], [loss], "huber vs δ·smooth l1", 1e-6);
        Assert.Equal("delta", Assert.Throws<ArgumentOutOfRangeException>(() => Losses.Huber(p, y, gradient, 0)).ParamName);
    }

    // ---- BCE with logits ----------------------------------------------------------------------------------------

    /// <summary>PyTorch's definition: (1 − y)·x − w·logsigmoid(x), w = 1 + (pw − 1)·y; gradient w·σ(x) − pw·y; mean.</summary>
    private static (double Loss, double[] Gradient) ReferenceBce(float[] x, float[] y, float[]? posWeight)
    {
        double total = 0;
        var gradient = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double pw = posWeight is null ? 1 : posWeight[i % posWeight.Length];
            double w = 1 + (pw - 1) * y[i];
            // log σ(x) = −log(1 + e^(−x)), in the form that neither overflows nor cancels.
            double logSigmoid = x[i] >= 0 ? -Math.Log(1 + Math.Exp(-x[i])) : x[i] - Math.Log(1 + Math.Exp(x[i]));
            if (Math.Abs(x[i]) > 30) logSigmoid = x[i] >= 0 ? -Math.Exp(-x[i]) : x[i] - Math.Exp(x[i]);   // log(1 + ε) = ε to double precision
            double sigmoid = 1 / (1 + Math.Exp(-x[i]));
            total += (1 - y[i]) * x[i] - w * logSigmoid;
            gradient[i] = (w * sigmoid - pw * y[i]) / x.Length;
        }
        return (total / x.Length, gradient);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BinaryCrossEntropyWithLogits_matches_PyTorchs_definition_with_and_without_pos_weight(bool withPositiveWeight)
    {
        const int Rows = 4, Classes = 3;
        float[] x = [.. TestHelpers.RandomValues(Rows * Classes, seed: 5).Select(v => 6 * v)];
        x[0] = 60f;
        x[1] = -60f;   // far tails: the stable form must stay finite and exact
        float[] y = [.. TestHelpers.RandomValues(Rows * Classes, seed: 6).Select(v => v < -0.3f ? 0f : v > 0.3f ? 1f : 0.5f + v)];
        y[0] = 0f;
        y[1] = 1f;
        float[]? positiveWeight = withPositiveWeight ? [0.5f, 2f, 3f] : null;
        var gradient = new float[x.Length];

        float loss = Losses.BinaryCrossEntropyWithLogits(x, y, gradient, positiveWeight);

        (double expectedLoss, double[] expectedGradient) = ReferenceBce(x, y, positiveWeight);
        AssertMatches([expectedLoss], [loss], "bce loss");
        AssertMatches(expectedGradient, gradient, "bce gradient", floor: 1.0 / x.Length);
        // Finite differences where the logits are moderate (at ±60 the float loss cannot resolve a 1e-2 step).
        float[] moderate = (float[])x.Clone();
        moderate[0] = 0.3f;
        moderate[1] = -0.4f;
        var moderateGradient = new float[x.Length];
        Losses.BinaryCrossEntropyWithLogits(moderate, y, moderateGradient, positiveWeight);
        AssertFiniteDifferences(moderate, moderateGradient,
            q => Losses.BinaryCrossEntropyWithLogits(q, y, new float[q.Length], positiveWeight), "bce");
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_without_pos_weight_is_the_stable_max_form()
    {
        float[] x = [-3f, -0.5f, 0f, 0.25f, 4f, 20f];
        float[] y = [0f, 1f, 0.5f, 1f, 0f, 1f];
        float loss = Losses.BinaryCrossEntropyWithLogits(x, y, new float[x.Length]);
        double expected = x.Select((v, i) => Math.Max(v, 0) - (double)v * y[i] + Math.Log(1 + Math.Exp(-Math.Abs(v)))).Sum() / x.Length;
        AssertMatches([expected], [loss], "bce stable form");
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_rejects_a_pos_weight_that_does_not_divide_the_logits()
    {
        var error = Assert.Throws<ArgumentException>(() => Losses.BinaryCrossEntropyWithLogits(new float[6], new float[6], new float[6], new float[4]));
        Assert.Equal("positiveWeight", error.ParamName);
        Assert.Contains("4 weights do not divide 6", error.Message, StringComparison.Ordinal);
    }

    // ---- Cross-entropy: weight, ignore_index, label_smoothing ---------------------------------------------------

    /// <summary>
    /// F.cross_entropy from PyTorch's LossNLL.cpp: (1 − ε)·nll_loss(log_softmax, weight, ignore_index) +
    /// (ε/C)·Σ_n −Σ_c w_c·log_softmax[n, c] / Σ_n w[t_n], both over the rows not ignored; gradient by the chain rule.
    /// </summary>
    private static (double Loss, double[] Gradient) ReferenceCrossEntropy(float[] logits, int classes, int[] targets, float[]? weight,
        int ignoreIndex, double smoothing)
    {
        double W(int c) => weight is null ? 1 : weight[c];
        double denominator = targets.Where(t => t != ignoreIndex).Sum(t => W(t));
        double allWeights = Enumerable.Range(0, classes).Sum(W);
        double nll = 0, smooth = 0;
        var gradient = new double[logits.Length];
        for (int n = 0; n < targets.Length; n++)
        {
            if (targets[n] == ignoreIndex) continue;
            double max = Enumerable.Range(0, classes).Max(c => (double)logits[n * classes + c]);
            double logSumExp = max + Math.Log(Enumerable.Range(0, classes).Sum(c => Math.Exp(logits[n * classes + c] - max)));
            int t = targets[n];
            nll += W(t) * (logSumExp - logits[n * classes + t]);
            for (int c = 0; c < classes; c++)
            {
                double logP = logits[n * classes + c] - logSumExp, p = Math.Exp(logP);
                smooth += -W(c) * logP;
                gradient[n * classes + c] = ((1 - smoothing) * W(t) * (p - (c == t ? 1 : 0)) + smoothing / classes * (allWeights * p - W(c))) / denominator;
            }
        }
        return ((1 - smoothing) * nll / denominator + smoothing / classes * smooth / denominator, gradient);
    }

    public static TheoryData<bool, int, float> CrossEntropyCases() => new()
    {
        // weight, ignore index, label smoothing
        { true, -100, 0f },
        { false, -100, 0.1f },
        { true, -100, 0.2f },
        { false, 2, 0f },
        { true, 3, 0.3f },
        { false, -100, 1f },
    };

    [Theory]
    [MemberData(nameof(CrossEntropyCases))]
    public void CrossEntropy_with_weight_ignore_index_and_label_smoothing_matches_PyTorch(bool weighted, int ignoreIndex, float smoothing)
    {
        const int Rows = 7, Classes = 4;
        float[] logits = [.. TestHelpers.RandomValues(Rows * Classes, seed: 7).Select(v => 3 * v)];
        int[] targets = [0, 3, -100, 1, 2, 3, 1];
        if (ignoreIndex != -100) targets[2] = ignoreIndex;
        float[]? weight = weighted ? [0.5f, 2f, 1f, 3f] : null;
        var gradient = new float[logits.Length];

        float loss = Losses.CrossEntropy(logits, Classes, targets, gradient, weight, ignoreIndex, smoothing);

        (double expectedLoss, double[] expectedGradient) = ReferenceCrossEntropy(logits, Classes, targets, weight, ignoreIndex, smoothing);
        AssertMatches([expectedLoss], [loss], "cross-entropy loss");
        AssertMatches(expectedGradient, gradient, "cross-entropy gradient", tolerance: 1e-6, floor: 1.0 / Rows);
        for (int n = 0; n < Rows; n++)
        {
            if (targets[n] == ignoreIndex) Assert.All(gradient.AsSpan(n * Classes, Classes).ToArray(), g => Assert.Equal(0f, g));
        }
        AssertFiniteDifferences(logits, gradient,
            q => Losses.CrossEntropy(q, Classes, targets, new float[q.Length], weight, ignoreIndex, smoothing), "cross-entropy");
    }

    [Fact]
    public void CrossEntropy_with_weights_divides_by_the_weights_of_the_targets()
    {
        // Two rows, class weights 1 and 3: PyTorch's mean is (1·l0 + 3·l1) / (1 + 3), not / 2.
        float[] logits = [2f, -1f, 0.5f, 1.5f];
        int[] targets = [0, 1];
        float weighted = Losses.CrossEntropy(logits, 2, targets, new float[4], [1f, 3f]);
        float l0 = Losses.CrossEntropy(logits.AsSpan(0, 2), 2, [0], new float[2]);
        float l1 = Losses.CrossEntropy(logits.AsSpan(2, 2), 2, [1], new float[2]);
        AssertMatches([(1.0 * l0 + 3.0 * l1) / 4], [weighted], "weighted mean", 1e-6);
    }

    [Fact]
    public void CrossEntropy_with_every_row_ignored_is_NaN_with_a_zero_gradient_as_PyTorch()
    {
        float[] logits = TestHelpers.RandomValues(3 * 4, seed: 8);
        float[] gradient = [.. Enumerable.Repeat(5f, logits.Length)];
        float loss = Losses.CrossEntropy(logits, 4, [-100, -100, -100], gradient);
        Assert.True(float.IsNaN(loss), $"loss {loss}");
        Assert.All(gradient, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void CrossEntropy_checks_every_target_before_writing_and_rejects_bad_options()
    {
        float[] logits = TestHelpers.RandomValues(3 * 4, seed: 9);
        float[] gradient = [.. Enumerable.Repeat(5f, logits.Length)];
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.CrossEntropy(logits, 4, [1, 2, -1], gradient));
        Assert.Contains("targets[2] = -1", error.Message, StringComparison.Ordinal);
        Assert.All(gradient, g => Assert.Equal(5f, g));
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, 4, [1, 2, 3], gradient, new float[3])).ParamName);
        Assert.Equal("labelSmoothing", Assert.Throws<ArgumentOutOfRangeException>(
            () => Losses.CrossEntropy(logits, 4, [1, 2, 3], gradient, labelSmoothing: 1.5f)).ParamName);
    }

    [Fact]
    public void Plain_cross_entropy_and_MSE_keep_their_float_gradient_arithmetic()
    {
        // Without weight or smoothing, the gradient is e_c·(float)((1f/N)/Σe) − 1f/N in float, with e_c = expf(z_c − max):
        // the arithmetic every trained sample and reference run so far used, kept bit for bit.
        const int Rows = 5, Classes = 6;
        float[] logits = [.. TestHelpers.RandomValues(Rows * Classes, seed: 14).Select(v => 4 * v)];
        int[] targets = [3, 0, 5, 5, 1];
        var gradient = new float[logits.Length];
        Losses.CrossEntropy(logits, Classes, targets, gradient);
        var expected = new float[logits.Length];
        float scale = 1f / Rows;
        for (int n = 0; n < Rows; n++)
        {
            float max = logits.AsSpan(n * Classes, Classes).ToArray().Max();
            double sum = 0;
            for (int c = 0; c < Classes; c++) sum += expected[n * Classes + c] = MathF.Exp(logits[n * Classes + c] - max);
            float normaliser = (float)(scale / sum);
            for (int c = 0; c < Classes; c++) expected[n * Classes + c] *= normaliser;
            expected[n * Classes + targets[n]] -= scale;
        }
        TestHelpers.AssertBitEqual(expected, gradient, "plain cross-entropy gradient");

        (float[] p, float[] y) = Regression(11, seed: 15);
        var mse = new float[p.Length];
        Losses.MeanSquaredError(p, y, mse);
        float twoOverN = 2f / p.Length;
        TestHelpers.AssertBitEqual([.. p.Select((v, i) => twoOverN * (v - y[i]))], mse, "mse gradient");
    }

    // ---- Aliasing and shapes ------------------------------------------------------------------------------------

    public static TheoryData<string> PointwiseLosses() => new() { "mse", "l1", "smoothl1", "huber", "bce" };

    private static float Pointwise(string name, ReadOnlySpan<float> p, ReadOnlySpan<float> y, Span<float> gradient) => name switch
    {
        "mse" => Losses.MeanSquaredError(p, y, gradient),
        "l1" => Losses.MeanAbsoluteError(p, y, gradient),
        "smoothl1" => Losses.SmoothL1(p, y, gradient, 0.5f),
        "huber" => Losses.Huber(p, y, gradient, 0.5f),
        "bce" => Losses.BinaryCrossEntropyWithLogits(p, y, gradient),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(PointwiseLosses))]
    public void Each_pointwise_loss_computes_in_place_over_prediction_or_target_and_rejects_other_overlaps(string name)
    {
        float[] p = [.. TestHelpers.RandomValues(12, seed: 10).Select(v => 2 * v)], y = [.. TestHelpers.RandomValues(12, seed: 11).Select(v => (v + 1) / 2)];
        var gradient = new float[12];
        float loss = Pointwise(name, p, y, gradient);

        float[] overPrediction = (float[])p.Clone(), overTarget = (float[])y.Clone();
        Assert.Equal(loss, Pointwise(name, overPrediction, y, overPrediction));
        Assert.Equal(loss, Pointwise(name, p, overTarget, overTarget));
        TestHelpers.AssertBitEqual(gradient, overPrediction, $"{name} gradient over the prediction");
        TestHelpers.AssertBitEqual(gradient, overTarget, $"{name} gradient over the target");

        var shifted = new float[13];
        p.CopyTo(shifted, 0);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => Pointwise(name, shifted.AsSpan(0, 12), y, shifted.AsSpan(1))).ParamName);
        var error = Assert.Throws<ArgumentException>(() => Pointwise(name, p, y.AsSpan(1), gradient));
        Assert.Contains("expected 12", error.Message, StringComparison.Ordinal);
        Assert.Contains("got 11", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Pointwise(name, [], [], []));
    }

    [Fact]
    public void Weights_must_not_overlap_the_gradient()
    {
        var buffer = new float[16];
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(
            () => Losses.CrossEntropy(new float[8], 4, [0, 1], buffer.AsSpan(0, 8), buffer.AsSpan(4, 4))).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(
            () => Losses.BinaryCrossEntropyWithLogits(new float[8], new float[8], buffer.AsSpan(0, 8), buffer.AsSpan(6, 2))).ParamName);
    }

    [Fact]
    public void The_new_losses_allocate_nothing()
    {
        float[] p = TestHelpers.RandomValues(64, seed: 12), y = TestHelpers.RandomValues(64, seed: 13), gradient = new float[64];
        int[] targets = [.. Enumerable.Range(0, 16).Select(i => i % 5 == 0 ? -100 : i % 4)];
        float[] weight = [1f, 2f, 0.5f, 1f];
        void All()
        {
            Losses.MeanAbsoluteError(p, y, gradient);
            Losses.SmoothL1(p, y, gradient);
            Losses.Huber(p, y, gradient);
            Losses.BinaryCrossEntropyWithLogits(p, y, gradient, weight);
            Losses.CrossEntropy(p, 4, targets, gradient, weight, labelSmoothing: 0.1f);
        }
        All();
        long before = GC.GetAllocatedBytesForCurrentThread();
        All();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
