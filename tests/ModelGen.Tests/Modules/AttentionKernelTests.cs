using ModelGen.Kernels;

namespace ModelGen.Tests.Modules;

#pragma warning disable CA1812 // the spec structs are only type arguments

internal readonly struct AttDot4 : IAttentionSpec
{
    public static int InputSize => 4; public static int QuerySize => 4; public static int KeySize => 4;
    public static int AttentionSize => 0; public static AttentionScore Score => AttentionScore.Dot;
}

/// <summary>General with In ≠ Q ≠ K: the input is not the query.</summary>
internal readonly struct AttGeneral3x5x4 : IAttentionSpec
{
    public static int InputSize => 3; public static int QuerySize => 5; public static int KeySize => 4;
    public static int AttentionSize => 0; public static AttentionScore Score => AttentionScore.General;
}

internal readonly struct AttGeneral4x4x6 : IAttentionSpec
{
    public static int InputSize => 4; public static int QuerySize => 4; public static int KeySize => 6;
    public static int AttentionSize => 0; public static AttentionScore Score => AttentionScore.General;
}

internal readonly struct AttAdditive5x5x3x6 : IAttentionSpec
{
    public static int InputSize => 5; public static int QuerySize => 5; public static int KeySize => 3;
    public static int AttentionSize => 6; public static AttentionScore Score => AttentionScore.Additive;
}

/// <summary>Additive with In ≠ Q.</summary>
internal readonly struct AttAdditive2x4x5x3 : IAttentionSpec
{
    public static int InputSize => 2; public static int QuerySize => 4; public static int KeySize => 5;
    public static int AttentionSize => 3; public static AttentionScore Score => AttentionScore.Additive;
}

/// <summary>
/// <see cref="AttentionKernel{TSpec}"/> against a float64 attention written here straight from the formulas (the
/// scores with the projections inline, a max-subtracted softmax over the unmasked steps, the context, the
/// concatenation), and its backward against central finite differences of that reference, for every score,
/// with masked memories, one row per sequence (decoding steps) and several (teacher forcing).
/// </summary>
/// <remarks>
/// <para>Forward tolerance: 1e-5 absolute + 1e-5 relative. Each float value is a handful of chained float sums of
/// at most a few dozen O(1) products (a score: ≤ 6 terms, the additive pre-activation ≤ 6 more, exp, the softmax
/// total ≤ 5 terms, the context ≤ 5 terms), each operation rounding by u = 2⁻²⁴ ≈ 6e-8; scores are O(1), so the
/// error of any value is below about 50·u·O(1) ≈ 3e-6 (observed: below 1e-7). A wrong mask, a missing bias, a wrong row-to-sequence
/// map or a swapped index changes values by O(0.1), far above it.</para>
/// <para>Gradient tolerance: 1e-5 absolute + 1e-5 relative. The finite difference in double with h = 1e-4 has a
/// truncation error h²/6·|L'''| ≲ 1e-8·O(10) and a rounding error ≈ 1e-16·|L|/h ≈ 1e-11; the kernel's float
/// gradients are sums of at most rowsPerSequence·Ts·max(Q, K, A) ≈ 100 products of O(1) factors, each a chain of
/// a few roundings: a worst-case bound of about 100·4u·O(1) ≈ 2e-5, a random-walk one of √100·4u·O(1) ≈ 2.4e-6
/// (observed: at most 3e-7). A dropped term (a mask, a path, a bias) is O(0.01–1).</para>
/// <para>Padded memory steps hold NaN, so a kernel that reads a masked step anywhere fails every comparison.</para>
/// </remarks>
public class AttentionKernelTests
{
    private const double H = 1e-4;

    /// <summary>One test configuration: rows·(rows per sequence), memory steps and lengths.</summary>
    public sealed record Case(int Batch, int RowsPerSequence, int SourceSteps, int[] Lengths)
    {
        public int Rows => Batch * RowsPerSequence;

        public int Length(int b) => Lengths.Length == 0 ? SourceSteps : Lengths[b];
    }

    private static readonly Case Decoding = new(3, 1, 5, [5, 2, 1]);
    private static readonly Case Teacher = new(2, 3, 4, [2, 4]);
    private static readonly Case Unmasked = new(2, 2, 3, []);
    private static readonly Case[] Cases = [Decoding, Teacher, Unmasked];

    private sealed class Data
    {
        public required float[] Parameters { get; init; }
        public required float[] Input { get; init; }
        public required float[] Query { get; init; }
        public required float[] Memory { get; init; }
        public required float[] Keys { get; init; }
    }

    private static Data MakeData<TSpec>(Case c, int seed) where TSpec : struct, IAttentionSpec
    {
        int rows = c.Rows;
        var parameters = new float[AttentionKernel<TSpec>.ParameterLength];
        var random = new SplitMix64((ulong)seed);
        AttentionKernel<TSpec>.Initialize(parameters, ref random);
        // Wider than the default initialisation so that the softmax is far from uniform.
        for (int i = 0; i < parameters.Length; i++) parameters[i] *= 2.5f;
        float[] memory = ModuleTestSupport.Uniform(c.Batch * c.SourceSteps * TSpec.KeySize, seed + 1, -1.5, 1.5);
        // Padding is NaN: a masked step must never be read (weight 0 times NaN would still be NaN), in either pass.
        for (int b = 0; b < c.Batch; b++)
        {
            memory.AsSpan((b * c.SourceSteps + c.Length(b)) * TSpec.KeySize, (c.SourceSteps - c.Length(b)) * TSpec.KeySize).Fill(float.NaN);
        }
        var keys = new float[AttentionKernel<TSpec>.KeysLength(c.Batch, c.SourceSteps)];
        AttentionKernel<TSpec>.ProjectKeys(parameters, memory, c.Batch, c.SourceSteps, keys);
        return new Data
        {
            Parameters = parameters,
            Input = ModuleTestSupport.Uniform(rows * TSpec.InputSize, seed + 2),
            Query = ModuleTestSupport.Uniform(rows * TSpec.QuerySize, seed + 3, -1.5, 1.5),
            Memory = memory,
            Keys = keys,
        };
    }

    /// <summary>The float64 attention: (output [rows, In + K], weights [rows, Ts]).</summary>
    private static (double[] Output, double[] Weights) Reference<TSpec>(double[] p, double[] input, double[] query, double[] memory, Case c)
        where TSpec : struct, IAttentionSpec
    {
        int inF = TSpec.InputSize, q = TSpec.QuerySize, k = TSpec.KeySize, a = TSpec.AttentionSize, ts = c.SourceSteps;
        var output = new double[c.Rows * (inF + k)];
        var weights = new double[c.Rows * ts];
        var scores = new double[ts];
        for (int r = 0; r < c.Rows; r++)
        {
            int b = r / c.RowsPerSequence, length = c.Length(b);
            for (int s = 0; s < length; s++)
            {
                int m = (b * ts + s) * k;
                double score = 0;
                switch (TSpec.Score)
                {
                    case AttentionScore.Dot:
                        for (int i = 0; i < k; i++) score += query[r * q + i] * memory[m + i];
                        break;
                    case AttentionScore.General:
                        for (int i = 0; i < q; i++)
                        {
                            double wk = 0;
                            for (int j = 0; j < k; j++) wk += p[i * k + j] * memory[m + j];
                            score += query[r * q + i] * wk;
                        }
                        break;
                    default:
                        int waB = a * q, uaW = waB + a, uaB = uaW + a * k, vaW = uaB + a, vaB = vaW + a;
                        score = p[vaB];
                        for (int i = 0; i < a; i++)
                        {
                            double pre = p[waB + i] + p[uaB + i];
                            for (int j = 0; j < q; j++) pre += p[i * q + j] * query[r * q + j];
                            for (int j = 0; j < k; j++) pre += p[uaW + i * k + j] * memory[m + j];
                            score += p[vaW + i] * Math.Tanh(pre);
                        }
                        break;
                }
                scores[s] = score;
            }
            double max = scores.Take(length).Max(), total = 0;
            for (int s = 0; s < length; s++) total += Math.Exp(scores[s] - max);
            int o = r * (inF + k);
            for (int i = 0; i < inF; i++) output[o + i] = input[r * inF + i];
            for (int s = 0; s < length; s++)
            {
                double w = Math.Exp(scores[s] - max) / total;
                weights[r * ts + s] = w;
                for (int i = 0; i < k; i++) output[o + inF + i] += w * memory[(b * ts + s) * k + i];
            }
        }
        return (output, weights);
    }

    private static (float[] Weights, float[] Output, float[] Record) RunForward<TSpec, TCache>(Data d, Case c, float[]? input = null, float[]? query = null)
        where TSpec : struct, IAttentionSpec where TCache : struct, ICacheMode
    {
        var weights = new float[c.Rows * c.SourceSteps];
        var output = new float[c.Rows * AttentionKernel<TSpec>.OutputSize];
        var record = new float[AttentionKernel<TSpec>.RecordLength(c.Rows, c.SourceSteps)];
        var scratch = new float[AttentionKernel<TSpec>.ScratchLength(c.SourceSteps)];
        weights.AsSpan().Fill(float.NaN);
        output.AsSpan().Fill(float.NaN);
        AttentionKernel<TSpec>.Forward<TCache>(d.Parameters, input ?? d.Input, query ?? d.Query, c.Rows, c.RowsPerSequence,
            d.Memory, d.Keys, c.Lengths, c.SourceSteps, weights, output, record, scratch);
        return (weights, output, record);
    }

    private static void CheckForward<TSpec>() where TSpec : struct, IAttentionSpec
    {
        foreach (Case c in Cases)
        {
            Data d = MakeData<TSpec>(c, 10);
            (float[] weights, float[] output, float[] record) = RunForward<TSpec, RecordCache>(d, c);
            (double[] expected, double[] expectedWeights) = Reference<TSpec>(ModuleTestSupport.ToDouble(d.Parameters),
                ModuleTestSupport.ToDouble(d.Input), ModuleTestSupport.ToDouble(d.Query), ModuleTestSupport.ToDouble(d.Memory), c);
            string name = $"{typeof(TSpec).Name} rows/seq {c.RowsPerSequence}";
            ModuleTestSupport.AssertWithin(expected, output, i => 1e-5 + 1e-5 * Math.Abs(expected[i]), $"{name} output");
            ModuleTestSupport.AssertWithin(expectedWeights, weights, i => 1e-5 + 1e-5 * Math.Abs(expectedWeights[i]), $"{name} weights");

            // Masked weights are exactly +0; each row sums to 1 within the rounding of its ≤ Ts quotients and total.
            for (int r = 0; r < c.Rows; r++)
            {
                int length = c.Length(r / c.RowsPerSequence);
                double sum = 0;
                for (int s = 0; s < c.SourceSteps; s++)
                {
                    float w = weights[r * c.SourceSteps + s];
                    if (s >= length) Assert.True(BitConverter.SingleToInt32Bits(w) == 0, $"{name} weights[{r}, {s}] = {w} at a masked step");
                    else Assert.True(w > 0, $"{name} weights[{r}, {s}] = {w}");
                    sum += w;
                }
                Assert.True(Math.Abs(sum - 1) <= 2.0 * c.SourceSteps * ModuleTestSupport.U, $"{name} row {r} weights sum to {sum:R}");
            }

            // Inference gives the same bits and leaves the record alone (or takes none).
            (float[] inferredWeights, float[] inferred, _) = RunForward<TSpec, NoCache>(d, c);
            TestHelpers.AssertBitEqual(output, inferred, $"{name} NoCache output");
            TestHelpers.AssertBitEqual(weights, inferredWeights, $"{name} NoCache weights");
            var untouched = new float[record.Length];
            untouched.AsSpan().Fill(float.NaN);
            var scratch = new float[AttentionKernel<TSpec>.ScratchLength(c.SourceSteps)];
            AttentionKernel<TSpec>.Forward<NoCache>(d.Parameters, d.Input, d.Query, c.Rows, c.RowsPerSequence,
                d.Memory, d.Keys, c.Lengths, c.SourceSteps, inferredWeights, inferred, untouched, scratch);
            Assert.All(untouched, value => Assert.True(float.IsNaN(value)));
            AttentionKernel<TSpec>.Forward<NoCache>(d.Parameters, d.Input, d.Query, c.Rows, c.RowsPerSequence,
                d.Memory, d.Keys, c.Lengths, c.SourceSteps, inferredWeights, inferred, default, scratch);
            TestHelpers.AssertBitEqual(output, inferred, $"{name} NoCache output without record");
        }
    }

    [Fact] public void Forward_dot() => CheckForward<AttDot4>();
    [Fact] public void Forward_general_input_not_query() => CheckForward<AttGeneral3x5x4>();
    [Fact] public void Forward_general() => CheckForward<AttGeneral4x4x6>();
    [Fact] public void Forward_additive() => CheckForward<AttAdditive5x5x3x6>();
    [Fact] public void Forward_additive_input_not_query() => CheckForward<AttAdditive2x4x5x3>();

    [Fact]
    public void Decoding_steps_match_the_teacher_forced_rows()
    {
        // Row t of a teacher-forced sequence equals a one-row-per-sequence call on that row alone, bit for bit.
        Case teacher = Teacher;
        Data d = MakeData<AttAdditive5x5x3x6>(teacher, 20);
        (float[] weights, float[] output, _) = RunForward<AttAdditive5x5x3x6, NoCache>(d, teacher);
        int q = 5, inF = 5, outF = AttentionKernel<AttAdditive5x5x3x6>.OutputSize, ts = teacher.SourceSteps;
        for (int t = 0; t < teacher.RowsPerSequence; t++)
        {
            var stepQuery = new float[teacher.Batch * q];
            for (int b = 0; b < teacher.Batch; b++) d.Query.AsSpan((b * teacher.RowsPerSequence + t) * q, q).CopyTo(stepQuery.AsSpan(b * q));
            Case step = new(teacher.Batch, 1, ts, teacher.Lengths);
            (float[] stepWeights, float[] stepOutput, _) = RunForward<AttAdditive5x5x3x6, NoCache>(d, step, stepQuery, stepQuery);
            for (int b = 0; b < teacher.Batch; b++)
            {
                int r = b * teacher.RowsPerSequence + t;
                TestHelpers.AssertBitEqual(weights.AsSpan(r * ts, ts), stepWeights.AsSpan(b * ts, ts), $"step {t} weights");
                TestHelpers.AssertBitEqual(output.AsSpan(r * outF + inF, outF - inF), stepOutput.AsSpan(b * outF + inF, outF - inF), $"step {t} context");
            }
        }
    }

    private sealed class Gradients
    {
        public required float[] DInput { get; init; }
        public required float[] DQuery { get; init; }
        public required float[] DMemory { get; init; }
        public required float[] DParameters { get; init; }
    }

    private static Gradients RunBackward<TSpec>(Data d, Case c, float[] record, float[] weights, float[] g,
        float[] dQuery0, float[] dMemory0, float[] dParameters0) where TSpec : struct, IAttentionSpec
    {
        var grads = new Gradients
        {
            DInput = new float[c.Rows * TSpec.InputSize],
            DQuery = (float[])dQuery0.Clone(),
            DMemory = (float[])dMemory0.Clone(),
            DParameters = (float[])dParameters0.Clone(),
        };
        grads.DInput.AsSpan().Fill(float.NaN);
        var scratch = new float[AttentionKernel<TSpec>.ScratchLength(c.SourceSteps)];
        scratch.AsSpan().Fill(float.NaN);
        AttentionKernel<TSpec>.Backward(d.Parameters, d.Query, c.Rows, c.RowsPerSequence, d.Memory, d.Keys, c.Lengths, c.SourceSteps,
            weights, record, g, grads.DInput, grads.DQuery, grads.DMemory, grads.DParameters, scratch);
        return grads;
    }

    private static void CheckBackward<TSpec>() where TSpec : struct, IAttentionSpec
    {
        int k = TSpec.KeySize;
        foreach (Case c in Cases)
        {
            string name = $"{typeof(TSpec).Name} rows/seq {c.RowsPerSequence}";
            Data d = MakeData<TSpec>(c, 30);
            (float[] weights, _, float[] record) = RunForward<TSpec, RecordCache>(d, c);
            float[] g = ModuleTestSupport.Uniform(c.Rows * AttentionKernel<TSpec>.OutputSize, 31);
            float[] dQuery0 = ModuleTestSupport.Uniform(d.Query.Length, 32);
            float[] dMemory0 = ModuleTestSupport.Uniform(d.Memory.Length, 33);
            float[] dParameters0 = ModuleTestSupport.Uniform(d.Parameters.Length, 34);
            Gradients grads = RunBackward<TSpec>(d, c, record, weights, g, dQuery0, dMemory0, dParameters0);

            double[] p = ModuleTestSupport.ToDouble(d.Parameters), x = ModuleTestSupport.ToDouble(d.Input),
                qd = ModuleTestSupport.ToDouble(d.Query), m = ModuleTestSupport.ToDouble(d.Memory);
            double Loss(double[] pp, double[] xx, double[] qq, double[] mm) => ModuleTestSupport.Dot(Reference<TSpec>(pp, xx, qq, mm, c).Output, g);
            double[] fdP = ModuleTestSupport.FiniteDifference((double[])p.Clone(), pp => Loss(pp, x, qd, m), H);
            double[] fdX = ModuleTestSupport.FiniteDifference((double[])x.Clone(), xx => Loss(p, xx, qd, m), H);
            double[] fdQ = ModuleTestSupport.FiniteDifference((double[])qd.Clone(), qq => Loss(p, x, qq, m), H);
            double[] fdM = ModuleTestSupport.FiniteDifference((double[])m.Clone(), mm => Loss(p, x, qd, mm), H);

            static Func<int, double> Tolerance(double[] expected) => i => 1e-5 + 1e-5 * Math.Abs(expected[i]);
            double[] Plus(double[] fd, float[] initial) => [.. fd.Select((v, i) => v + initial[i])];
            ModuleTestSupport.AssertWithin(fdX, grads.DInput, Tolerance(fdX), $"{name} dInput");
            double[] eq = Plus(fdQ, dQuery0), em = Plus(fdM, dMemory0), ep = Plus(fdP, dParameters0);
            ModuleTestSupport.AssertWithin(eq, grads.DQuery, Tolerance(eq), $"{name} dQuery");
            ModuleTestSupport.AssertWithin(em, grads.DMemory, Tolerance(em), $"{name} dMemory");
            ModuleTestSupport.AssertWithin(ep, grads.DParameters, Tolerance(ep), $"{name} dParameters");

            // The pass-through is copied exactly; masked memory steps get exactly nothing (their value unchanged).
            for (int r = 0; r < c.Rows; r++)
            {
                TestHelpers.AssertBitEqual(g.AsSpan(r * AttentionKernel<TSpec>.OutputSize, TSpec.InputSize),
                    grads.DInput.AsSpan(r * TSpec.InputSize, TSpec.InputSize), $"{name} dInput row {r}");
            }
            int masked = 0;
            for (int b = 0; b < c.Batch; b++)
            {
                for (int s = c.Length(b); s < c.SourceSteps; s++, masked++)
                {
                    int at = (b * c.SourceSteps + s) * k;
                    TestHelpers.AssertBitEqual(dMemory0.AsSpan(at, k), grads.DMemory.AsSpan(at, k), $"{name} dMemory[{b}, {s}] (masked)");
                }
            }
            Assert.True(masked > 0 || c.Lengths.Length == 0);
        }
    }

    [Fact] public void Backward_dot() => CheckBackward<AttDot4>();
    [Fact] public void Backward_general_input_not_query() => CheckBackward<AttGeneral3x5x4>();
    [Fact] public void Backward_general() => CheckBackward<AttGeneral4x4x6>();
    [Fact] public void Backward_additive() => CheckBackward<AttAdditive5x5x3x6>();
    [Fact] public void Backward_additive_input_not_query() => CheckBackward<AttAdditive2x4x5x3>();

    /// <summary>
    /// Luong position: the query is the input (one span) and dQuery is dInput (one span). The forward gives the
    /// same bits as with two equal copies, and the shared gradient the same bits as the separate case whose
    /// dQuery starts from the pass-through (the aliased call adds into exactly that).
    /// </summary>
    private static void CheckAliased<TSpec>() where TSpec : struct, IAttentionSpec
    {
        Assert.Equal(TSpec.InputSize, TSpec.QuerySize);
        int inF = TSpec.InputSize, outF = AttentionKernel<TSpec>.OutputSize;
        foreach (Case c in Cases)
        {
            string name = $"{typeof(TSpec).Name} rows/seq {c.RowsPerSequence}";
            Data d = MakeData<TSpec>(c, 40);
            float[] shared = (float[])d.Query.Clone();
            Data separate = new() { Parameters = d.Parameters, Input = (float[])shared.Clone(), Query = (float[])shared.Clone(), Memory = d.Memory, Keys = d.Keys };
            (float[] weights, float[] output, float[] record) = RunForward<TSpec, RecordCache>(separate, c);
            (float[] aliasedWeights, float[] aliasedOutput, float[] aliasedRecord) = RunForward<TSpec, RecordCache>(d, c, shared, shared);
            TestHelpers.AssertBitEqual(output, aliasedOutput, $"{name} aliased output");
            TestHelpers.AssertBitEqual(weights, aliasedWeights, $"{name} aliased weights");
            TestHelpers.AssertBitEqual(record, aliasedRecord, $"{name} aliased record");

            float[] g = ModuleTestSupport.Uniform(c.Rows * outF, 41);
            float[] dMemory0 = ModuleTestSupport.Uniform(d.Memory.Length, 42), dParameters0 = ModuleTestSupport.Uniform(d.Parameters.Length, 43);
            var passThrough = new float[c.Rows * inF];
            for (int r = 0; r < c.Rows; r++) g.AsSpan(r * outF, inF).CopyTo(passThrough.AsSpan(r * inF));
            Gradients expected = RunBackward<TSpec>(separate, c, record, weights, g, passThrough, dMemory0, dParameters0);

            float[] dShared = new float[c.Rows * inF], dMemory = (float[])dMemory0.Clone(), dParameters = (float[])dParameters0.Clone();
            dShared.AsSpan().Fill(float.NaN);
            var scratch = new float[AttentionKernel<TSpec>.ScratchLength(c.SourceSteps)];
            AttentionKernel<TSpec>.Backward(d.Parameters, shared, c.Rows, c.RowsPerSequence, d.Memory, d.Keys, c.Lengths, c.SourceSteps,
                aliasedWeights, aliasedRecord, g, dShared, dShared, dMemory, dParameters, scratch);
            TestHelpers.AssertBitEqual(expected.DQuery, dShared, $"{name} aliased dInput = dQuery");
            TestHelpers.AssertBitEqual(expected.DMemory, dMemory, $"{name} aliased dMemory");
            TestHelpers.AssertBitEqual(expected.DParameters, dParameters, $"{name} aliased dParameters");
        }
    }

    [Fact] public void Aliased_query_and_input_dot() => CheckAliased<AttDot4>();
    [Fact] public void Aliased_query_and_input_general() => CheckAliased<AttGeneral4x4x6>();
    [Fact] public void Aliased_query_and_input_additive() => CheckAliased<AttAdditive5x5x3x6>();

    [Fact]
    public void Sizes_follow_the_score()
    {
        Assert.Equal(0, AttentionKernel<AttDot4>.ParameterLength);
        Assert.Equal(5 * 4, AttentionKernel<AttGeneral3x5x4>.ParameterLength);
        Assert.Equal(6 * 5 + 6 + 6 * 3 + 6 + 6 + 1, AttentionKernel<AttAdditive5x5x3x6>.ParameterLength);
        Assert.Equal(3 + 4, AttentionKernel<AttGeneral3x5x4>.OutputSize);
        Assert.Equal(0, AttentionKernel<AttDot4>.KeysLength(3, 7));
        Assert.Equal(3 * 7 * 5, AttentionKernel<AttGeneral3x5x4>.KeysLength(3, 7));
        Assert.Equal(3 * 7 * 6, AttentionKernel<AttAdditive5x5x3x6>.KeysLength(3, 7));
        Assert.Equal(0, AttentionKernel<AttGeneral3x5x4>.RecordLength(4, 7));
        Assert.Equal(4 * 7 * 6, AttentionKernel<AttAdditive5x5x3x6>.RecordLength(4, 7));
    }

    [Fact]
    public void Initialize_draws_each_linear_from_its_pytorch_bound()
    {
        var p = new float[AttentionKernel<AttAdditive5x5x3x6>.ParameterLength];
        var random = new SplitMix64(7);
        AttentionKernel<AttAdditive5x5x3x6>.Initialize(p, ref random);
        // Wa (in = Q = 5): weight 30 + bias 6; Ua (in = K = 3): 18 + 6; Va (in = A = 6): 6 + 1.
        (int Start, int Length, int In)[] tensors = [(0, 36, 5), (36, 24, 3), (60, 7, 6)];
        foreach ((int start, int length, int inF) in tensors)
        {
            float bound = 1f / MathF.Sqrt(inF);
            float[] values = p.AsSpan(start, length).ToArray();
            Assert.All(values, v => Assert.InRange(v, -bound, bound));
            Assert.True(values.Max() - values.Min() > bound, $"tensor at {start} spans [{values.Min()}, {values.Max()}], bound {bound}");
        }
        // Wa's tensors are tighter than Ua's: the Q bound (0.447) is below the K bound (0.577) and some Ua value exceeds it.
        Assert.Contains(p.AsSpan(36, 24).ToArray(), v => Math.Abs(v) > 1 / MathF.Sqrt(5));

        var g = new float[AttentionKernel<AttGeneral3x5x4>.ParameterLength];
        AttentionKernel<AttGeneral3x5x4>.Initialize(g, ref random);
        Assert.All(g, v => Assert.InRange(v, -0.5f, 0.5f));   // 1/√K, K = 4
        AttentionKernel<AttDot4>.Initialize([], ref random);
    }

    [Fact]
    public void Wrong_arguments_throw_naming_the_argument_before_writing()
    {
        Case c = Teacher;
        Data d = MakeData<AttAdditive5x5x3x6>(c, 50);
        int ts = c.SourceSteps, rows = c.Rows, outF = AttentionKernel<AttAdditive5x5x3x6>.OutputSize;
        var weights = new float[rows * ts];
        var output = new float[rows * outF];
        var record = new float[AttentionKernel<AttAdditive5x5x3x6>.RecordLength(rows, ts)];
        var scratch = new float[AttentionKernel<AttAdditive5x5x3x6>.ScratchLength(ts)];
        weights.AsSpan().Fill(42f);
        output.AsSpan().Fill(42f);
        record.AsSpan().Fill(42f);

        void Forward(float[] parameters, float[] input, int forwardRows, int[] lengths, float[] keys, float[] rec, float[] scr) =>
            AttentionKernel<AttAdditive5x5x3x6>.Forward<RecordCache>(parameters, input, d.Query, forwardRows, c.RowsPerSequence,
                d.Memory, keys, lengths, ts, weights, output, rec, scr);

        void Expect(string argument, string? expectedLength, Action call)
        {
            ArgumentException e = Assert.ThrowsAny<ArgumentException>(call);
            Assert.Equal(argument, e.ParamName);
            if (expectedLength is not null) Assert.Contains(expectedLength, e.Message);
            Assert.All(weights, v => Assert.Equal(42f, v));
            Assert.All(output, v => Assert.Equal(42f, v));
            Assert.All(record, v => Assert.Equal(42f, v));
        }

        Expect("input", $"{rows * 5}", () => Forward(d.Parameters, new float[rows * 5 - 1], rows, c.Lengths, d.Keys, record, scratch));
        Expect("parameters", $"{d.Parameters.Length}", () => Forward(new float[3], d.Input, rows, c.Lengths, d.Keys, record, scratch));
        Expect("rows", "3", () => Forward(d.Parameters, d.Input, rows - 1, c.Lengths, d.Keys, record, scratch));
        Expect("memoryLengths", null, () => Forward(d.Parameters, d.Input, rows, [2, 0], d.Keys, record, scratch));
        Expect("memoryLengths", null, () => Forward(d.Parameters, d.Input, rows, [2, 5], d.Keys, record, scratch));
        Expect("memoryLengths", null, () => Forward(d.Parameters, d.Input, rows, [2], d.Keys, record, scratch));
        Expect("keys", $"{d.Keys.Length}", () => Forward(d.Parameters, d.Input, rows, c.Lengths, new float[d.Keys.Length - 1], record, scratch));
        Expect("record", $"{record.Length}", () => Forward(d.Parameters, d.Input, rows, c.Lengths, d.Keys, new float[record.Length - 1], scratch));
        Expect("scratch", $"{scratch.Length}", () => Forward(d.Parameters, d.Input, rows, c.Lengths, d.Keys, record, new float[scratch.Length - 1]));
        Expect("weights", $"{rows * ts}", () => AttentionKernel<AttAdditive5x5x3x6>.Forward<NoCache>(d.Parameters, d.Input, d.Query, rows,
            c.RowsPerSequence, d.Memory, d.Keys, c.Lengths, ts, new float[rows * ts - 1], output, default, scratch));
        Expect("output", $"{rows * outF}", () => AttentionKernel<AttAdditive5x5x3x6>.Forward<NoCache>(d.Parameters, d.Input, d.Query, rows,
            c.RowsPerSequence, d.Memory, d.Keys, c.Lengths, ts, weights, new float[rows * outF - 1], default, scratch));
        Expect("keys", null, () => AttentionKernel<AttAdditive5x5x3x6>.ProjectKeys(d.Parameters, d.Memory, c.Batch, ts, record.AsSpan(0, d.Keys.Length - 1)));

        // Backward: nothing written when a gradient span is wrong.
        float[] dInput = new float[rows * 5], dQuery = new float[rows * 5], dMemory = new float[d.Memory.Length], dParameters = new float[d.Parameters.Length];
        foreach (float[] a in new[] { dInput, dQuery, dMemory, dParameters }) a.AsSpan().Fill(42f);
        var g = new float[rows * outF];
        void Backward(float[] rec, float[] dIn, float[] dQ, float[] dM, float[] dP) =>
            AttentionKernel<AttAdditive5x5x3x6>.Backward(d.Parameters, d.Query, rows, c.RowsPerSequence, d.Memory, d.Keys, c.Lengths, ts,
                weights, rec, g, dIn, dQ, dM, dP, scratch);
        void ExpectBackward(string argument, string expectedLength, Action call)
        {
            ArgumentException e = Assert.ThrowsAny<ArgumentException>(call);
            Assert.Equal(argument, e.ParamName);
            Assert.Contains(expectedLength, e.Message);
            foreach (float[] a in new[] { dInput, dQuery, dMemory, dParameters }) Assert.All(a, v => Assert.Equal(42f, v));
        }
        ExpectBackward("dParameters", $"{dParameters.Length}", () => Backward(record, dInput, dQuery, dMemory, new float[dParameters.Length + 1]));
        ExpectBackward("dMemory", $"{dMemory.Length}", () => Backward(record, dInput, dQuery, new float[dMemory.Length - 1], dParameters));
        ExpectBackward("dQuery", $"{dQuery.Length}", () => Backward(record, dInput, new float[dQuery.Length - 1], dMemory, dParameters));
        ExpectBackward("dInput", $"{dInput.Length}", () => Backward(record, new float[dInput.Length - 1], dQuery, dMemory, dParameters));
        ExpectBackward("record", $"{record.Length}", () => Backward([], dInput, dQuery, dMemory, dParameters));
    }

    [Fact]
    public void Warm_calls_allocate_nothing()
    {
        AssertNoAllocation<AttAdditive5x5x3x6>();
        AssertNoAllocation<AttGeneral3x5x4>();
        AssertNoAllocation<AttDot4>();
    }

    private static void AssertNoAllocation<TSpec>() where TSpec : struct, IAttentionSpec
    {
        Case c = Teacher;
        Data d = MakeData<TSpec>(c, 60);
        int ts = c.SourceSteps;
        var weights = new float[c.Rows * ts];
        var output = new float[c.Rows * AttentionKernel<TSpec>.OutputSize];
        var record = new float[AttentionKernel<TSpec>.RecordLength(c.Rows, ts)];
        var scratch = new float[AttentionKernel<TSpec>.ScratchLength(ts)];
        float[] dInput = new float[d.Input.Length], dQuery = new float[d.Query.Length], dMemory = new float[d.Memory.Length], dParameters = new float[d.Parameters.Length];
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => AttentionKernel<TSpec>.ProjectKeys(d.Parameters, d.Memory, c.Batch, ts, d.Keys)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => AttentionKernel<TSpec>.Forward<RecordCache>(d.Parameters, d.Input, d.Query,
            c.Rows, c.RowsPerSequence, d.Memory, d.Keys, c.Lengths, ts, weights, output, record, scratch)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => AttentionKernel<TSpec>.Forward<NoCache>(d.Parameters, d.Input, d.Query,
            c.Rows, c.RowsPerSequence, d.Memory, d.Keys, c.Lengths, ts, weights, output, default, scratch)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => AttentionKernel<TSpec>.Backward(d.Parameters, d.Query, c.Rows, c.RowsPerSequence,
            d.Memory, d.Keys, c.Lengths, ts, weights, record, output, dInput, dQuery, dMemory, dParameters, scratch)));
    }
}
