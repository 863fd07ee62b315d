using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
/// accumulators in registers while it streams the weights: broadcast x[r, k], multiply-add, no horizontal sums. A
/// tile is 4 rows × 2 output vectors (4 × 4 with 32 registers) or, for a row alone, 8 output vectors, so that at least
/// 8 chains of multiply-adds are in flight; where the core has 512-bit vectors beside 8-float ones, a whole pair's
/// 16 floats of one input are one vector. Each output is <c>b[o]</c> followed by one multiply-add per k in
/// increasing k (<see cref="MultiplyAdd"/>: fused where the CPU has FMA), so it is the same float, bit for bit, for
/// every vector width, row grouping and lane.</para>
/// <para>Weights are flushed of subnormals when packed, and each group of input rows is copied, flushed, into
/// the scratch (see <see cref="Subnormals"/>), so the arithmetic never meets a subnormal operand.</para>
/// </remarks>
/// <typeparam name="TSpec">The module's sizes (JIT constants).</typeparam>
public static class LinearKernel<TSpec> where TSpec : struct, ILinearSpec
{
    private const int TileRows = 4;

    private static int Blocks
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (TSpec.OutFeatures + Vector<float>.Count - 1) / Vector<float>.Count;
    }

    private static int WeightLength
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Blocks * Vector<float>.Count * TSpec.InFeatures;
    }

    /// <summary>Floats of the packed forward copy of weight and bias (see the type's remarks).</summary>
    public static int PackedLength
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => WeightLength + (TSpec.Bias ? Blocks * Vector<float>.Count : 0);
    }

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
        int inF = TSpec.InFeatures, outF = TSpec.OutFeatures;
        SpanChecks.NonNegative(rows, nameof(rows));
        SpanChecks.Exact(packed.Length, PackedLength, nameof(packed));
        SpanChecks.AtLeast(input.Length, (long)rows * inF, nameof(input));
        SpanChecks.AtLeast(output.Length, (long)rows * outF, nameof(output));
        SpanChecks.AtLeast(scratch.Length, ScratchLength, nameof(scratch));
        if (rows == 0 || outF == 0) return;

        for (int row = 0; row < rows;)
        {
            int group = rows - row >= TileRows ? TileRows : 1;
            Subnormals.FlushCopy(input.Slice(row * inF, group * inF), scratch);
            // A pair of blocks is 16 floats per input where Vector<T> has 8: one 512-bit vector where the core has them.
            bool pairVectors = Vector512.IsHardwareAccelerated && Vector512Lanes.IsWider && 2 * Vector<float>.Count == Vector512<float>.Count;
            if (group == TileRows)
            {
                if (pairVectors) Rows4Blocks<Vector512<float>, Vector512Lanes>(packed, scratch, output, row);
                else Rows4Blocks<Vector<float>, VectorLanes>(packed, scratch, output, row);
            }
            else
            {
                if (pairVectors) Row1Blocks<Vector512<float>, Vector512Lanes>(packed, scratch, output, row);
                else Row1Blocks<Vector<float>, VectorLanes>(packed, scratch, output, row);
            }
            row += group;
        }
    }

    // The output in TVectors of one block (Vector<T>) or of a whole pair (Vector512 beside 8-float Vector<T>): the
    // vectors over whole pairs read 2V floats per input, a last odd block V. Each pass keeps 8 independent chains of
    // multiply-adds in flight (4 rows × 2 vectors, or × 4 with 32 registers: 16; 1 row × 8 vectors): a row alone in
    // one or two chains waited on each multiply-add's latency, In of them one after another.

    /// <summary>4 rows (flushed in <paramref name="x"/>) over every output block.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Rows4Blocks<TVector, TLanes>(ReadOnlySpan<float> packed, ReadOnlySpan<float> x, Span<float> output, int row)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int v = Vector<float>.Count, vectors = PairVectors<TVector, TLanes>(), q = 0;
        ref float w = ref MemoryMarshal.GetReference(packed);
        ref float xr = ref MemoryMarshal.GetReference(x);
        if (TLanes.Registers >= 32)
        {
            for (; q + 4 <= vectors; q += 4) Rows4Pass<TVector, TLanes, Vectors4>(ref w, 2 * v, ref xr, output, row, q);
            // The rest in one pass.
            switch (vectors - q)
            {
                case 3: Rows4Pass<TVector, TLanes, Vectors3>(ref w, 2 * v, ref xr, output, row, q); break;
                case 2: Rows4Pass<TVector, TLanes, Vectors2>(ref w, 2 * v, ref xr, output, row, q); break;
                case 1: Rows4Pass<TVector, TLanes, Vectors1>(ref w, 2 * v, ref xr, output, row, q); break;
            }
        }
        else
        {
            for (; q + 2 <= vectors; q += 2) Rows4Pass<TVector, TLanes, Vectors2>(ref w, 2 * v, ref xr, output, row, q);
            if (q < vectors) Rows4Pass<TVector, TLanes, Vectors1>(ref w, 2 * v, ref xr, output, row, q);
        }
        if (Blocks % 2 == 1) Rows4<Vector<float>, VectorLanes, Vectors1>(ref w, v, ref xr, output, row, Blocks - 1);
    }

    /// <summary>1 row (flushed in <paramref name="x"/>) over every output block.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Row1Blocks<TVector, TLanes>(ReadOnlySpan<float> packed, ReadOnlySpan<float> x, Span<float> output, int row)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int v = Vector<float>.Count, vectors = PairVectors<TVector, TLanes>(), q = 0;
        ref float w = ref MemoryMarshal.GetReference(packed);
        ref float xr = ref MemoryMarshal.GetReference(x);
        for (; q + 8 <= vectors; q += 8) Row1Pass<TVector, TLanes, Vectors8>(ref w, 2 * v, ref xr, output, row, q);
        // The rest in one pass: two passes would each wait on In multiply-adds one after another.
        switch (vectors - q)
        {
            case 7: Row1Pass<TVector, TLanes, Vectors7>(ref w, 2 * v, ref xr, output, row, q); break;
            case 6: Row1Pass<TVector, TLanes, Vectors6>(ref w, 2 * v, ref xr, output, row, q); break;
            case 5: Row1Pass<TVector, TLanes, Vectors5>(ref w, 2 * v, ref xr, output, row, q); break;
            case 4: Row1Pass<TVector, TLanes, Vectors4>(ref w, 2 * v, ref xr, output, row, q); break;
            case 3: Row1Pass<TVector, TLanes, Vectors3>(ref w, 2 * v, ref xr, output, row, q); break;
            case 2: Row1Pass<TVector, TLanes, Vectors2>(ref w, 2 * v, ref xr, output, row, q); break;
            case 1: Row1Pass<TVector, TLanes, Vectors1>(ref w, 2 * v, ref xr, output, row, q); break;
        }
        if (Blocks % 2 == 1) Row1<Vector<float>, VectorLanes, Vectors1>(ref w, v, ref xr, output, row, Blocks - 1);
    }

    /// <summary>The <typeparamref name="TVector"/>s that cover the whole pairs of blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PairVectors<TVector, TLanes>()
        where TVector : struct
        where TLanes : ILanes<TVector> => Blocks / 2 * 2 * Vector<float>.Count / TLanes.Count;

    /// <summary>
    /// Where output vector <paramref name="q"/> (of <typeparamref name="TLanes"/>' width, its first output
    /// <c>q · Count</c>) starts in the packed weights: its pair's region, then its place within the pair's
    /// <c>2V</c> floats of each input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float WeightsOf<TVector, TLanes>(ref float w, int q)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int pairFloats = 2 * Vector<float>.Count, first = q * TLanes.Count;
        return ref Unsafe.Add(ref w, first / pairFloats * pairFloats * TSpec.InFeatures + first % pairFloats);
    }

    /// <summary>The bias of output vector <paramref name="q"/>, or zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector BiasOf<TVector, TLanes>(ref float w, int q)
        where TVector : struct
        where TLanes : ILanes<TVector> =>
        TSpec.Bias ? TLanes.Load(ref w, WeightLength + q * TLanes.Count) : default;

    // A pass over whole pairs is a method of its own per count, whose accumulators stay in registers: inlined, several
    // of them outgrew what the JIT tracks in one method, and every accumulator went to the stack. A last odd block's
    // pass is inlined into Rows4Blocks and Row1Blocks, which are methods of their own too: inlined into Forward,
    // they left NativeAOT's default target without the inlining budget for the lanes' multiply-add, one call per
    // term (bench_small's StepPredict 24% slower).

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Rows4Pass<TVector, TLanes, TCount>(ref float w, int stride, ref float x, Span<float> output, int row, int q)
        where TVector : struct
        where TLanes : ILanes<TVector>
        where TCount : struct, IDim => Rows4<TVector, TLanes, TCount>(ref w, stride, ref x, output, row, q);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Row1Pass<TVector, TLanes, TCount>(ref float w, int stride, ref float x, Span<float> output, int row, int q)
        where TVector : struct
        where TLanes : ILanes<TVector>
        where TCount : struct, IDim => Row1<TVector, TLanes, TCount>(ref w, stride, ref x, output, row, q);

    /// <summary>4 rows × <typeparamref name="TCount"/> (1 to 4) output vectors from vector <paramref name="q"/> on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows4<TVector, TLanes, TCount>(ref float w, int stride, ref float x, Span<float> output, int row, int q)
        where TVector : struct
        where TLanes : ILanes<TVector>
        where TCount : struct, IDim
    {
        int inF = TSpec.InFeatures, count = TCount.Value;
        // Only the count vectors' weights are addressed.
        ref float w0 = ref WeightsOf<TVector, TLanes>(ref w, q);
        ref float w1 = ref count > 1 ? ref WeightsOf<TVector, TLanes>(ref w, q + 1) : ref w0;
        ref float w2 = ref count > 2 ? ref WeightsOf<TVector, TLanes>(ref w, q + 2) : ref w0;
        ref float w3 = ref count > 3 ? ref WeightsOf<TVector, TLanes>(ref w, q + 3) : ref w0;
        TVector b0 = BiasOf<TVector, TLanes>(ref w, q);
        TVector b1 = count > 1 ? BiasOf<TVector, TLanes>(ref w, q + 1) : default;
        TVector b2 = count > 2 ? BiasOf<TVector, TLanes>(ref w, q + 2) : default;
        TVector b3 = count > 3 ? BiasOf<TVector, TLanes>(ref w, q + 3) : default;
        TVector a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
        TVector a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
        for (int k = 0; k < inF; k++)
        {
            TVector x0 = TLanes.Broadcast(Unsafe.Add(ref x, k)), x1 = TLanes.Broadcast(Unsafe.Add(ref x, inF + k));
            TVector x2 = TLanes.Broadcast(Unsafe.Add(ref x, 2 * inF + k)), x3 = TLanes.Broadcast(Unsafe.Add(ref x, 3 * inF + k));
            TVector m = TLanes.Load(ref w0, k * stride);
            a00 = TLanes.MultiplyAdd(m, x0, a00); a10 = TLanes.MultiplyAdd(m, x1, a10);
            a20 = TLanes.MultiplyAdd(m, x2, a20); a30 = TLanes.MultiplyAdd(m, x3, a30);
            if (count > 1)
            {
                m = TLanes.Load(ref w1, k * stride);
                a01 = TLanes.MultiplyAdd(m, x0, a01); a11 = TLanes.MultiplyAdd(m, x1, a11);
                a21 = TLanes.MultiplyAdd(m, x2, a21); a31 = TLanes.MultiplyAdd(m, x3, a31);
            }
            if (count > 2)
            {
                m = TLanes.Load(ref w2, k * stride);
                a02 = TLanes.MultiplyAdd(m, x0, a02); a12 = TLanes.MultiplyAdd(m, x1, a12);
                a22 = TLanes.MultiplyAdd(m, x2, a22); a32 = TLanes.MultiplyAdd(m, x3, a32);
            }
            if (count > 3)
            {
                m = TLanes.Load(ref w3, k * stride);
                a03 = TLanes.MultiplyAdd(m, x0, a03); a13 = TLanes.MultiplyAdd(m, x1, a13);
                a23 = TLanes.MultiplyAdd(m, x2, a23); a33 = TLanes.MultiplyAdd(m, x3, a33);
            }
        }
        StoreRow<TVector, TLanes>(output, row, q, count, a00, a01, a02, a03);
        StoreRow<TVector, TLanes>(output, row + 1, q, count, a10, a11, a12, a13);
        StoreRow<TVector, TLanes>(output, row + 2, q, count, a20, a21, a22, a23);
        StoreRow<TVector, TLanes>(output, row + 3, q, count, a30, a31, a32, a33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TVector, TLanes>(Span<float> output, int row, int q, int count, TVector a0, TVector a1, TVector a2, TVector a3)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int n = TLanes.Count;
        Store<TVector, TLanes>(a0, output, row, q * n);
        if (count > 1) Store<TVector, TLanes>(a1, output, row, (q + 1) * n);
        if (count > 2) Store<TVector, TLanes>(a2, output, row, (q + 2) * n);
        if (count > 3) Store<TVector, TLanes>(a3, output, row, (q + 3) * n);
    }

    /// <summary>1 row × <typeparamref name="TCount"/> (1 to 8) output vectors from vector <paramref name="q"/> on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row1<TVector, TLanes, TCount>(ref float w, int stride, ref float x, Span<float> output, int row, int q)
        where TVector : struct
        where TLanes : ILanes<TVector>
        where TCount : struct, IDim
    {
        int inF = TSpec.InFeatures, n = TLanes.Count, count = TCount.Value;
        // Only the count vectors' weights are addressed.
        ref float w0 = ref WeightsOf<TVector, TLanes>(ref w, q);
        ref float w1 = ref count > 1 ? ref WeightsOf<TVector, TLanes>(ref w, q + 1) : ref w0;
        ref float w2 = ref count > 2 ? ref WeightsOf<TVector, TLanes>(ref w, q + 2) : ref w0;
        ref float w3 = ref count > 3 ? ref WeightsOf<TVector, TLanes>(ref w, q + 3) : ref w0;
        ref float w4 = ref count > 4 ? ref WeightsOf<TVector, TLanes>(ref w, q + 4) : ref w0;
        ref float w5 = ref count > 5 ? ref WeightsOf<TVector, TLanes>(ref w, q + 5) : ref w0;
        ref float w6 = ref count > 6 ? ref WeightsOf<TVector, TLanes>(ref w, q + 6) : ref w0;
        ref float w7 = ref count > 7 ? ref WeightsOf<TVector, TLanes>(ref w, q + 7) : ref w0;
        TVector a0 = BiasOf<TVector, TLanes>(ref w, q);
        TVector a1 = count > 1 ? BiasOf<TVector, TLanes>(ref w, q + 1) : default;
        TVector a2 = count > 2 ? BiasOf<TVector, TLanes>(ref w, q + 2) : default;
        TVector a3 = count > 3 ? BiasOf<TVector, TLanes>(ref w, q + 3) : default;
        TVector a4 = count > 4 ? BiasOf<TVector, TLanes>(ref w, q + 4) : default;
        TVector a5 = count > 5 ? BiasOf<TVector, TLanes>(ref w, q + 5) : default;
        TVector a6 = count > 6 ? BiasOf<TVector, TLanes>(ref w, q + 6) : default;
        TVector a7 = count > 7 ? BiasOf<TVector, TLanes>(ref w, q + 7) : default;
        for (int k = 0; k < inF; k++)
        {
            TVector s = TLanes.Broadcast(Unsafe.Add(ref x, k));
            int at = k * stride;
            a0 = TLanes.MultiplyAdd(TLanes.Load(ref w0, at), s, a0);
            if (count > 1) a1 = TLanes.MultiplyAdd(TLanes.Load(ref w1, at), s, a1);
            if (count > 2) a2 = TLanes.MultiplyAdd(TLanes.Load(ref w2, at), s, a2);
            if (count > 3) a3 = TLanes.MultiplyAdd(TLanes.Load(ref w3, at), s, a3);
            if (count > 4) a4 = TLanes.MultiplyAdd(TLanes.Load(ref w4, at), s, a4);
            if (count > 5) a5 = TLanes.MultiplyAdd(TLanes.Load(ref w5, at), s, a5);
            if (count > 6) a6 = TLanes.MultiplyAdd(TLanes.Load(ref w6, at), s, a6);
            if (count > 7) a7 = TLanes.MultiplyAdd(TLanes.Load(ref w7, at), s, a7);
        }
        Store<TVector, TLanes>(a0, output, row, q * n);
        if (count > 1) Store<TVector, TLanes>(a1, output, row, (q + 1) * n);
        if (count > 2) Store<TVector, TLanes>(a2, output, row, (q + 2) * n);
        if (count > 3) Store<TVector, TLanes>(a3, output, row, (q + 3) * n);
        if (count > 4) Store<TVector, TLanes>(a4, output, row, (q + 4) * n);
        if (count > 5) Store<TVector, TLanes>(a5, output, row, (q + 5) * n);
        if (count > 6) Store<TVector, TLanes>(a6, output, row, (q + 6) * n);
        if (count > 7) Store<TVector, TLanes>(a7, output, row, (q + 7) * n);
    }

    /// <summary>The lanes of a vector that are real outputs (all of them but in the last one) into output[row, column..].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TVector, TLanes>(TVector a, Span<float> output, int row, int column)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        int outF = TSpec.OutFeatures, index = row * outF + column, valid = outF - column;
        // No call while accumulators are live: the JIT would keep every one of them on the stack through the loop.
        if (valid >= TLanes.Count) TLanes.Store(a, ref output[index], 0);
        else for (int lane = 0; lane < valid; lane++) output[index + lane] = TLanes.Element(a, lane);
    }

    // How many output vectors a pass of Rows4 or Row1 keeps in registers.
    private readonly struct Vectors1 : IDim { public static int Value => 1; }
    private readonly struct Vectors2 : IDim { public static int Value => 2; }
    private readonly struct Vectors3 : IDim { public static int Value => 3; }
    private readonly struct Vectors4 : IDim { public static int Value => 4; }
    private readonly struct Vectors5 : IDim { public static int Value => 5; }
    private readonly struct Vectors6 : IDim { public static int Value => 6; }
    private readonly struct Vectors7 : IDim { public static int Value => 7; }
    private readonly struct Vectors8 : IDim { public static int Value => 8; }

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

        // Where a row of In is whole vectors, both products are RowProduct's register-blocked ones (dW += dYᵀ X: Out
        // rows, depth rows; dX = dY W: rows rows, depth Out), whose every output adds its terms one multiply-add at a
        // time in increasing order, as the loops below do: the same bits, 2-4 times faster for a language model's logits.
        bool blocked = inF % Vector<float>.Count == 0;
        // dW[o, :] += Σ_r dY[r, o] · X[r, :]
        if (blocked)
        {
            RowProduct.Multiply(outF, rows, inF, dOutput, 1, outF, input, inF, dWeight, inF, default, accumulate: true);
        }
        else
        {
            for (int o = 0; o < outF; o++)
            {
                AddCombination(dWeight.Slice(o * inF, inF), dOutput[o..], outF, input, inF, rows);
            }
        }
        if (TSpec.Bias)
        {
            for (int r = 0; r < rows; r++) Backprop.Add(dBias, dOutput.Slice(r * outF, outF));
        }
        if (dInput.IsEmpty) return;
        // dX[r, :] = Σ_o dY[r, o] · W[o, :]
        if (blocked)
        {
            RowProduct.Multiply(rows, outF, inF, dOutput, outF, 1, weight, inF, dInput, inF, default, accumulate: false);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            Span<float> dx = dInput.Slice(r * inF, inF);
            dx.Clear();
            AddCombination(dx, dOutput.Slice(r * outF, outF), 1, weight, inF, outF);
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
