using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// <c>nn.Linear(in_features, out_features, bias)</c>: <c>y = x Wᵀ + b</c> over the last dimension, with
/// <c>In = <see cref="ILinearSpec.InFeatures"/></c>, <c>Out = <see cref="ILinearSpec.OutFeatures"/></c>, W PyTorch's
/// row-major <c>[Out, In]</c> and b <c>[Out]</c>. Inputs are <c>[rows, In]</c>, outputs <c>[rows, Out]</c>, row-major.
/// </summary>
/// <remarks>
/// <para>The forward reads a packed copy of W and b (<see cref="Pack"/>): the outputs are cut into blocks of
/// V = <see cref="Vector{T}.Count"/> units and the blocks into pairs; pair p holds, for each input k in turn,
/// the weights of its (one or two) blocks side by side:</para>
/// <code>packed[p·2·V·In + (k·width + j)·V + lane] = W[(2p + j)·V + lane, k]   (width = 2, or 1 for a last odd block)</code>
/// <para>followed by b padded to whole blocks. Units past Out pad with zeros. The forward keeps a tile of
/// 4 rows × 2 blocks (8 vector accumulators) in registers while it streams one pair's weights once per 4 rows:
/// broadcast x[r, k], multiply-add, no horizontal sums. Each output is <c>b[o]</c> followed by one multiply-add per
/// k in increasing k (<see cref="MultiplyAdd"/>: fused where the CPU has FMA), so it is the same float, bit for bit,
/// for every vector width, row grouping and lane.</para>
/// <para>Weights are flushed of subnormals when packed, and each group of input rows is copied, flushed, into
/// the scratch (see <see cref="Subnormals"/>), so the arithmetic never meets a subnormal operand.</para>
/// </remarks>
/// <typeparam name="TSpec">The module's sizes (JIT constants).</typeparam>
public static class LinearKernel<TSpec> where TSpec : struct, ILinearSpec
{
    private const int TileRows = 4;

    private static int Blocks => (TSpec.OutFeatures + Vector<float>.Count - 1) / Vector<float>.Count;

    private static int WeightLength => Blocks * Vector<float>.Count * TSpec.InFeatures;

    /// <summary>Floats of the packed forward copy of weight and bias (see the type's remarks).</summary>
    public static int PackedLength => WeightLength + (TSpec.Bias ? Blocks * Vector<float>.Count : 0);

    /// <summary>Floats of the scratch <see cref="Forward"/> needs, whatever the number of rows: 4 flushed input rows.</summary>
    public static int ScratchLength => TileRows * TSpec.InFeatures;

    /// <summary>
    /// Packs <paramref name="weight"/> (row-major <c>[Out, In]</c>) and <paramref name="bias"/> (<c>[Out]</c>, or
    /// empty when the module has no bias) into <paramref name="packed"/> (<see cref="PackedLength"/> floats),
    /// subnormals flushed to zero.
    /// </summary>
    public static void Pack(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> packed)
    {
        int inF = TSpec.InFeatures, outF = TSpec.OutFeatures, v = Vector<float>.Count, blocks = Blocks;
        SpanChecks.Exact(weight.Length, (long)outF * inF, nameof(weight));
        SpanChecks.Exact(bias.Length, TSpec.Bias ? outF : 0, nameof(bias));
        SpanChecks.Exact(packed.Length, PackedLength, nameof(packed));
        packed.Clear();
        for (int o = 0; o < outF; o++)
        {
            int block = o / v, lane = o % v, pair = block / 2, j = block % 2, width = Math.Min(2, blocks - 2 * pair);
            int start = pair * 2 * v * inF;
            for (int k = 0; k < inF; k++)
            {
                packed[start + (k * width + j) * v + lane] = Subnormals.Flush(weight[o * inF + k]);
            }
        }
        if (TSpec.Bias)
        {
            Span<float> packedBias = packed[WeightLength..];
            for (int o = 0; o < outF; o++) packedBias[o] = Subnormals.Flush(bias[o]);
        }
    }

    /// <summary>
    /// <c>output[r, o] = b[o] + Σ_k W[o, k] · input[r, k]</c> for <paramref name="rows"/> rows, from the
    /// <paramref name="packed"/> copy (<see cref="Pack"/>). Shapes: input <c>[rows, In]</c>, output
    /// <c>[rows, Out]</c> (each at least), scratch at least <see cref="ScratchLength"/>. Input and output must
    /// not overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> packed, ReadOnlySpan<float> input, Span<float> output, int rows, Span<float> scratch)
    {
        int inF = TSpec.InFeatures, outF = TSpec.OutFeatures, v = Vector<float>.Count, blocks = Blocks;
        SpanChecks.NonNegative(rows, nameof(rows));
        SpanChecks.Exact(packed.Length, PackedLength, nameof(packed));
        SpanChecks.AtLeast(input.Length, (long)rows * inF, nameof(input));
        SpanChecks.AtLeast(output.Length, (long)rows * outF, nameof(output));
        SpanChecks.AtLeast(scratch.Length, ScratchLength, nameof(scratch));
        if (rows == 0 || outF == 0) return;

        ref float w = ref MemoryMarshal.GetReference(packed);
        ref float x = ref MemoryMarshal.GetReference(scratch);
        for (int row = 0; row < rows;)
        {
            int group = rows - row >= TileRows ? TileRows : 1;
            Subnormals.FlushCopy(input.Slice(row * inF, group * inF), scratch);
            for (int block = 0; block < blocks; block += 2)
            {
                ref float wp = ref Unsafe.Add(ref w, block * v * inF);
                Vector<float> b0 = TSpec.Bias ? Mem.Load(ref Unsafe.Add(ref w, WeightLength), block * v) : default;
                if (blocks - block >= 2)
                {
                    Vector<float> b1 = TSpec.Bias ? Mem.Load(ref Unsafe.Add(ref w, WeightLength), (block + 1) * v) : default;
                    if (group == TileRows) Rows4Blocks2(ref wp, ref x, b0, b1, output, row, block * v);
                    else Rows1Blocks2(ref wp, ref x, b0, b1, output, row, block * v);
                }
                else
                {
                    if (group == TileRows) Rows4Blocks1(ref wp, ref x, b0, output, row, block * v);
                    else Rows1Blocks1(ref wp, ref x, b0, output, row, block * v);
                }
            }
            row += group;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows4Blocks2(ref float w, ref float x, Vector<float> b0, Vector<float> b1, Span<float> output, int row, int column)
    {
        int inF = TSpec.InFeatures, v = Vector<float>.Count;
        Vector<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
        ref float x1 = ref Unsafe.Add(ref x, inF);
        ref float x2 = ref Unsafe.Add(ref x, 2 * inF);
        ref float x3 = ref Unsafe.Add(ref x, 3 * inF);
        for (int k = 0; k < inF; k++)
        {
            ref float wk = ref Unsafe.Add(ref w, k * 2 * v);
            Vector<float> w0 = Mem.Load(ref wk, 0), w1 = Mem.Load(ref wk, v);
            var s = new Vector<float>(Unsafe.Add(ref x, k));
            a00 = MultiplyAdd.Of(w0, s, a00); a01 = MultiplyAdd.Of(w1, s, a01);
            s = new Vector<float>(Unsafe.Add(ref x1, k));
            a10 = MultiplyAdd.Of(w0, s, a10); a11 = MultiplyAdd.Of(w1, s, a11);
            s = new Vector<float>(Unsafe.Add(ref x2, k));
            a20 = MultiplyAdd.Of(w0, s, a20); a21 = MultiplyAdd.Of(w1, s, a21);
            s = new Vector<float>(Unsafe.Add(ref x3, k));
            a30 = MultiplyAdd.Of(w0, s, a30); a31 = MultiplyAdd.Of(w1, s, a31);
        }
        Store(a00, output, row, column); Store(a01, output, row, column + v);
        Store(a10, output, row + 1, column); Store(a11, output, row + 1, column + v);
        Store(a20, output, row + 2, column); Store(a21, output, row + 2, column + v);
        Store(a30, output, row + 3, column); Store(a31, output, row + 3, column + v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows4Blocks1(ref float w, ref float x, Vector<float> b0, Span<float> output, int row, int column)
    {
        int inF = TSpec.InFeatures, v = Vector<float>.Count;
        Vector<float> a0 = b0, a1 = b0, a2 = b0, a3 = b0;
        ref float x1 = ref Unsafe.Add(ref x, inF);
        ref float x2 = ref Unsafe.Add(ref x, 2 * inF);
        ref float x3 = ref Unsafe.Add(ref x, 3 * inF);
        for (int k = 0; k < inF; k++)
        {
            Vector<float> w0 = Mem.Load(ref w, k * v);
            a0 = MultiplyAdd.Of(w0, new Vector<float>(Unsafe.Add(ref x, k)), a0);
            a1 = MultiplyAdd.Of(w0, new Vector<float>(Unsafe.Add(ref x1, k)), a1);
            a2 = MultiplyAdd.Of(w0, new Vector<float>(Unsafe.Add(ref x2, k)), a2);
            a3 = MultiplyAdd.Of(w0, new Vector<float>(Unsafe.Add(ref x3, k)), a3);
        }
        Store(a0, output, row, column); Store(a1, output, row + 1, column);
        Store(a2, output, row + 2, column); Store(a3, output, row + 3, column);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows1Blocks2(ref float w, ref float x, Vector<float> b0, Vector<float> b1, Span<float> output, int row, int column)
    {
        int inF = TSpec.InFeatures, v = Vector<float>.Count;
        Vector<float> a0 = b0, a1 = b1;
        for (int k = 0; k < inF; k++)
        {
            ref float wk = ref Unsafe.Add(ref w, k * 2 * v);
            var s = new Vector<float>(Unsafe.Add(ref x, k));
            a0 = MultiplyAdd.Of(Mem.Load(ref wk, 0), s, a0);
            a1 = MultiplyAdd.Of(Mem.Load(ref wk, v), s, a1);
        }
        Store(a0, output, row, column); Store(a1, output, row, column + v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows1Blocks1(ref float w, ref float x, Vector<float> b0, Span<float> output, int row, int column)
    {
        int inF = TSpec.InFeatures, v = Vector<float>.Count;
        Vector<float> a0 = b0;
        for (int k = 0; k < inF; k++)
        {
            a0 = MultiplyAdd.Of(Mem.Load(ref w, k * v), new Vector<float>(Unsafe.Add(ref x, k)), a0);
        }
        Store(a0, output, row, column);
    }

    /// <summary>The lanes of a block that are real outputs (all of them but in the last block) into output[row, column..].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector<float> a, Span<float> output, int row, int column)
    {
        int outF = TSpec.OutFeatures, index = row * outF + column, valid = outF - column;
        if (valid >= Vector<float>.Count)
        {
            a.CopyTo(output[index..]);
        }
        else
        {
            for (int lane = 0; lane < valid; lane++) output[index + lane] = a[lane];
        }
    }

    /// <summary>
    /// Backpropagation through <paramref name="rows"/> rows: the parameter gradients accumulate,
    /// <c>dWeight += dOutputᵀ · input</c> (<c>[Out, In]</c>) and <c>dBias += Σ_r dOutput[r, :]</c> (<c>[Out]</c>, empty
    /// when the module has no bias), and the input gradient is overwritten, <c>dInput = dOutput · W</c>
    /// (<c>[rows, In]</c>; pass empty to skip it). <paramref name="weight"/> is the row-major parameter W, not the
    /// packed copy; input <c>[rows, In]</c> and dOutput <c>[rows, Out]</c> as in the forward.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> weight, ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, int rows,
        Span<float> dWeight, Span<float> dBias, Span<float> dInput)
    {
        int inF = TSpec.InFeatures, outF = TSpec.OutFeatures;
        SpanChecks.NonNegative(rows, nameof(rows));
        SpanChecks.Exact(weight.Length, (long)outF * inF, nameof(weight));
        SpanChecks.AtLeast(input.Length, (long)rows * inF, nameof(input));
        SpanChecks.AtLeast(dOutput.Length, (long)rows * outF, nameof(dOutput));
        SpanChecks.Exact(dWeight.Length, (long)outF * inF, nameof(dWeight));
        SpanChecks.Exact(dBias.Length, TSpec.Bias ? outF : 0, nameof(dBias));
        if (!dInput.IsEmpty) SpanChecks.AtLeast(dInput.Length, (long)rows * inF, nameof(dInput));
        if (rows == 0) return;

        // dW[o, :] += Σ_r dY[r, o] · X[r, :]
        for (int o = 0; o < outF; o++)
        {
            AddCombination(dWeight.Slice(o * inF, inF), dOutput[o..], outF, input, inF, rows);
        }
        if (TSpec.Bias)
        {
            for (int r = 0; r < rows; r++) Backprop.Add(dBias, dOutput.Slice(r * outF, outF));
        }
        if (!dInput.IsEmpty)
        {
            // dX[r, :] = Σ_o dY[r, o] · W[o, :]
            for (int r = 0; r < rows; r++)
            {
                Span<float> dx = dInput.Slice(r * inF, inF);
                dx.Clear();
                AddCombination(dx, dOutput.Slice(r * outF, outF), 1, weight, inF, outF);
            }
        }
    }

    /// <summary><c>y += Σ_{j &lt; count} a[j·aStride] · m[j·mStride .. + y.Length]</c>, four terms per pass over y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddCombination(Span<float> y, ReadOnlySpan<float> a, int aStride, ReadOnlySpan<float> m, int mStride, int count)
    {
        int n = y.Length, j = 0;
        for (; j + 4 <= count; j += 4)
        {
            float c0 = a[j * aStride], c1 = a[(j + 1) * aStride], c2 = a[(j + 2) * aStride], c3 = a[(j + 3) * aStride];
            ReadOnlySpan<float> m0 = m.Slice(j * mStride, n), m1 = m.Slice((j + 1) * mStride, n),
                m2 = m.Slice((j + 2) * mStride, n), m3 = m.Slice((j + 3) * mStride, n);
            int i = 0, v = Vector<float>.Count;
            if (Vector.IsHardwareAccelerated)
            {
                Vector<float> v0 = new(c0), v1 = new(c1), v2 = new(c2), v3 = new(c3);
                for (; i <= n - v; i += v)
                {
                    Vector<float> acc = new(y[i..]);
                    acc = MultiplyAdd.Of(v0, new Vector<float>(m0[i..]), acc);
                    acc = MultiplyAdd.Of(v1, new Vector<float>(m1[i..]), acc);
                    acc = MultiplyAdd.Of(v2, new Vector<float>(m2[i..]), acc);
                    acc = MultiplyAdd.Of(v3, new Vector<float>(m3[i..]), acc);
                    acc.CopyTo(y[i..]);
                }
            }
            for (; i < n; i++)
            {
                float acc = y[i];
                acc = MultiplyAdd.Of(c0, m0[i], acc);
                acc = MultiplyAdd.Of(c1, m1[i], acc);
                acc = MultiplyAdd.Of(c2, m2[i], acc);
                acc = MultiplyAdd.Of(c3, m3[i], acc);
                y[i] = acc;
            }
        }
        for (; j < count; j++) Backprop.AddScaled(y, a[j * aStride], m.Slice(j * mStride, n));
    }

    /// <summary>
    /// PyTorch's <c>reset_parameters</c>: weight (<c>[Out, In]</c>, row-major order) then bias (<c>[Out]</c>, or empty
    /// without bias) drawn from U(−1/√In, 1/√In) (kaiming_uniform_ with a = √5 gives the same bound).
    /// </summary>
    public static void Initialize(Span<float> weight, Span<float> bias, ref SplitMix64 random)
    {
        int inF = TSpec.InFeatures, outF = TSpec.OutFeatures;
        SpanChecks.Exact(weight.Length, (long)outF * inF, nameof(weight));
        SpanChecks.Exact(bias.Length, TSpec.Bias ? outF : 0, nameof(bias));
        float bound = inF > 0 ? 1f / MathF.Sqrt(inF) : 0f;
        for (int i = 0; i < weight.Length; i++) weight[i] = random.NextUniform(-bound, bound);
        for (int i = 0; i < bias.Length; i++) bias[i] = random.NextUniform(-bound, bound);
    }
}
