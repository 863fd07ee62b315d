using ModelGen.Kernels;
using Xunit.Abstractions;
using Xunit.Sdk;
using static ModelGen.Tests.AllocationMeasurement;

namespace ModelGen.Tests;

// The stacks the kernel tests run: every cell, one and two directions, two layers (three for one of them, so that
// both ping-pong sequences are used), with and without biases and projection. Hidden sizes that are not a multiple
// of the vector width (4 or 8 lanes), and one above 8, so that padding and several blocks are both exercised.
internal struct KernelLstmProj : IRecurrentModelSpec
{
    public static CellKind Cell => CellKind.Lstm;
    public static int InputSize => 3;
    public static int HiddenSize => 9;
    public static int NumLayers => 2;
    public static bool Bias => true;
    public static bool Bidirectional => false;
    public static int ProjSize => 4;
    public static RnnNonlinearity Nonlinearity => RnnNonlinearity.Tanh;
    public static int OutputSize => 0;
}

internal struct KernelLstmProjBi : IRecurrentModelSpec
{
    public static CellKind Cell => CellKind.Lstm;
    public static int InputSize => 3;
    public static int HiddenSize => 9;
    public static int NumLayers => 2;
    public static bool Bias => true;
    public static bool Bidirectional => true;
    public static int ProjSize => 4;
    public static RnnNonlinearity Nonlinearity => RnnNonlinearity.Tanh;
    public static int OutputSize => 0;
}

internal struct KernelLstmBiNoBias : IRecurrentModelSpec
{
    public static CellKind Cell => CellKind.Lstm;
    public static int InputSize => 2;
    public static int HiddenSize => 5;
    public static int NumLayers => 2;
    public static bool Bias => false;
    public static bool Bidirectional => true;
    public static int ProjSize => 0;
    public static RnnNonlinearity Nonlinearity => RnnNonlinearity.Tanh;
    public static int OutputSize => 0;
}

internal struct KernelGru : IRecurrentModelSpec
{
    public static CellKind Cell => CellKind.Gru;
    public static int InputSize => 3;
    public static int HiddenSize => 6;
    public static int NumLayers => 2;
    public static bool Bias => true;
    public static bool Bidirectional => false;
    public static int ProjSize => 0;
    public static RnnNonlinearity Nonlinearity => RnnNonlinearity.Tanh;
    public static int OutputSize => 0;
}

internal struct KernelGruBi3 : IRecurrentModelSpec
{
    public static CellKind Cell => CellKind.Gru;
    public static int InputSize => 3;
    public static int HiddenSize => 6;
    public static int NumLayers => 3;
    public static bool Bias => true;
    public static bool Bidirectional => true;
    public static int ProjSize => 0;
    public static RnnNonlinearity Nonlinearity => RnnNonlinearity.Tanh;
    public static int OutputSize => 0;
}

internal struct KernelRnnRelu : IRecurrentModelSpec
{
    public static CellKind Cell => CellKind.Rnn;
    public static int InputSize => 3;
    public static int HiddenSize => 7;
    public static int NumLayers => 2;
    public static bool Bias => true;
    public static bool Bidirectional => false;
    public static int ProjSize => 0;
    public static RnnNonlinearity Nonlinearity => RnnNonlinearity.Relu;
    public static int OutputSize => 0;
}

internal struct KernelRnnReluBi : IRecurrentModelSpec
{
    public static CellKind Cell => CellKind.Rnn;
    public static int InputSize => 3;
    public static int HiddenSize => 7;
    public static int NumLayers => 2;
    public static bool Bias => true;
    public static bool Bidirectional => true;
    public static int ProjSize => 0;
    public static RnnNonlinearity Nonlinearity => RnnNonlinearity.Relu;
    public static int OutputSize => 0;
}

/// <summary>
/// <see cref="RecurrentKernel{TSpec}"/>, the whole recurrent module of a graph: packed-sequence lengths against
/// rows run alone, gradients (of the output and of the final state) against central finite differences, and
/// allocation-free warm calls. Every arena is allocated with exactly <see cref="RecurrentKernel{TSpec}.ArenaLength"/>
/// floats, so a buffer the layout forgot fails as an out-of-range slice.
/// </summary>
public class RecurrentKernelTests(ITestOutputHelper output)
{
    public static TheoryData<string> Stacks => [.. Harness.All.Keys];

    // ---- (a) lengths ----

    [Theory]
    [MemberData(nameof(Stacks))]
    public void A_batch_with_lengths_equals_each_row_run_alone_on_its_truncated_sequence(string stack) =>
        Harness.All[stack].LengthsMatchRowsAlone();

    [Theory]
    [MemberData(nameof(Stacks))]
    public void The_training_forward_computes_what_the_inference_forward_does(string stack) =>
        Harness.All[stack].TrainingForwardMatchesInference();

    [Fact]
    public void Lengths_of_T_for_every_row_are_the_same_as_no_lengths_and_hN_may_be_h0_itself() =>
        new Harness<KernelLstmProjBi>().FullLengthsAndAliasedState();

    // ---- (b) gradients ----

    [Theory]
    [MemberData(nameof(Stacks))]
    public void Backward_matches_central_finite_differences(string stack)
    {
        FdStatistics total = default;
        foreach (bool withLengths in new[] { false, true })
        {
            foreach (bool withOutputGradient in new[] { true, false })
            {
                total = total.Add(Harness.All[stack].CheckGradients(withLengths, withOutputGradient));
            }
        }
        output.WriteLine($"{stack}: {total.Checked} coordinates, {total.Usable} usable, {total.Significant} with |fd| > " +
            $"{FdStatistics.AbsoluteTolerance}, largest |fd − analytic| / tolerance {total.WorstRatio:F3}");
        Assert.True(total.Usable >= 0.8 * total.Checked, $"only {total.Usable} of {total.Checked} coordinates had a stable finite difference.");
        Assert.True(total.Significant >= 0.5 * total.Usable, $"only {total.Significant} of {total.Usable} coordinates had a gradient above the absolute tolerance.");
    }

    [Fact]
    public void Backward_without_a_recorded_forward_is_rejected()
    {
        var h = new Harness<KernelGru>();
        var arena = new float[RecurrentKernel<KernelGru>.ArenaLength(h.Batch, h.Steps, training: true)];
        float[] input = new float[h.Batch * h.Steps * KernelGru.InputSize];
        var gradients = new float[RecurrentKernel<KernelGru>.ParameterLength];
        Assert.Throws<InvalidOperationException>(() => RecurrentKernel<KernelGru>.Backward(h.Parameters, gradients, input, default,
            h.Batch, h.Steps, default, default, default, default, default, default, default, default, arena));

        // A record of another batch size is no record of this one.
        h.RecordForward(input, lengths: [], arena: arena.AsSpan(), out _, out _, out _);
        var other = new float[RecurrentKernel<KernelGru>.ArenaLength(h.Batch - 1, h.Steps, training: true)];
        arena.AsSpan(0, other.Length).CopyTo(other);
        Assert.Throws<InvalidOperationException>(() => RecurrentKernel<KernelGru>.Backward(h.Parameters, gradients,
            input.AsSpan(0, (h.Batch - 1) * h.Steps * KernelGru.InputSize), default, h.Batch - 1, h.Steps, default, default,
            default, default, default, default, default, default, other));
    }

    [Fact]
    public void Wrong_lengths_of_spans_are_rejected_before_anything_runs()
    {
        var h = new Harness<KernelLstmProjBi>();
        var arena = new float[RecurrentKernel<KernelLstmProjBi>.ArenaLength(h.Batch, h.Steps, training: false)];
        var input = new float[h.Batch * h.Steps * KernelLstmProjBi.InputSize];
        var outputs = new float[h.Batch * h.Steps * h.Features];
        void Run(float[] arenaArg, float[] inputArg, float[] outputArg, int[] lengths, float[] h0, float[] c0)
        {
            SplitMix64 random = default;
            RecurrentKernel<KernelLstmProjBi>.Forward<NoCache>(h.Packed, inputArg, lengths, h.Batch, h.Steps, outputArg, h0, c0,
                default, default, arenaArg, 0, ref random);
        }
        Run(arena, input, outputs, [], [], []);
        Assert.Equal("arena", Assert.Throws<ArgumentException>(() => Run(arena[..^1], input, outputs, [], [], [])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => Run(arena, input[..^1], outputs, [], [], [])).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Run(arena, input, outputs[..^1], [], [], [])).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Run(arena, input, [], [], [], [])).ParamName);
        Assert.Equal("lengths", Assert.Throws<ArgumentException>(() => Run(arena, input, outputs, [1, 2], [], [])).ParamName);
        Assert.Equal("h0", Assert.Throws<ArgumentException>(() => Run(arena, input, outputs, [], new float[3], [])).ParamName);
        Assert.Equal("c0", Assert.Throws<ArgumentException>(() => Run(arena, input, outputs, [], [], new float[3])).ParamName);
    }

    // ---- (c) allocations ----

    [Theory]
    [InlineData("lstm_proj_bi")]
    [InlineData("gru_bi_3")]
    [InlineData("rnn_relu")]
    public void Warm_forward_and_backward_calls_allocate_nothing(string stack)
    {
        var failures = new List<string>();
        foreach ((string call, Action action) in Harness.All[stack].Calls())
        {
            long bytes = WarmAllocations(action);
            if (bytes != 0) failures.Add($"{call}: {bytes} bytes");
        }
        Assert.True(failures.Count == 0, $"{stack} allocated on warm calls: {string.Join("; ", failures)}");
    }
}

/// <summary>How many coordinates a gradient check compared, and how close the worst came to its tolerance.</summary>
internal struct FdStatistics
{
    /// <summary>
    /// |fd − analytic| ≤ 2e-3 + 2e-2·|analytic|, as in the generator's FiniteDifferenceTests and for the same
    /// reasons. Here the loss L = Σ out·w + Σ hN·u + Σ cN·v has up to ~270 float32 terms of magnitude ≤ 1, each
    /// within a few ulps (≈ 1e-7) of its exact value, so L carries rounding noise of about √270·1e-7 ≈ 2e-6;
    /// through the quotient (divided by 2ε = 2e-2, two evaluations) that is ≈ 1.5e-4, an order of magnitude inside
    /// the absolute term. The truncation error ε²/6·|L'''| ≈ 1.7e-5·|L'''| stays below it for L''' up to ~100
    /// (these are sums of bounded tanh/σ compositions of weights ±1/√H). Errors Backward can make — a missed
    /// final-state gradient, a padded step that leaks, a reverse direction started at T − 1 — are of the size of
    /// the gradient and exceed the relative term. Coordinates whose difference quotients at ε and ε/2 disagree by
    /// more than a quarter of the tolerance sit on a kink (ReLU) and are skipped; the test reads the inference
    /// path only, so a wrong Backward cannot hide behind it.
    /// </summary>
    public const double Epsilon = 1e-2, AbsoluteTolerance = 2e-3, RelativeTolerance = 2e-2;

    public int Checked, Usable, Significant;
    public double WorstRatio;

    public readonly FdStatistics Add(FdStatistics other) => new()
    {
        Checked = Checked + other.Checked,
        Usable = Usable + other.Usable,
        Significant = Significant + other.Significant,
        WorstRatio = Math.Max(WorstRatio, other.WorstRatio),
    };
}

/// <summary>The stacks of the tests by name, behind a non-generic face.</summary>
internal abstract class Harness
{
    public static readonly Dictionary<string, Harness> All = new(StringComparer.Ordinal)
    {
        ["lstm_proj"] = new Harness<KernelLstmProj>(),
        ["lstm_proj_bi"] = new Harness<KernelLstmProjBi>(),
        ["lstm_bi_no_bias"] = new Harness<KernelLstmBiNoBias>(),
        ["gru"] = new Harness<KernelGru>(),
        ["gru_bi_3"] = new Harness<KernelGruBi3>(),
        ["rnn_relu"] = new Harness<KernelRnnRelu>(),
        ["rnn_relu_bi"] = new Harness<KernelRnnReluBi>(),
    };

    public abstract void LengthsMatchRowsAlone();
    public abstract void TrainingForwardMatchesInference();
    public abstract FdStatistics CheckGradients(bool withLengths, bool withOutputGradient);
    public abstract IEnumerable<(string Name, Action Call)> Calls();
}

/// <summary>Seeded parameters, data and buffers of one stack, and the checks on it.</summary>
internal sealed class Harness<TSpec> : Harness where TSpec : struct, IRecurrentModelSpec
{
    // More rows than the 4 that RowProduct's micro-kernel groups, and not a multiple of them.
    public readonly int Batch = 6, Steps = 5;
    // Row lengths of the ragged batch: full rows, a one-step row and others in between, so that the rows of a
    // step come in several runs.
    public readonly int[] Lengths = [5, 2, 1, 4, 5, 3];

    public static readonly bool Lstm = TSpec.Cell == CellKind.Lstm;
    public static readonly int Directions = TSpec.Bidirectional ? 2 : 1, LayerDirections = TSpec.NumLayers * Directions;
    public static readonly int Hout = TSpec.ProjSize > 0 ? TSpec.ProjSize : TSpec.HiddenSize;
    public readonly int Features = Directions * Hout;

    public readonly float[] Parameters = new float[RecurrentKernel<TSpec>.ParameterLength];
    public readonly float[] Packed = new float[RecurrentKernel<TSpec>.PackedLength];

    public Harness()
    {
        // PyTorch's default: every recurrent tensor uniform in ±1/√H.
        var random = new SplitMix64(17);
        float bound = 1f / MathF.Sqrt(TSpec.HiddenSize);
        for (int i = 0; i < Parameters.Length; i++) Parameters[i] = random.NextUniform(-bound, bound);
        RecurrentKernel<TSpec>.Pack(Parameters, Packed);
    }

    private int HLength(int batch) => LayerDirections * batch * Hout;

    private int CLength(int batch) => Lstm ? LayerDirections * batch * TSpec.HiddenSize : 0;

    /// <summary>A NoCache forward with an arena of exactly the documented length.</summary>
    public float[] Forward(ReadOnlySpan<float> input, ReadOnlySpan<int> lengths, int batch, int steps, ReadOnlySpan<float> h0,
        ReadOnlySpan<float> c0, out float[] hN, out float[] cN)
    {
        var result = new float[batch * steps * Features];
        result.AsSpan().Fill(123f);   // every element must be written, the padded ones with zero
        hN = new float[HLength(batch)];
        cN = new float[CLength(batch)];
        var arena = new float[RecurrentKernel<TSpec>.ArenaLength(batch, steps, training: false)];
        arena.AsSpan().Fill(float.NaN);   // nothing may be read before it is written
        SplitMix64 random = default;
        RecurrentKernel<TSpec>.Forward<NoCache>(Packed, input, lengths, batch, steps, result, h0, c0, hN, cN, arena, 0f, ref random);
        return result;
    }

    /// <summary>A RecordCache forward (no dropout) into <paramref name="arena"/>.</summary>
    public void RecordForward(ReadOnlySpan<float> input, ReadOnlySpan<int> lengths, Span<float> arena, out float[] result,
        out float[] hN, out float[] cN, ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default)
    {
        result = new float[Batch * Steps * Features];
        hN = new float[HLength(Batch)];
        cN = new float[CLength(Batch)];
        SplitMix64 random = default;
        RecurrentKernel<TSpec>.Forward<RecordCache>(Packed, input, lengths, Batch, Steps, result, h0, c0, hN, cN, arena, 0f, ref random);
    }

    private (float[] Input, float[] H0, float[] C0) Data(int seed)
    {
        float[] input = TestHelpers.RandomValues(Batch * Steps * TSpec.InputSize, seed);
        float[] h0 = TestHelpers.RandomValues(HLength(Batch), seed + 1);
        float[] c0 = TestHelpers.RandomValues(CLength(Batch), seed + 2);
        for (int i = 0; i < h0.Length; i++) h0[i] *= 0.5f;
        for (int i = 0; i < c0.Length; i++) c0[i] *= 0.5f;
        return (input, h0, c0);
    }

    public override void LengthsMatchRowsAlone()
    {
        // The padded steps of the input hold values too: a kernel that read them would change the result.
        (float[] input, float[] h0, float[] c0) = Data(seed: 40);
        float[] batched = Forward(input, Lengths, Batch, Steps, h0, c0, out float[] hN, out float[] cN);
        int hRow = Hout, cRow = TSpec.HiddenSize;
        for (int b = 0; b < Batch; b++)
        {
            int length = Lengths[b];
            float[] rowInput = input.AsSpan(b * Steps * TSpec.InputSize, length * TSpec.InputSize).ToArray();
            var rowH0 = new float[HLength(1)];
            var rowC0 = new float[CLength(1)];
            for (int index = 0; index < LayerDirections; index++)
            {
                h0.AsSpan((index * Batch + b) * hRow, hRow).CopyTo(rowH0.AsSpan(index * hRow));
                if (Lstm) c0.AsSpan((index * Batch + b) * cRow, cRow).CopyTo(rowC0.AsSpan(index * cRow));
            }
            float[] alone = Forward(rowInput, [], 1, length, rowH0, rowC0, out float[] rowHN, out float[] rowCN);

            string row = $"{typeof(TSpec).Name} row {b} (length {length})";
            TestHelpers.AssertBitEqual(alone, batched.AsSpan(b * Steps * Features, length * Features), $"{row}: output");
            Assert.All(batched.AsSpan((b * Steps + length) * Features, (Steps - length) * Features).ToArray(), value => Assert.Equal(0f, value));
            for (int index = 0; index < LayerDirections; index++)
            {
                TestHelpers.AssertBitEqual(rowHN.AsSpan(index * hRow, hRow), hN.AsSpan((index * Batch + b) * hRow, hRow), $"{row}: h_n[{index}]");
                if (Lstm) TestHelpers.AssertBitEqual(rowCN.AsSpan(index * cRow, cRow), cN.AsSpan((index * Batch + b) * cRow, cRow), $"{row}: c_n[{index}]");
            }
        }
    }

    public override void TrainingForwardMatchesInference()
    {
        (float[] input, float[] h0, float[] c0) = Data(seed: 50);
        foreach (int[] lengths in new[] { Array.Empty<int>(), Lengths })
        {
            float[] inference = Forward(input, lengths, Batch, Steps, h0, c0, out float[] hN, out float[] cN);
            var arena = new float[RecurrentKernel<TSpec>.ArenaLength(Batch, Steps, training: true)];
            arena.AsSpan().Fill(float.NaN);
            RecordForward(input, lengths, arena, out float[] trained, out float[] trainedHN, out float[] trainedCN, h0, c0);
            TestHelpers.AssertBitEqual(inference, trained, "output");
            TestHelpers.AssertBitEqual(hN, trainedHN, "h_n");
            TestHelpers.AssertBitEqual(cN, trainedCN, "c_n");
        }
    }

    public void FullLengthsAndAliasedState()
    {
        (float[] input, float[] h0, float[] c0) = Data(seed: 60);
        float[] plain = Forward(input, [], Batch, Steps, h0, c0, out float[] hN, out float[] cN);
        float[] full = Forward(input, Enumerable.Repeat(Steps, Batch).ToArray(), Batch, Steps, h0, c0, out float[] fullHN, out float[] fullCN);
        TestHelpers.AssertBitEqual(plain, full, "output");
        TestHelpers.AssertBitEqual(hN, fullHN, "h_n");
        TestHelpers.AssertBitEqual(cN, fullCN, "c_n");

        // hN = h0 and cN = c0, the very same spans, with lengths: streaming's contract.
        float[] ragged = Forward(input, Lengths, Batch, Steps, h0, c0, out float[] raggedHN, out float[] raggedCN);
        float[] state = (float[])h0.Clone(), cell = (float[])c0.Clone();
        var aliased = new float[ragged.Length];
        var arena = new float[RecurrentKernel<TSpec>.ArenaLength(Batch, Steps, training: false)];
        SplitMix64 random = default;
        RecurrentKernel<TSpec>.Forward<NoCache>(Packed, input, Lengths, Batch, Steps, aliased, state, cell, state, cell, arena, 0f, ref random);
        TestHelpers.AssertBitEqual(ragged, aliased, "output with hN = h0");
        TestHelpers.AssertBitEqual(raggedHN, state, "h_n written over h0");
        TestHelpers.AssertBitEqual(raggedCN, cell, "c_n written over c0");
    }

    // The data of the running gradient check, which the kink test perturbs along with the loss.
    private float[] _fdInput = [], _fdH0 = [], _fdC0 = [], _fdPacked = [];
    private int[] _fdLengths = [];

    public override FdStatistics CheckGradients(bool withLengths, bool withOutputGradient)
    {
        (float[] input, float[] h0, float[] c0) = Data(seed: withLengths ? 70 : 80);
        int[] lengths = withLengths ? Lengths : [];
        float[] w = withOutputGradient ? TestHelpers.RandomValues(Batch * Steps * Features, 90) : [];
        float[] u = TestHelpers.RandomValues(HLength(Batch), 91);
        float[] v = TestHelpers.RandomValues(CLength(Batch), 92);
        float[] parameters = (float[])Parameters.Clone();
        var packed = new float[Packed.Length];
        RecurrentKernel<TSpec>.Pack(parameters, packed);
        (_fdInput, _fdH0, _fdC0, _fdPacked, _fdLengths) = (input, h0, c0, packed, lengths);

        // Analytic: dL/d(output) = w, dL/dh_n = u, dL/dc_n = v.
        var arena = new float[RecurrentKernel<TSpec>.ArenaLength(Batch, Steps, training: true)];
        var result = new float[Batch * Steps * Features];
        var hN = new float[u.Length];
        var cN = new float[v.Length];
        SplitMix64 random = default;
        RecurrentKernel<TSpec>.Forward<RecordCache>(packed, input, lengths, Batch, Steps, result, h0, c0, hN, cN, arena, 0f, ref random);
        var gradients = new float[parameters.Length];
        var dInput = new float[input.Length];
        var dH0 = new float[h0.Length];
        var dC0 = new float[c0.Length];
        dInput.AsSpan().Fill(7f);   // overwritten, not accumulated
        RecurrentKernel<TSpec>.Backward(parameters, gradients, input, lengths, Batch, Steps, h0, c0, w, u, v, dInput, dH0, dC0, arena);

        var inferenceArena = new float[RecurrentKernel<TSpec>.ArenaLength(Batch, Steps, training: false)];
        double Loss()
        {
            SplitMix64 unused = default;
            RecurrentKernel<TSpec>.Forward<NoCache>(packed, input, lengths, Batch, Steps, result, h0, c0, hN, cN, inferenceArena, 0f, ref unused);
            double sum = 0;
            for (int i = 0; i < w.Length; i++) sum += (double)result[i] * w[i];
            for (int i = 0; i < u.Length; i++) sum += (double)hN[i] * u[i];
            for (int i = 0; i < v.Length; i++) sum += (double)cN[i] * v[i];
            return sum;
        }

        var statistics = new FdStatistics();
        var mismatches = new List<string>();
        void Compare(string what, double analytic, float value, Action<float> set)
        {
            double fd = Central(Loss, set, value, FdStatistics.Epsilon);
            double fdHalf = Central(Loss, set, value, FdStatistics.Epsilon / 2);
            double tolerance = FdStatistics.AbsoluteTolerance + FdStatistics.RelativeTolerance * Math.Abs(analytic);
            statistics.Checked++;
            if (!(Math.Abs(fd - fdHalf) <= tolerance / 4)) return;   // a kink within ε
            if (Relu && CrossesKink(set, value)) return;             // a ReLU kink too close to x for the test above
            statistics.Usable++;
            if (Math.Abs(fd) > FdStatistics.AbsoluteTolerance) statistics.Significant++;
            double ratio = Math.Abs(fd - analytic) / tolerance;
            statistics.WorstRatio = Math.Max(statistics.WorstRatio, double.IsNaN(ratio) ? double.PositiveInfinity : ratio);
            if (!(ratio <= 1)) mismatches.Add($"d/d {what}: analytic {analytic:G6}, finite difference {fd:G6} (ε/2: {fdHalf:G6})");
        }

        for (int i = 0; i < parameters.Length; i++)
        {
            int index = i;
            Compare($"parameter[{index}]", gradients[index], parameters[index], value =>
            {
                parameters[index] = value;
                RecurrentKernel<TSpec>.Pack(parameters, packed);
            });
        }
        for (int i = 0; i < input.Length; i++)
        {
            int index = i, b = i / (Steps * TSpec.InputSize), t = i / TSpec.InputSize % Steps;
            if (withLengths && t >= Lengths[b] && dInput[index] != 0) mismatches.Add($"dInput[{index}] at a padded step is {dInput[index]}, not 0");
            Compare($"input[{index}]", dInput[index], input[index], value => input[index] = value);
        }
        for (int i = 0; i < h0.Length; i++)
        {
            int index = i;
            Compare($"h0[{index}]", dH0[index], h0[index], value => h0[index] = value);
        }
        for (int i = 0; i < c0.Length; i++)
        {
            int index = i;
            Compare($"c0[{index}]", dC0[index], c0[index], value => c0[index] = value);
        }
        if (mismatches.Count > 0)
        {
            throw new XunitException(
                $"{typeof(TSpec).Name} (lengths: {withLengths}, dL/d(output): {withOutputGradient}): {mismatches.Count} gradients disagree with finite differences:\n  " +
                string.Join("\n  ", mismatches.Take(12)));
        }
        return statistics;
    }

    private static readonly bool Relu = TSpec.Nonlinearity == RnnNonlinearity.Relu;
    private float[]? _patternArena;

    /// <summary>
    /// Whether some ReLU unit of some layer switches between x − ε and x + ε. The ε-versus-ε/2 test misses a kink
    /// much closer to x than ε/2 (both quotients then average the slopes on its two sides), so for ReLU stacks
    /// the sign pattern of every layer's recorded output (h = relu(z): zero exactly where z ≤ 0) is compared at
    /// the two ends and the middle. Only the forward is read.
    /// </summary>
    private bool CrossesKink(Action<float> set, float value)
    {
        float plus = (float)(value + FdStatistics.Epsilon), minus = (float)(value - FdStatistics.Epsilon);
        bool[] middle = Pattern(), ends;
        set(plus);
        ends = Pattern();
        bool crosses = !ends.AsSpan().SequenceEqual(middle);
        set(minus);
        ends = Pattern();
        crosses |= !ends.AsSpan().SequenceEqual(middle);
        set(value);
        return crosses;
    }

    private bool[] Pattern()
    {
        _patternArena ??= new float[RecurrentKernel<TSpec>.ArenaLength(Batch, Steps, training: true)];
        ReadOnlySpan<float> input = _fdInput, h0 = _fdH0, c0 = _fdC0;
        var result = new float[Batch * Steps * Features];
        SplitMix64 random = default;
        RecurrentKernel<TSpec>.Forward<RecordCache>(_fdPacked, input, _fdLengths, Batch, Steps, result, h0, c0, default, default,
            _patternArena, 0f, ref random);
        var pattern = new bool[TSpec.NumLayers * result.Length];
        for (int layer = 0; layer < TSpec.NumLayers; layer++)
        {
            ReadOnlySpan<float> recorded = RecurrentKernel<TSpec>.RecordedOutput(_patternArena, Batch, Steps, layer);
            for (int i = 0; i < recorded.Length; i++) pattern[layer * result.Length + i] = recorded[i] > 0;
        }
        return pattern;
    }

    /// <summary>(L(x+ε) − L(x−ε)) / (x+ε − (x−ε)), with the step as float32 actually represents it.</summary>
    private static double Central(Func<double> loss, Action<float> set, float value, double epsilon)
    {
        float plus = (float)(value + epsilon), minus = (float)(value - epsilon);
        set(plus);
        double lossPlus = loss();
        set(minus);
        double lossMinus = loss();
        set(value);
        return (lossPlus - lossMinus) / ((double)plus - minus);
    }

    public override IEnumerable<(string Name, Action Call)> Calls()
    {
        (float[] input, float[] h0, float[] c0) = Data(seed: 100);
        int[] lengths = Lengths;
        var result = new float[Batch * Steps * Features];
        var hN = new float[h0.Length];
        var cN = new float[c0.Length];
        var inference = new float[RecurrentKernel<TSpec>.ArenaLength(Batch, Steps, training: false)];
        var training = new float[RecurrentKernel<TSpec>.ArenaLength(Batch, Steps, training: true)];
        var gradients = new float[Parameters.Length];
        float[] dOutput = TestHelpers.RandomValues(result.Length, 101);
        float[] dHN = TestHelpers.RandomValues(hN.Length, 102);
        float[] dCN = TestHelpers.RandomValues(cN.Length, 103);
        var dInput = new float[input.Length];
        var dH0 = new float[h0.Length];
        var dC0 = new float[c0.Length];
        var random = new SplitMix64[] { new(5) };

        yield return ("Forward<NoCache>", () => RecurrentKernel<TSpec>.Forward<NoCache>(Packed, input, default, Batch, Steps, result,
            default, default, default, default, inference, 0f, ref random[0]));
        yield return ("Forward<NoCache> with lengths and states", () => RecurrentKernel<TSpec>.Forward<NoCache>(Packed, input, lengths,
            Batch, Steps, result, h0, c0, hN, cN, inference, 0f, ref random[0]));
        yield return ("Forward<RecordCache> with dropout", () => RecurrentKernel<TSpec>.Forward<RecordCache>(Packed, input, lengths,
            Batch, Steps, result, h0, c0, hN, cN, training, 0.25f, ref random[0]));
        yield return ("Backward", () => RecurrentKernel<TSpec>.Backward(Parameters, gradients, input, lengths, Batch, Steps, h0, c0,
            dOutput, dHN, dCN, dInput, dH0, dC0, training));
        yield return ("Pack", () => RecurrentKernel<TSpec>.Pack(Parameters, Packed));
    }
}
