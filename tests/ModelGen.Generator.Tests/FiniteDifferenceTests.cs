using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using CsCheck;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Property-based gradient check: random small models over every declaration option, compiled in memory with the
/// real generator, whose analytic gradients (Backward after TrainPredictLast, TrainPredictSequence and
/// TrainForward) must agree with central finite differences of the inference path (PredictLast, PredictSequence,
/// Forward). The finite differences never touch Backward, so they are an independent oracle; they are noisy
/// because the inference path is float32, hence the tolerance below.
/// </summary>
/// <remarks>
/// <para>
/// The sweep is deterministic: <see cref="Configurations"/> is drawn <see cref="SweepSize"/> times from a CsCheck
/// PCG with a fixed stream and seed, so every run checks the same models with the same data. When a configuration
/// fails, CsCheck's <c>Sample</c> is started from that configuration's seed and searches for a smaller failing one
/// (it only runs the check on draws of smaller size), and the failure message shows the shrunk configuration with
/// its seed and declaration.
/// </para>
/// <para>
/// Tolerance |fd − analytic| ≤ 2e-3 + 2e-2·|analytic|. The loss L = Σ y·dy is summed in double but y comes from
/// float32 kernels, so L carries an absolute error of about √n·6e-8 (n ≤ 3·4·6 terms of magnitude ≤ 1): divided by
/// 2ε = 2e-2 that is ≈ 1e-5 in the difference quotient. The truncation error of the central difference is
/// ε²/6·|L'''| ≈ 2e-5·|L'''|, and L''' of these tanh/σ compositions stays well below 10 for the weights of the
/// default initialisation. So a correct gradient stays ~10× inside the absolute term (the largest
/// |fd − analytic| / tolerance over the sweep is ≈ 0.17, printed by the test), while the errors Backward can make
/// (a dropped term, a wrong gate, a transposed weight, a missed direction) are of the size of the gradient itself
/// and exceed the relative term.
/// </para>
/// <para>
/// Kinks (ReLU, and the rare pre-activation that sits within ε of zero) make the difference quotient depend on
/// ε. Each coordinate is differenced with ε and ε/2; when the two disagree by more than a quarter of the
/// tolerance the coordinate is skipped. The skip test reads only the inference path, so a wrong Backward cannot
/// hide behind it; and at least 80% of the coordinates must be usable, and at least half of those must have a
/// finite difference above the absolute tolerance, so the test cannot pass vacuously.
/// </para>
/// </remarks>
public class FiniteDifferenceTests(ITestOutputHelper output)
{
    private const int SweepSize = 80;
    private const uint SweepStream = 7;
    private const ulong SweepSeed = 20_250_611;
    private const int ShrinkIterations = 60;

    private const double Epsilon = 1e-2;
    private const double AbsoluteTolerance = 2e-3;
    private const double RelativeTolerance = 2e-2;

    private const int ParameterCoordinates = 20;
    private const int InputCoordinates = 5;
    private const int H0Coordinates = 3;
    private const int C0Coordinates = 3;

    /// <summary>Compiled model types by <see cref="FdConfig.ClassName"/> (the declaration's options).</summary>
    private static readonly ConcurrentDictionary<string, Type> Compiled = new(StringComparer.Ordinal);

    /// <summary>Every option of the attributes, and the batch, sequence length and data seed of the check.</summary>
    internal static readonly Gen<FdConfig> Configurations =
        from cell in Gen.Int[0, 2]
        from inputSize in Gen.Int[1, 4]
        from hiddenSize in Gen.Int[1, 6]
        from numLayers in Gen.Int[1, 3]
        from bias in Gen.Bool
        from bidirectional in Gen.Bool
        from projSize in cell == 0 && hiddenSize > 1
            ? Gen.Bool.SelectMany(projected => projected ? Gen.Int[1, hiddenSize - 1] : Gen.Const(0))
            : Gen.Const(0)
        from relu in cell == 2 ? Gen.Bool : Gen.Const(false)
        from outputSize in Gen.Int[1, 3]
        from batch in Gen.Int[1, 3]
        from steps in Gen.Int[1, 4]
        from dataSeed in Gen.UInt
        select new FdConfig((FdCell)cell, inputSize, hiddenSize, numLayers, bias, bidirectional, projSize, relu,
            outputSize, batch, steps, dataSeed);

    [Fact]
    [Trait("Category", "Gradients")]
    public void Backward_matches_central_finite_differences_for_random_configurations()
    {
        // The deterministic sweep: each case with the CsCheck seed that regenerates it. CsCheck_Seed (the
        // variable CsCheck's failure message names) replaces the sweep by that one case.
        var cases = new List<(FdConfig Config, string Seed)>();
        if (Environment.GetEnvironmentVariable("CsCheck_Seed") is { Length: > 0 } replay)
        {
            cases.Add((Configurations.Generate(PCG.Parse(replay), null, out _), replay));
        }
        else
        {
            var pcg = new PCG(SweepStream, SweepSeed);
            for (int i = 0; i < SweepSize; i++)
            {
                ulong state = pcg.State;
                FdConfig config = Configurations.Generate(pcg, null, out _);
                cases.Add((config, pcg.ToString(state)));
            }
        }
        CompileAll(cases.Select(c => c.Config));

        var total = new FdStatistics();
        var failures = new List<(FdConfig Config, string Seed, Exception Error)>();
        foreach ((FdConfig config, string seed) in cases)
        {
            try
            {
                total.Add(Check(config));
            }
            catch (Exception e)
            {
                failures.Add((config, seed, e));
            }
        }

        output.WriteLine(
            $"{cases.Count} configurations ({cases.Select(c => c.Config.ClassName).Distinct().Count()} distinct models): " +
            $"{total.Checked} coordinates checked, {total.Usable} usable, {total.Significant} with |gradient| > {AbsoluteTolerance}, " +
            $"largest |fd − analytic| / tolerance = {total.WorstRatio:F3}.");
        output.WriteLine(Coverage(cases.Select(c => c.Config)));

        if (failures.Count > 0)
        {
            // Let CsCheck look for a smaller failing configuration, starting from the first failing one; it throws
            // with the smallest it found, its seed, and the mismatches as the inner exception.
            Configurations.Sample(config => Check(config), seed: failures[0].Seed, iter: ShrinkIterations, threads: 1,
                print: config => config.ToString());
            throw new XunitException(
                $"{failures.Count} configurations failed in the sweep, but the first did not fail again when replayed:\n" +
                string.Join("\n\n", failures.Take(3).Select(f => $"{f.Config} (seed \"{f.Seed}\")\n{f.Error.Message}")));
        }

        Assert.True(total.Usable >= 0.8 * total.Checked,
            $"only {total.Usable} of {total.Checked} coordinates had a stable finite difference (need 80%).");
        Assert.True(total.Significant >= 0.5 * total.Usable,
            $"only {total.Significant} of {total.Usable} usable coordinates had |gradient| above {AbsoluteTolerance}: the check is too weak.");
    }

    /// <summary>The sweep must reach every option, else the property says nothing about it.</summary>
    [Fact]
    [Trait("Category", "Gradients")]
    public void The_sweep_covers_every_option()
    {
        var pcg = new PCG(SweepStream, SweepSeed);
        var configs = Enumerable.Range(0, SweepSize).Select(i => Configurations.Generate(pcg, null, out _)).ToList();
        Assert.All(Enum.GetValues<FdCell>(), cell => Assert.Contains(configs, c => c.Cell == cell));
        foreach (int size in new[] { 1, 2, 3, 4 }) Assert.Contains(configs, c => c.InputSize == size);
        foreach (int size in new[] { 1, 2, 3, 4, 5, 6 }) Assert.Contains(configs, c => c.HiddenSize == size);
        foreach (int layers in new[] { 1, 2, 3 }) Assert.Contains(configs, c => c.NumLayers == layers);
        foreach (int outputs in new[] { 1, 2, 3 }) Assert.Contains(configs, c => c.OutputSize == outputs);
        foreach (int batch in new[] { 1, 2, 3 }) Assert.Contains(configs, c => c.Batch == batch);
        foreach (int steps in new[] { 1, 2, 3, 4 }) Assert.Contains(configs, c => c.Steps == steps);
        Assert.Contains(configs, c => c.Bias);
        Assert.Contains(configs, c => !c.Bias);
        Assert.Contains(configs, c => c.Bidirectional);
        Assert.Contains(configs, c => !c.Bidirectional);
        Assert.Contains(configs, c => c.Cell == FdCell.Lstm && c.ProjSize > 0);
        Assert.Contains(configs, c => c.Cell == FdCell.Lstm && c.ProjSize > 0 && c.Bidirectional && c.NumLayers > 1);
        Assert.Contains(configs, c => c.Cell == FdCell.Lstm && c.ProjSize == 0);
        Assert.Contains(configs, c => c.Cell == FdCell.Rnn && c.Relu);
        Assert.Contains(configs, c => c.Cell == FdCell.Rnn && !c.Relu);
    }

    /// <summary>
    /// Checks one configuration in the three modes; returns how many coordinates were checked and usable, and
    /// throws an <see cref="XunitException"/> listing every mismatch.
    /// </summary>
    internal static FdStatistics Check(FdConfig config)
    {
        var model = (IHeadModel)Activator.CreateInstance(TypeOf(config))!;
        Assert.Equal(config.OutputSize, model.OutputSize);
        var random = new Random(unchecked((int)config.DataSeed));
        model.InitializeParameters(config.DataSeed);

        int batch = config.Batch, steps = config.Steps, layers = model.NumLayers * model.NumDirections;
        bool lstm = model.Cell == global::ModelGen.CellKind.Lstm;
        float[] input = Uniform(random, batch * steps * model.InputSize, 1f);
        float[] h0 = Uniform(random, layers * batch * model.StateSize, 0.5f);
        float[] c0 = lstm ? Uniform(random, layers * batch * model.HiddenSize, 0.5f) : [];

        var statistics = new FdStatistics();
        var mismatches = new List<string>();
        foreach (FdMode mode in Enum.GetValues<FdMode>())
        {
            int resultLength = mode switch
            {
                FdMode.PredictLast => batch * model.OutputSize,
                FdMode.PredictSequence => batch * steps * model.OutputSize,
                _ => batch * steps * model.OutputFeatures,
            };
            float[] dy = Uniform(random, resultLength, 1f);
            var y = new float[resultLength];

            double Loss()
            {
                switch (mode)
                {
                    case FdMode.PredictLast: model.PredictLast(input, batch, y, h0, c0); break;
                    case FdMode.PredictSequence: model.PredictSequence(input, batch, y, h0, c0); break;
                    default: model.Forward(input, batch, y, h0, c0, default, default); break;
                }
                double sum = 0;
                for (int i = 0; i < y.Length; i++) sum += (double)y[i] * dy[i];
                return sum;
            }

            // Analytic: dL/dy = dy.
            var trained = new float[resultLength];
            model.ZeroGradients();
            switch (mode)
            {
                case FdMode.PredictLast: model.TrainPredictLast(input, batch, trained, h0, c0); break;
                case FdMode.PredictSequence: model.TrainPredictSequence(input, batch, trained, h0, c0); break;
                default: model.TrainForward(input, batch, trained, h0, c0, default, default); break;
            }
            var dInput = new float[input.Length];
            var dH0 = new float[h0.Length];
            var dC0 = new float[c0.Length];
            model.Backward(dy, dInput, dH0, dC0);
            float[] dParameters = model.Gradients.ToArray();

            // The training forward computes what the inference forward does (else the check below compares the
            // gradient of one function with the difference quotient of another).
            Loss();
            for (int i = 0; i < y.Length; i++)
            {
                if (!(Math.Abs(trained[i] - y[i]) <= 1e-5 + 1e-5 * Math.Abs(y[i])))
                {
                    mismatches.Add($"{mode}: training forward result[{i}] = {trained[i]:R}, inference {y[i]:R}");
                    break;
                }
            }

            void Compare(string what, double analytic, float value, Action<float> set)
            {
                double fd = Central(Loss, set, value, Epsilon);
                double fdHalf = Central(Loss, set, value, Epsilon / 2);
                double tolerance = AbsoluteTolerance + RelativeTolerance * Math.Abs(analytic);
                statistics.Checked++;
                if (!(Math.Abs(fd - fdHalf) <= tolerance / 4)) return;   // a kink within ε: the quotient is not a derivative
                statistics.Usable++;
                if (Math.Abs(fd) > AbsoluteTolerance) statistics.Significant++;
                double ratio = Math.Abs(fd - analytic) / tolerance;
                statistics.WorstRatio = Math.Max(statistics.WorstRatio, double.IsNaN(ratio) ? double.PositiveInfinity : ratio);
                if (!(ratio <= 1))
                {
                    mismatches.Add($"{mode}: d/d {what}: analytic {analytic:G6}, finite difference {fd:G6} (ε/2: {fdHalf:G6}), tolerance {tolerance:G3}");
                }
            }

            foreach (int index in ParameterIndices(model, random))
            {
                Compare(ParameterName(model, index), dParameters[index], model.Parameters[index],
                    value => model.EditParameters()[index] = value);   // EditParameters tells the model its weights changed
            }
            foreach (int index in Pick(random, input.Length, InputCoordinates))
            {
                Compare($"input[{index}]", dInput[index], input[index], value => input[index] = value);
            }
            foreach (int index in Pick(random, h0.Length, H0Coordinates))
            {
                Compare($"h0[{index}]", dH0[index], h0[index], value => h0[index] = value);
            }
            foreach (int index in Pick(random, c0.Length, C0Coordinates))
            {
                Compare($"c0[{index}]", dC0[index], c0[index], value => c0[index] = value);
            }
        }

        if (mismatches.Count > 0)
        {
            throw new XunitException(
                $"{config}: {mismatches.Count} gradients disagree with finite differences:\n  " +
                string.Join("\n  ", mismatches.Take(12)) + (mismatches.Count > 12 ? "\n  ..." : ""));
        }
        return statistics;
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

    /// <summary>
    /// <see cref="ParameterCoordinates"/> distinct parameter indices: some of the head, some of the reverse
    /// direction and some of the projection when the model has them, the rest anywhere.
    /// </summary>
    private static List<int> ParameterIndices(IRecurrentModel model, Random random)
    {
        var chosen = new List<int>();
        void From(Func<string, bool> which, int count)
        {
            int[] pool = [.. model.ParameterTable.Where(p => which(p.Name)).SelectMany(p => Enumerable.Range(p.Offset, p.Length))];
            foreach (int index in pool.OrderBy(_ => random.Next()).Where(i => !chosen.Contains(i)).Take(count)) chosen.Add(index);
        }
        From(name => name.StartsWith("head.", StringComparison.Ordinal), 3);
        From(name => name.EndsWith("_reverse", StringComparison.Ordinal), 3);
        From(name => name.Contains("weight_hr", StringComparison.Ordinal), 2);
        From(name => name.Contains("_l1", StringComparison.Ordinal) || name.Contains("_l2", StringComparison.Ordinal), 2);
        From(_ => true, ParameterCoordinates - chosen.Count);
        return chosen;
    }

    private static string ParameterName(IRecurrentModel model, int index)
    {
        ParameterInfo info = model.ParameterTable.Single(p => index >= p.Offset && index < p.Offset + p.Length);
        return $"{info.Name}[{index - info.Offset}]";
    }

    private static IEnumerable<int> Pick(Random random, int length, int count) =>
        Enumerable.Range(0, length).OrderBy(_ => random.Next()).Take(count).ToList();

    private static float[] Uniform(Random random, int length, float bound)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        return values;
    }

    /// <summary>Compiles every model not compiled yet in one compilation (one generator run for the whole sweep).</summary>
    private static void CompileAll(IEnumerable<FdConfig> configs)
    {
        List<FdConfig> missing = [.. configs.Where(c => !Compiled.ContainsKey(c.ClassName)).DistinctBy(c => c.ClassName)];
        if (missing.Count == 0) return;
        Assembly assembly = GeneratorHarness.CompileAndLoad(string.Concat(missing.Select(c => c.Declaration)));
        foreach (FdConfig config in missing)
        {
            Compiled.TryAdd(config.ClassName, assembly.GetType(config.ClassName, throwOnError: true)!);
        }
    }

    private static Type TypeOf(FdConfig config)
    {
        if (!Compiled.TryGetValue(config.ClassName, out Type? type))
        {
            CompileAll([config]);
            type = Compiled[config.ClassName];
        }
        return type;
    }

    private static string Coverage(IEnumerable<FdConfig> configs)
    {
        var text = new StringBuilder("cells:");
        foreach (IGrouping<string, FdConfig> group in configs.GroupBy(c => c.Cell == FdCell.Rnn && c.Relu ? "rnn-relu" : c.Cell.ToString()))
        {
            text.Append(CultureInfo.InvariantCulture, $" {group.Key}×{group.Count()}");
        }
        return text.ToString();
    }
}

internal enum FdCell
{
    Lstm,
    Gru,
    Rnn,
}

internal enum FdMode
{
    PredictLast,
    PredictSequence,
    Forward,
}

internal sealed class FdStatistics
{
    public int Checked { get; set; }
    public int Usable { get; set; }
    public int Significant { get; set; }
    public double WorstRatio { get; set; }

    public void Add(FdStatistics other)
    {
        Checked += other.Checked;
        Usable += other.Usable;
        Significant += other.Significant;
        WorstRatio = Math.Max(WorstRatio, other.WorstRatio);
    }
}

/// <summary>One generated case: the declaration's options, and the batch, sequence length and data seed.</summary>
internal sealed record FdConfig(FdCell Cell, int InputSize, int HiddenSize, int NumLayers, bool Bias, bool Bidirectional,
    int ProjSize, bool Relu, int OutputSize, int Batch, int Steps, uint DataSeed)
{
    /// <summary>A class name that encodes the declaration, so equal declarations share one compiled type.</summary>
    public string ClassName => string.Create(CultureInfo.InvariantCulture,
        $"Fd_{Cell}{(Relu ? "Relu" : "")}_I{InputSize}_H{HiddenSize}_L{NumLayers}_{(Bias ? "Bias" : "NoBias")}_{(Bidirectional ? "Bi" : "Uni")}_P{ProjSize}_O{OutputSize}");

    /// <summary>The attribute a user would write.</summary>
    public string Attribute
    {
        get
        {
            var arguments = new List<string>
            {
                $"InputSize = {InputSize}",
                $"HiddenSize = {HiddenSize}",
                $"NumLayers = {NumLayers}",
                $"Bias = {(Bias ? "true" : "false")}",
                $"Bidirectional = {(Bidirectional ? "true" : "false")}",
                $"OutputSize = {OutputSize}",
            };
            if (ProjSize > 0) arguments.Add($"ProjSize = {ProjSize}");
            if (Cell == FdCell.Rnn) arguments.Add($"Nonlinearity = ModelGen.RnnNonlinearity.{(Relu ? "Relu" : "Tanh")}");
            return string.Create(CultureInfo.InvariantCulture, $"[ModelGen.{Cell}Model({string.Join(", ", arguments)})]");
        }
    }

    public string Declaration => $"{Attribute}\npublic partial class {ClassName};\n";

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Attribute} with batch {Batch}, {Steps} steps, data seed {DataSeed}");
}
