using ModelGen.Kernels;

namespace ModelGen.Tests.Modules;

/// <summary>
/// <see cref="EmbeddingKernel{TSpec}"/>: the lookup, the gradient against central finite differences of a
/// float64 lookup (with PyTorch's padding rule applied on top), token validation and initialisation.
/// </summary>
public class EmbeddingKernelTests
{
    private static double[] Reference<TSpec>(double[] weight, int[] tokens) where TSpec : struct, IEmbeddingSpec
    {
        int e = TSpec.EmbeddingDim;
        var y = new double[tokens.Length * e];
        for (int r = 0; r < tokens.Length; r++)
        {
            for (int j = 0; j < e; j++) y[r * e + j] = weight[tokens[r] * e + j];
        }
        return y;
    }

    [Fact]
    public void Forward_copies_the_rows_of_the_tokens()
    {
        float[] weight = ModuleTestSupport.Uniform(10 * 3, 1);
        int[] tokens = [0, 9, 2, 2, 5, 9, 1];
        var y = new float[tokens.Length * 3];
        EmbeddingKernel<Emb10x3Pad2>.Forward(weight, tokens, y);
        double[] expected = Reference<Emb10x3Pad2>(ModuleTestSupport.ToDouble(weight), tokens);
        ModuleTestSupport.AssertWithin(expected, y, _ => 0, "y");
    }

    /// <summary>
    /// L = Σ y·g is linear in the weights, so its central difference is exact up to ~1e-16 rounding. The kernel
    /// adds each token's g onto the row (initially random): a row used c times is a float sum of c + 1 terms,
    /// within 1.01·c·u·Σ|terms|. The padding row's finite difference is not zero (it is used), but PyTorch gives
    /// it no gradient: that row must keep its initial value exactly.
    /// </summary>
    private static void CheckBackward<TSpec>(int[] tokens) where TSpec : struct, IEmbeddingSpec
    {
        int n = TSpec.NumEmbeddings, e = TSpec.EmbeddingDim;
        float[] weight = ModuleTestSupport.Uniform(n * e, 2), g = ModuleTestSupport.Uniform(tokens.Length * e, 3);
        float[] initial = ModuleTestSupport.Uniform(n * e, 4), dWeight = (float[])initial.Clone();
        EmbeddingKernel<TSpec>.Backward(tokens, g, dWeight);

        double[] fd = ModuleTestSupport.FiniteDifference(ModuleTestSupport.ToDouble(weight),
            p => ModuleTestSupport.Dot(Reference<TSpec>(p, tokens), g), 0.5);
        var expected = new double[n * e];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = initial[i] + (i / e == TSpec.PaddingIdx ? 0 : fd[i]);
        }
        ModuleTestSupport.AssertWithin(expected, dWeight, i =>
        {
            int row = i / e, j = i % e;
            double magnitude = Math.Abs(initial[i]);
            int uses = 0;
            for (int r = 0; r < tokens.Length; r++)
            {
                if (tokens[r] == row) { magnitude += Math.Abs(g[r * e + j]); uses++; }
            }
            return row == TSpec.PaddingIdx ? 0 : 1.01 * uses * ModuleTestSupport.U * magnitude + 1e-12;
        }, $"{typeof(TSpec).Name} dWeight");
    }

    [Fact]
    public void Backward_with_padding_idx_skips_the_padding_row() => CheckBackward<Emb10x3Pad2>([0, 9, 2, 2, 5, 9, 1, 9, 2]);

    [Fact]
    public void Backward_without_padding_accumulates_repeated_tokens() => CheckBackward<Emb5x9>([4, 0, 4, 4, 1, 3, 0]);

    [Fact]
    public void Bad_tokens_throw_naming_position_value_and_range_before_writing()
    {
        float[] weight = ModuleTestSupport.Uniform(10 * 3, 1);
        var y = new float[4 * 3];
        y.AsSpan().Fill(7f);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingKernel<Emb10x3Pad2>.Forward(weight, [1, 2, 10, -1], y));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains("tokens[2] = 10", e.Message);
        Assert.Contains("[0, 10)", e.Message);
        Assert.All(y, value => Assert.Equal(7f, value));

        var dWeight = new float[30];
        e = Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingKernel<Emb10x3Pad2>.Backward([3, -1], new float[6], dWeight));
        Assert.Contains("tokens[1] = -1", e.Message);
        Assert.All(dWeight, value => Assert.Equal(0f, value));

        e = Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingKernel<Emb10x3Pad2>.CheckTokens([0, 11], "ids"));
        Assert.Equal("ids", e.ParamName);
        EmbeddingKernel<Emb10x3Pad2>.CheckTokens([0, 9, 2], "ids");
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_argument()
    {
        var e = Assert.Throws<ArgumentException>(() => EmbeddingKernel<Emb10x3Pad2>.Forward(new float[29], [1], new float[3]));
        Assert.Equal("weight", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => EmbeddingKernel<Emb10x3Pad2>.Forward(new float[30], [1, 2], new float[5]));
        Assert.Equal("output", e.ParamName);
    }

    [Fact]
    public void Initialize_draws_standard_normals_and_zeroes_the_padding_row()
    {
        var random = new SplitMix64(9);
        var weight = new float[64 * 16];
        EmbeddingKernel<Emb64x16Pad0>.Initialize(weight, ref random);
        Assert.All(weight.AsSpan(0, 16).ToArray(), value => Assert.Equal(0f, value));
        double[] rest = [.. weight.Skip(16).Select(v => (double)v)];
        double mean = rest.Average(), variance = rest.Select(v => (v - mean) * (v - mean)).Average();
        // 1008 N(0, 1) draws: the mean's standard error is 0.032 and the variance's 0.045; five of those.
        Assert.InRange(mean, -0.16, 0.16);
        Assert.InRange(variance, 0.77, 1.23);

        // The same draws, in order, as NextNormal gives them (the padding row's draws are overwritten, not skipped).
        var replay = new SplitMix64(9);
        for (int i = 0; i < weight.Length; i++)
        {
            float expected = replay.NextNormal();
            if (i >= 16) Assert.Equal(expected, weight[i]);
        }
    }
}
