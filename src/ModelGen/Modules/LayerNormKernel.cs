using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// <c>nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)</c> over the last dimension of
/// <c>N = <see cref="ILayerNormSpec.NormalizedShape"/></c> features: per row,
/// <c>y = (x − mean) / √(var + eps) · w + b</c> with the biased variance <c>var = Σ (x − mean)² / N</c>.
/// Inputs and outputs are <c>[rows, N]</c>; w and b are <c>[N]</c> (empty when the module has none).
/// </summary>
/// <remarks>
/// The mean and the variance are computed in double, in two passes, with four partial sums per pass in a fixed
/// order (element i into sum i mod 4), so they do not depend on <see cref="Vector{T}.Count"/>; the normalisation
/// is then float and element-wise. A row's mean and <c>rstd = 1/√(var + eps)</c>, rounded to float, are what
/// the forward uses and what it records for the backward.
/// </remarks>
/// <typeparam name="TSpec">The module's sizes and options (JIT constants).</typeparam>
public static class LayerNormKernel<TSpec> where TSpec : struct, ILayerNormSpec
{
    private static bool HasWeight => TSpec.ElementwiseAffine;

    private static bool HasBias => TSpec.ElementwiseAffine && TSpec.Bias;

    /// <summary>Floats the training forward records for <paramref name="rows"/> rows: the mean and rstd of each row.</summary>
    public static int RecordLength(int rows) => 2 * rows;

    /// <summary>
    /// <c>output[r, :] = (input[r, :] − mean_r) · rstd_r · weight + bias</c> for <paramref name="rows"/> rows of N
    /// features (at least <c>rows·N</c> floats each; output may be input itself). weight is <c>[N]</c> when
    /// <see cref="ILayerNormSpec.ElementwiseAffine"/>, else empty; bias is <c>[N]</c> when affine with
    /// <see cref="ILayerNormSpec.Bias"/>, else empty. With <see cref="RecordCache"/>, <c>record[2r] = mean_r</c>
    /// and <c>record[2r + 1] = rstd_r</c> (<see cref="RecordLength"/> floats); with <see cref="NoCache"/> the
    /// record is not touched and may be empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TCache>(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> input,
        Span<float> output, int rows, Span<float> record) where TCache : struct, ICacheMode
    {
        int n = TSpec.NormalizedShape;
        SpanChecks.NonNegative(rows, nameof(rows));
        SpanChecks.Exact(weight.Length, HasWeight ? n : 0, nameof(weight));
        SpanChecks.Exact(bias.Length, HasBias ? n : 0, nameof(bias));
        SpanChecks.AtLeast(input.Length, (long)rows * n, nameof(input));
        SpanChecks.AtLeast(output.Length, (long)rows * n, nameof(output));
        if (TCache.Enabled) SpanChecks.AtLeast(record.Length, RecordLength(rows), nameof(record));
        if (n == 0) return;

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * n, n);
            double mean = Sum(x) / n;
            double variance = SumSquaredDeviations(x, mean) / n;
            float meanF = (float)mean, rstd = (float)(1.0 / Math.Sqrt(variance + TSpec.Eps));
            if (TCache.Enabled)
            {
                record[2 * r] = meanF;
                record[2 * r + 1] = rstd;
            }
            Normalize(x, meanF, rstd, weight, bias, output.Slice(r * n, n));
        }
    }

    /// <summary><c>y = (x − mean) · rstd · w + b</c>, the tail with the same float operations as the vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Normalize(ReadOnlySpan<float> x, float mean, float rstd, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        int n = x.Length, i = 0, v = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> m = new(mean), s = new(rstd);
            for (; i <= n - v; i += v)
            {
                Vector<float> h = (new Vector<float>(x[i..]) - m) * s;
                if (HasBias) h = MultiplyAdd.Of(h, new Vector<float>(weight[i..]), new Vector<float>(bias[i..]));
                else if (HasWeight) h *= new Vector<float>(weight[i..]);
                h.CopyTo(y[i..]);
            }
        }
        for (; i < n; i++)
        {
            float h = (x[i] - mean) * rstd;
            if (HasBias) h = MultiplyAdd.Of(h, weight[i], bias[i]);
            else if (HasWeight) h *= weight[i];
            y[i] = h;
        }
    }

    /// <summary>Σ x in double: element i into partial sum i mod 4, the partial sums added in order, then the tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Sum(ReadOnlySpan<float> x)
    {
        int n = x.Length, i = 0;
        ref float start = ref MemoryMarshal.GetReference(x);
        Vector128<double> low = Vector128<double>.Zero, high = Vector128<double>.Zero;
        for (; i <= n - 4; i += 4)
        {
            Vector128<float> chunk = Vector128.LoadUnsafe(ref start, (nuint)i);
            low += Vector128.WidenLower(chunk);
            high += Vector128.WidenUpper(chunk);
        }
        double sum = low[0] + low[1] + high[0] + high[1];
        for (; i < n; i++) sum += x[i];
        return sum;
    }

    /// <summary>Σ (x − mean)² in double, summed as <see cref="Sum"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SumSquaredDeviations(ReadOnlySpan<float> x, double mean)
    {
        int n = x.Length, i = 0;
        ref float start = ref MemoryMarshal.GetReference(x);
        Vector128<double> low = Vector128<double>.Zero, high = Vector128<double>.Zero, m = Vector128.Create(mean);
        for (; i <= n - 4; i += 4)
        {
            Vector128<float> chunk = Vector128.LoadUnsafe(ref start, (nuint)i);
            Vector128<double> dl = Vector128.WidenLower(chunk) - m, dh = Vector128.WidenUpper(chunk) - m;
            low += dl * dl;
            high += dh * dh;
        }
        double sum = low[0] + low[1] + high[0] + high[1];
        for (; i < n; i++)
        {
            double d = x[i] - mean;
            sum += d * d;
        }
        return sum;
    }

    /// <summary>
    /// Backpropagation through <paramref name="rows"/> rows, from the forward's <paramref name="record"/>. With
    /// <c>x̂ = (x − mean) · rstd</c> and <c>g = dy · w</c> (<c>g = dy</c> without weight), the input gradient is
    /// overwritten, <c>dInput = rstd · (g − mean(g) − x̂ · mean(g · x̂))</c> (the row means over N, summed in
    /// double), and the parameter gradients accumulate: <c>dWeight += Σ_r dy · x̂</c>, <c>dBias += Σ_r dy</c>
    /// (each <c>[N]</c>, or empty when the module has no such parameter). dInput may be dOutput itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> weight, ReadOnlySpan<float> input, ReadOnlySpan<float> record,
        ReadOnlySpan<float> dOutput, int rows, Span<float> dWeight, Span<float> dBias, Span<float> dInput)
    {
        int n = TSpec.NormalizedShape;
        SpanChecks.NonNegative(rows, nameof(rows));
        SpanChecks.Exact(weight.Length, HasWeight ? n : 0, nameof(weight));
        SpanChecks.AtLeast(input.Length, (long)rows * n, nameof(input));
        SpanChecks.AtLeast(record.Length, RecordLength(rows), nameof(record));
        SpanChecks.AtLeast(dOutput.Length, (long)rows * n, nameof(dOutput));
        SpanChecks.Exact(dWeight.Length, HasWeight ? n : 0, nameof(dWeight));
        SpanChecks.Exact(dBias.Length, HasBias ? n : 0, nameof(dBias));
        SpanChecks.AtLeast(dInput.Length, (long)rows * n, nameof(dInput));
        if (n == 0) return;

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * n, n), dy = dOutput.Slice(r * n, n);
            Span<float> dx = dInput.Slice(r * n, n);
            float mean = record[2 * r], rstd = record[2 * r + 1];
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
            int i = 0;
            for (; i <= n - 4; i += 4)
            {
                AccumulateGradient(x, dy, weight, dWeight, dBias, mean, rstd, i, ref s0, ref t0);
                AccumulateGradient(x, dy, weight, dWeight, dBias, mean, rstd, i + 1, ref s1, ref t1);
                AccumulateGradient(x, dy, weight, dWeight, dBias, mean, rstd, i + 2, ref s2, ref t2);
                AccumulateGradient(x, dy, weight, dWeight, dBias, mean, rstd, i + 3, ref s3, ref t3);
            }
            double sumG = s0 + s1 + s2 + s3, sumGX = t0 + t1 + t2 + t3;
            for (; i < n; i++) AccumulateGradient(x, dy, weight, dWeight, dBias, mean, rstd, i, ref sumG, ref sumGX);
            float meanG = (float)(sumG / n), meanGX = (float)(sumGX / n);
            for (i = 0; i < n; i++)
            {
                float xhat = (x[i] - mean) * rstd;
                float g = HasWeight ? dy[i] * weight[i] : dy[i];
                dx[i] = rstd * (g - meanG - xhat * meanGX);
            }
        }
    }

    /// <summary>One feature of the backward's first pass: the parameter gradients, and g and g·x̂ into the row sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> weight,
        Span<float> dWeight, Span<float> dBias, float mean, float rstd, int i, ref double sumG, ref double sumGX)
    {
        float xhat = (x[i] - mean) * rstd;
        float g = dy[i];
        if (HasWeight)
        {
            dWeight[i] = MultiplyAdd.Of(dy[i], xhat, dWeight[i]);
            g *= weight[i];
        }
        if (HasBias) dBias[i] += dy[i];
        sumG += g;
        sumGX += (double)g * xhat;
    }

    /// <summary>PyTorch's <c>reset_parameters</c>: weight = 1 and bias = 0 (each <c>[N]</c>, or empty when absent).</summary>
    public static void Initialize(Span<float> weight, Span<float> bias)
    {
        int n = TSpec.NormalizedShape;
        SpanChecks.Exact(weight.Length, HasWeight ? n : 0, nameof(weight));
        SpanChecks.Exact(bias.Length, HasBias ? n : 0, nameof(bias));
        weight.Fill(1f);
        bias.Clear();
    }
}
