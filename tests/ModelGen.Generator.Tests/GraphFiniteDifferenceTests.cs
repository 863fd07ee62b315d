using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using CsCheck;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Property-based gradient check of <c>[SequenceModel]</c> graphs: random small graphs over every module kind and
/// option, compiled in memory with the real generator (each distinct declaration once), whose analytic gradients
/// (Backward after TrainForward, for the upstream dy) must agree with central finite differences of
/// L = Σ y·dy, summed in double, for a sample of parameter coordinates and, for feature graphs, input
/// coordinates. Without dropout the differences are taken of the inference Forward, so they never touch the
/// training path; with dropout (p &gt; 0) they are taken of TrainForward with the dropout generator reseeded
/// before every call, which makes the masks a fixed part of a deterministic function of the parameters.
/// </summary>
/// <remarks>
/// <para>
/// The sweep is deterministic: <see cref="Configurations"/> is drawn <see cref="SweepSize"/> times from a CsCheck
/// PCG with a fixed stream and seed, as in <see cref="FiniteDifferenceTests"/>; a failing configuration is handed
/// to CsCheck's <c>Sample</c> from its seed to look for a smaller one, and <c>CsCheck_Seed</c> replays one case.
/// <see cref="The_sweep_covers_every_module_kind_and_option_with_and_without_lengths"/> asserts on the drawn
/// configurations that every module kind and option occurs both with and without lengths.
/// </para>
/// <para>
/// Tolerance |fd − analytic| ≤ 2e-3 + 2e-2·|analytic|, the argument of <see cref="FiniteDifferenceTests"/> carried
/// over: y comes from float32 kernels, so L (≤ 3·5·4 terms of magnitude ≲ 1, summed in double) carries an absolute
/// rounding error of about √60·6e-8 ≈ 5e-7, which the quotient divides by 2ε = 2e-2: ≈ 3e-5. The truncation error
/// of the central difference is ε²/6·|L'''| ≈ 2e-5·|L'''|; the graphs here are at most seven modules deep, 1–4
/// features wide, with twice PyTorch's default initialisation (the default leaves stacks of small modules without
/// bias with outputs near 1e-3 and every gradient below the absolute term, which would make the check vacuous),
/// and their third derivatives stay well below 10 except near a kink or a LayerNorm over nearly equal features,
/// which the kink tests below catch. So a correct gradient stays well inside the absolute term (the worst
/// |fd − analytic| / tolerance over the sweep is ≈ 0.16, printed by the test), while the errors Backward can make —
/// a dropped term, a transposed weight, a missed direction, a gradient leaking from padded steps, a wrong mask —
/// are of the size of the gradient itself and exceed the relative term. (Checked on edited copies of the generated
/// code: the Tanh backward with its x and y swapped, a Linear bias gradient dropped, and the Mean reduction's
/// backward without lengths each fail the check.)
/// </para>
/// <para>
/// Kinks (ReLU, the ReLU RNN, a max over steps whose argmax changes, a LayerNorm whose variance is tiny, a ReLU
/// on an exact zero left by dropout or by a LayerNorm over equal features) make the difference quotient depend on
/// ε; GELU, tanh and sigmoid are smooth. Each coordinate is differenced with ε and ε/2 and skipped when the two
/// quotients disagree by more than a quarter of the tolerance, as in <see cref="FiniteDifferenceTests"/>. That
/// alone misses a kink much closer to x than ε (both quotients then straddle it alike and both miss the derivative
/// by half the slope's jump; the ReLU RNNs of the sweep have such a unit in a few percent of draws), so the bend
/// (L(x+ε) − 2L(x) + L(x−ε)) / ε is compared too: about ε·L'' where L is smooth, so it halves with ε, but about the
/// jump of L' across a kink near x, so it does not; a coordinate whose bend does not halve (within half the
/// tolerance) is skipped. Both tests read only the function being differenced (never Backward), so a wrong
/// Backward cannot hide behind them; and at least 80% of the coordinates must be usable, and at least half of those
/// must have a finite difference above the absolute tolerance, so the test cannot pass vacuously.
/// </para>
/// <para>
/// Exact checks besides: the training forward equals the inference forward (without dropout); with lengths, the
/// input gradient at padded steps is exactly zero (graphs with a recurrent module, which alone reads the steps
/// past a row's length), the output at padded steps is exactly zero (per-step graphs whose last recurrent module
/// is followed only by zero-preserving modules), and the padding_idx row of an embedding gets exactly no gradient
/// (PyTorch's semantics; its finite difference is not zero when the token occurs, so it is not differenced), nor
/// does the row of a token that occurs at no real step.
/// </para>
/// </remarks>
public class GraphFiniteDifferenceTests(ITestOutputHelper output)
{
    private const int SweepSize = 80;
    private const uint SweepStream = 11;
    private const ulong SweepSeed = 20_250_907;
    private const int ShrinkIterations = 40;

    private const double AbsoluteTolerance = FiniteDifferences.AbsoluteTolerance;

    private const float ParameterScale = 2f;
    private const int ParameterCoordinates = 16;
    private const int InputCoordinates = 5;

    /// <summary>Compiled graph types by declaration text.</summary>
    private static readonly ConcurrentDictionary<string, Type> Compiled = new(StringComparer.Ordinal);

    private static readonly Gen<GraphStep> StepModules =
        from kind in Gen.Int[0, (int)GraphStepKind.Dropout]
        from size in Gen.Int[1, 4]
        from variant in Gen.Int[0, 1]
        select new GraphStep((GraphStepKind)kind, size, variant);

    private static readonly Gen<GraphRecurrent> Recurrents =
        from cell in Gen.Int[0, 2]
        from hidden in Gen.Int[1, 4]
        from layers in Gen.Int[1, 2]
        from bias in Gen.Bool
        from bidirectional in Gen.Bool
        from projected in Gen.Bool
        from relu in Gen.Bool
        from dropout in Gen.Bool
        select new GraphRecurrent((FdCell)cell, hidden, layers, bias, bidirectional,
            cell == 0 && projected && hidden > 1 ? 1 + (hidden % 2 == 0 ? hidden / 2 - 1 : 0) : 0,
            cell == 2 && relu, layers == 2 && dropout);

    /// <summary>Every module kind and option, lengths or not, and the batch, steps and data seed of the check.</summary>
    internal static readonly Gen<GraphFdConfig> Configurations =
        from tokens in Gen.Bool
        from inputSize in Gen.Int[1, 4]
        from vocabulary in Gen.Int[3, 6]
        from embeddingDim in Gen.Int[1, 4]
        from padding in Gen.Int[0, 2]
        from before in StepModules.Array[0, 1]
        from recurrentCount in Gen.Frequency((3, Gen.Const(0)), (10, Gen.Const(1)), (7, Gen.Const(2)))
        from recurrent in Recurrents.Array[recurrentCount]
        from after in StepModules.Array[0, 2]
        from reduce in Gen.Int[-1, 3]
        from post in StepModules.Array[0, 2]
        from lengths in Gen.Bool
        from batch in Gen.Int[1, 3]
        from steps in Gen.Frequency((1, Gen.Const(1)), (6, Gen.Int[2, 5]))
        from dataSeed in Gen.UInt
        select new GraphFdConfig(tokens, inputSize, vocabulary, embeddingDim, padding, before, recurrent, after,
            recurrent.Length == 0 ? -1 : reduce, post, lengths, batch, steps, dataSeed);

    [Fact]
    [Trait("Category", "Gradients")]
    public void Backward_matches_central_finite_differences_for_random_graphs()
    {
        var cases = new List<(GraphFdConfig Config, string Seed)>();
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
                GraphFdConfig config = Configurations.Generate(pcg, null, out _);
                cases.Add((config, pcg.ToString(state)));
            }
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        CompileAll(cases.Select(c => c.Config));
        TimeSpan compile = clock.Elapsed;

        var total = new GraphFdStatistics();
        var failures = new List<(GraphFdConfig Config, string Seed, Exception Error)>();
        foreach ((GraphFdConfig config, string seed) in cases)
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

        foreach ((GraphFdConfig config, string seed, Exception error) in failures)
        {
            output.WriteLine($"FAILED (seed \"{seed}\"): {error.Message}\n");
        }
        if (failures.Count > 0)
        {
            Configurations.Sample(config => { Check(config); }, seed: failures[0].Seed, iter: ShrinkIterations, threads: 1,
                print: config => config.ToString());
            throw new XunitException(
                $"{failures.Count} configurations failed in the sweep, but the first did not fail again when replayed:\n" +
                string.Join("\n\n", failures.Take(3).Select(f => $"{f.Config} (seed \"{f.Seed}\")\n{f.Error.Message}")));
        }

        Assert.True(total.Usable >= 0.8 * total.Checked,
            $"only {total.Usable} of {total.Checked} coordinates had a stable finite difference (need 80%).");
        Assert.True(total.Significant >= 0.5 * total.Usable,
            $"only {total.Significant} of {total.Usable} usable coordinates had |gradient| above {AbsoluteTolerance}: the check is too weak.");
        Assert.True(total.PaddedInputZeros > 0 && total.PaddingRowZeros > 0,
            "the exact-zero checks of padded steps and embedding rows found nothing to check");
    }

    /// <summary>The sweep must reach every module kind and option, with lengths and without, else the property says nothing about it.</summary>
    [Fact]
    [Trait("Category", "Gradients")]
    public void The_sweep_covers_every_module_kind_and_option_with_and_without_lengths()
    {
        var pcg = new PCG(SweepStream, SweepSeed);
        List<GraphFdConfig> configs = [.. Enumerable.Range(0, SweepSize).Select(i => Configurations.Generate(pcg, null, out _))];
        var missing = new List<string>();
        foreach (string tag in GraphFdConfig.AllTags)
        {
            foreach (bool lengths in new[] { false, true })
            {
                if (!configs.Any(c => c.Lengths == lengths && c.Tags.Contains(tag))) missing.Add($"{tag} {(lengths ? "with" : "without")} lengths");
            }
        }
        Assert.True(missing.Count == 0, "the sweep never draws: " + string.Join(", ", missing));
        // The shapes the kernels treat specially.
        foreach (int batch in new[] { 1, 2, 3 }) Assert.Contains(configs, c => c.Batch == batch);
        foreach (int steps in new[] { 1, 2, 3, 4, 5 }) Assert.Contains(configs, c => c.Steps == steps);
        Assert.Contains(configs, c => c.Lengths && c.Batch > 1 && c.Steps > 2);
    }

    private static readonly (string Name, GraphFdConfig Config)[] PaddedGraphs =
    [
        ("features: bidirectional two-layer LSTM with projection, last",
            new GraphFdConfig(false, 3, 0, 0, 0, [], [new GraphRecurrent(FdCell.Lstm, 3, 2, true, true, 1, false, false)], [], -1, [], true, 3, 5, 1)),
        ("tokens with padding_idx: bidirectional GRU, dropout, ReLU",
            new GraphFdConfig(true, 1, 6, 3, 1, [], [new GraphRecurrent(FdCell.Gru, 2, 1, true, true, 0, false, false)],
                [new GraphStep(GraphStepKind.Dropout, 1, 0), new GraphStep(GraphStepKind.ReLU, 1, 0)], -1, [], true, 3, 5, 2)),
        ("features: Linear, two-layer bidirectional ReLU RNN with dropout, Tanh, GELU",
            new GraphFdConfig(false, 2, 0, 0, 0, [new GraphStep(GraphStepKind.Linear, 3, 0)],
                [new GraphRecurrent(FdCell.Rnn, 3, 2, false, true, 0, true, true)],
                [new GraphStep(GraphStepKind.Tanh, 1, 0), new GraphStep(GraphStepKind.GELU, 1, 0)], -1, [], true, 3, 5, 3)),
        ("features: GRU then LSTM of another size",
            new GraphFdConfig(false, 2, 0, 0, 0, [], [new GraphRecurrent(FdCell.Gru, 3, 1, true, false, 0, false, false),
                new GraphRecurrent(FdCell.Lstm, 2, 1, false, true, 0, false, false)], [], -1, [], true, 2, 4, 4)),
    ];

    /// <summary>
    /// With lengths, a per-step graph whose last recurrent module is followed only by modules with f(0) = 0 writes
    /// exactly 0 at every padded step, in inference and in training, and a features graph gets exactly no input
    /// gradient at padded steps; the gradients elsewhere still match the finite differences (<see cref="Check(GraphFdConfig)"/>).
    /// </summary>
    [Theory]
    [Trait("Category", "Gradients")]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Padded_steps_output_exactly_zero_and_get_no_input_gradient(int graph)
    {
        (string name, GraphFdConfig config) = PaddedGraphs[graph];
        Assert.True(config.PaddedOutputIsZero, name);
        GraphFdStatistics statistics = Check(config);
        Assert.True(statistics.PaddedOutputZeros > 0, $"{name}: no padded output was checked");
        if (!config.Tokens) Assert.True(statistics.PaddedInputZeros > 0, $"{name}: no padded input gradient was checked");
        Assert.True(statistics.Significant >= statistics.Usable / 2, $"{name}: only {statistics.Significant} of {statistics.Usable} gradients are significant");
    }

    /// <summary>
    /// Dropout as a mask: with a seeded training forward, each output of a graph that ends in Dropout(p) is either
    /// zero or the inference output scaled by 1/(1 − p); about p of them are zero; the same seed gives the same
    /// masks and another seed others; and Backward through the dropout equals Backward of the same graph without
    /// it (same parameters, loaded by name) from the upstream gradient multiplied by the inferred mask.
    /// </summary>
    [Fact]
    [Trait("Category", "Gradients")]
    public void Dropout_applies_one_seeded_mask_forward_and_backward()
    {
        const float p = 0.3f;
        const int batch = 3, steps = 6, input = 3;
        string body = $"    [ModelGen.Lstm(InputSize = {input}, HiddenSize = 4, NumLayers = 2, Dropout = 0.25f)] public partial ModelGen.Lstm Rnn {{ get; }}\n" +
            "    [ModelGen.Linear(InFeatures = 4, OutFeatures = 5)] public partial ModelGen.Linear Fc { get; }\n";
        string dropped = body + $"    [ModelGen.Dropout({p.ToString("R", CultureInfo.InvariantCulture)}f)] public partial ModelGen.Dropout Drop {{ get; }}\n";
        var withDropout = (IFeatureSequenceModel)Activator.CreateInstance(TypeOf(dropped))!;
        var without = (IFeatureSequenceModel)Activator.CreateInstance(TypeOf(body))!;
        withDropout.InitializeParameters(3);
        using (var saved = new MemoryStream())
        {
            withDropout.SaveSafetensors(saved);
            saved.Position = 0;
            Assert.Empty(without.LoadSafetensors(saved).MissingKeys);
        }
        Assert.Equal(withDropout.Parameters.ToArray(), without.Parameters.ToArray());

        var random = new Random(5);
        float[] x = FiniteDifferences.Uniform(random, batch * steps * input, 1f), dy = FiniteDifferences.Uniform(random, batch * steps * 5, 1f);
        int[] lengths = [steps, 4, 2];
        var inference = new float[dy.Length];
        var plain = new float[dy.Length];
        withDropout.Forward(x, batch, inference, lengths);
        without.Forward(x, batch, plain, lengths);
        Assert.Equal(plain, inference);   // inference: the dropout is the identity

        // The recurrent module's inter-layer dropout draws too: the module dropout's mask is read off the output of
        // the same training forward of the graph without it... which draws the same inter-layer masks first, as
        // both graphs' generators start from the same seed and draw in the same order.
        var trained = new float[dy.Length];
        var trainedPlain = new float[dy.Length];
        withDropout.SeedDropout(17);
        withDropout.TrainForward(x, batch, trained, lengths);
        without.SeedDropout(17);
        without.TrainForward(x, batch, trainedPlain, lengths);

        float keep = 1f / (1f - p);
        var mask = new float[dy.Length];
        int zeros = 0, nonzero = 0;
        for (int i = 0; i < trained.Length; i++)
        {
            Assert.True(trainedPlain[i] != 0, $"output[{i}] of the graph without dropout is 0: its mask cannot be read off");
            nonzero++;
            if (trained[i] == 0)
            {
                zeros++;
                continue;
            }
            mask[i] = keep;
            Assert.True(Math.Abs(trained[i] - trainedPlain[i] * keep) <= 1e-6 * Math.Abs(trained[i]),
                $"output[{i}] = {trained[i]:R} is neither 0 nor {trainedPlain[i] * keep:R} (the training output without dropout scaled by 1/(1 − p))");
        }
        // p·n ± 3.5 standard deviations of the binomial.
        double expected = p * nonzero, spread = 3.5 * Math.Sqrt(nonzero * p * (1 - p));
        Assert.InRange(zeros, expected - spread, expected + spread);

        var again = new float[dy.Length];
        withDropout.SeedDropout(17);
        withDropout.TrainForward(x, batch, again, lengths);
        Assert.Equal(trained, again);
        withDropout.SeedDropout(18);
        withDropout.TrainForward(x, batch, again, lengths);
        Assert.NotEqual(trained, again);

        // Backward: through the mask, the same as the graph without dropout from dy ⊙ mask.
        withDropout.SeedDropout(17);
        withDropout.TrainForward(x, batch, again, lengths);
        withDropout.ZeroGradients();
        var dx = new float[x.Length];
        withDropout.Backward(dy, dx);
        var maskedDy = new float[dy.Length];
        for (int i = 0; i < dy.Length; i++) maskedDy[i] = dy[i] * mask[i];
        without.ZeroGradients();
        var dxPlain = new float[x.Length];
        without.Backward(maskedDy, dxPlain);
        AssertClose("input gradient", dxPlain, dx);
        AssertClose("parameter gradient", without.Gradients.ToArray(), withDropout.Gradients.ToArray());
        Assert.Contains(dx, v => v != 0);
    }

    private static void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 + 1e-5 * Math.Abs(expected[i]),
                $"{what}[{i}]: {actual[i]:R}, expected {expected[i]:R}");
        }
    }

    /// <summary>Checks one configuration; returns its statistics and throws an <see cref="XunitException"/> listing every mismatch.</summary>
    internal static GraphFdStatistics Check(GraphFdConfig config) => Check(config, TypeOf(config.Body));

    internal static GraphFdStatistics Check(GraphFdConfig config, Type type)
    {
        var model = (ISequenceModel)Activator.CreateInstance(type)!;
        var random = new Random(unchecked((int)config.DataSeed));
        model.InitializeParameters(config.DataSeed);
        // Twice PyTorch's initialisation (the padding row stays zero): the default's ±1/√H leaves stacks of small
        // modules without bias with outputs of 1e-3 and gradients below the absolute tolerance throughout.
        foreach (ref float parameter in model.EditParameters()) parameter *= ParameterScale;
        int batch = config.Batch, steps = config.Steps;
        bool tokens = model is ITokenSequenceModel;
        Assert.Equal(config.Tokens, tokens);
        Assert.Equal(config.OutputSize, model.OutputSize);
        Assert.Equal(!config.Reduces, model.OutputPerStep);

        int[] lengths = config.Lengths ? FiniteDifferences.Lengths(random, batch, steps) : [];
        bool Real(int row, int step) => lengths.Length == 0 || step < lengths[row];
        int inputSize = tokens ? 1 : ((IFeatureSequenceModel)model).InputSize;
        int[] ids = [];
        float[] input = [];
        if (tokens)
        {
            ids = [.. Enumerable.Range(0, batch * steps).Select(_ => random.Next(config.Vocabulary))];
            // The padding token occurs at a real step, so that its row's zero gradient means something.
            if (config.PaddingIdx >= 0) ids[random.Next(batch) * steps] = config.PaddingIdx;
        }
        else
        {
            input = FiniteDifferences.Uniform(random, batch * steps * inputSize, 1f);
        }
        int outputLength = (config.Reduces ? batch : batch * steps) * model.OutputSize;
        float[] dy = FiniteDifferences.Uniform(random, outputLength, 1f);
        var y = new float[outputLength];
        ulong dropoutSeed = config.DataSeed ^ 0x9E3779B97F4A7C15UL;

        void Forward(bool training, float[] result)
        {
            if (training) model.SeedDropout(dropoutSeed);
            switch (model)
            {
                case ITokenSequenceModel t when training: t.TrainForward(ids, batch, result, lengths); break;
                case ITokenSequenceModel t: t.Forward(ids, batch, result, lengths); break;
                case IFeatureSequenceModel f when training: f.TrainForward(input, batch, result, lengths); break;
                case IFeatureSequenceModel f: f.Forward(input, batch, result, lengths); break;
            }
        }

        double Loss()
        {
            Forward(training: config.HasDropout, y);
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += (double)y[i] * dy[i];
            return sum;
        }

        var statistics = new GraphFdStatistics();
        var mismatches = new List<string>();

        // Analytic: dL/dy = dy.
        var trained = new float[outputLength];
        model.ZeroGradients();
        Forward(training: true, trained);
        var dInput = new float[input.Length];
        if (model is ITokenSequenceModel tokenModel) tokenModel.Backward(dy);
        else ((IFeatureSequenceModel)model).Backward(dy, dInput);
        float[] dParameters = model.Gradients.ToArray();

        Forward(training: false, y);
        if (!config.HasDropout)
        {
            // The training forward computes what the inference forward does (else the gradient of one function
            // would be compared with the difference quotient of another).
            for (int i = 0; i < y.Length; i++)
            {
                if (!(Math.Abs(trained[i] - y[i]) <= 1e-5 + 1e-5 * Math.Abs(y[i])))
                {
                    mismatches.Add($"training forward result[{i}] = {trained[i]:R}, inference {y[i]:R}");
                    break;
                }
            }
        }

        // Exact zeros: padded steps.
        if (lengths.Length > 0 && !tokens && config.HasRecurrent)
        {
            for (int b = 0; b < batch; b++)
            {
                for (int t = lengths[b]; t < steps; t++)
                {
                    for (int f = 0; f < inputSize; f++)
                    {
                        int index = (b * steps + t) * inputSize + f;
                        statistics.PaddedInputZeros++;
                        if (dInput[index] != 0) mismatches.Add($"d input[{b}, {t}, {f}] = {dInput[index]:R} at a padded step (length {lengths[b]}), not 0");
                    }
                }
            }
        }
        if (lengths.Length > 0 && config.PaddedOutputIsZero)
        {
            for (int b = 0; b < batch; b++)
            {
                for (int t = lengths[b]; t < steps; t++)
                {
                    for (int o = 0; o < model.OutputSize; o++)
                    {
                        int index = (b * steps + t) * model.OutputSize + o;
                        statistics.PaddedOutputZeros += 2;
                        if (y[index] != 0) mismatches.Add($"output[{b}, {t}, {o}] = {y[index]:R} at a padded step (length {lengths[b]}), not 0");
                        if (trained[index] != 0) mismatches.Add($"training output[{b}, {t}, {o}] = {trained[index]:R} at a padded step (length {lengths[b]}), not 0");
                    }
                }
            }
        }
        IReadOnlyList<ParameterInfo> table = ParameterTable(type);
        var excluded = new HashSet<int>();
        if (tokens)
        {
            // Rows of tokens that do not occur at a real step, and the padding_idx row, get exactly no gradient; they
            // are not differenced (an unused row's difference is 0 too, and says nothing; the padding row's is not).
            ParameterInfo embedding = table.Single(p => p.Name == "m0.weight");
            int dim = embedding.Shape[1];
            // (Without a recurrent module nothing reads the lengths, and every step is real.)
            var used = new HashSet<int>(Enumerable.Range(0, ids.Length).Where(i => !config.HasRecurrent || Real(i / steps, i % steps)).Select(i => ids[i]));
            for (int row = 0; row < config.Vocabulary; row++)
            {
                if (used.Contains(row) && row != config.PaddingIdx) continue;
                for (int f = 0; f < dim; f++)
                {
                    int index = embedding.Offset + row * dim + f;
                    excluded.Add(index);
                    statistics.PaddingRowZeros++;
                    if (dParameters[index] != 0)
                    {
                        mismatches.Add($"d m0.weight[{row}, {f}] = {dParameters[index]:R}: the {(row == config.PaddingIdx ? "padding_idx row" : "row of a token that occurs at no real step")} got a gradient");
                    }
                }
            }
        }

        void Compare(string what, double analytic, float value, Action<float> set) =>
            FiniteDifferences.Compare(Loss, what, analytic, value, set, statistics, mismatches);

        foreach (int index in FiniteDifferences.ParameterIndices(table, excluded, random, ParameterCoordinates))
        {
            Compare(FiniteDifferences.ParameterName(table, index), dParameters[index], model.Parameters[index],
                value => model.EditParameters()[index] = value);
        }
        int[] realInputs = [.. Enumerable.Range(0, input.Length).Where(i => Real(i / inputSize / steps, i / inputSize % steps))];
        foreach (int index in realInputs.OrderBy(_ => random.Next()).Take(InputCoordinates))
        {
            Compare($"input[{index}]", dInput[index], input[index], value => input[index] = value);
        }

        if (mismatches.Count > 0)
        {
            throw new XunitException(
                $"{config}:\n{mismatches.Count} checks failed:\n  " +
                string.Join("\n  ", mismatches.Take(12)) + (mismatches.Count > 12 ? "\n  ..." : ""));
        }
        return statistics;
    }

    internal static IReadOnlyList<ParameterInfo> ParameterTable(Type type) => FiniteDifferences.ParameterTable(type);

    /// <summary>Compiles every graph not compiled yet in one compilation (one generator run for the whole sweep).</summary>
    private static void CompileAll(IEnumerable<GraphFdConfig> configs) => CompileBodies(configs.Select(c => c.Body));

    private static void CompileBodies(IEnumerable<string> bodies)
    {
        List<string> missing = [.. bodies.Where(b => !Compiled.ContainsKey(b)).Distinct(StringComparer.Ordinal)];
        if (missing.Count == 0) return;
        Assembly assembly = FiniteDifferences.CompileAndLoad(string.Concat(missing.Select(GraphFdConfig.Declaration)));
        foreach (string body in missing)
        {
            Compiled.TryAdd(body, assembly.GetType(GraphFdConfig.ClassNameOf(body), throwOnError: true)!);
        }
    }

    private static Type TypeOf(string body)
    {
        if (!Compiled.TryGetValue(body, out Type? type))
        {
            CompileBodies([body]);
            type = Compiled[body];
        }
        return type;
    }
}

/// <summary>The per-step modules a graph may have anywhere before a reduction or after it.</summary>
internal enum GraphStepKind
{
    Linear,
    LayerNorm,
    ReLU,
    Tanh,
    Sigmoid,
    GELU,
    Dropout,
}

/// <summary>
/// One per-step module: Linear (out features <paramref name="Size"/>, bias unless <paramref name="Variant"/> is
/// 1 and the size odd), LayerNorm (affine with bias, affine without bias, not affine, by size and variant; eps
/// 1e-5 or 1e-3), an activation, or Dropout (p = 0.3, or 0 for variant 1).
/// </summary>
internal sealed record GraphStep(GraphStepKind Kind, int Size, int Variant);

/// <summary>One recurrent module's options; <paramref name="Dropout"/>: the inter-layer dropout 0.25 (two layers only).</summary>
internal sealed record GraphRecurrent(FdCell Cell, int Hidden, int Layers, bool Bias, bool Bidirectional, int ProjSize, bool Relu, bool Dropout)
{
    public int OutputFeatures => (Bidirectional ? 2 : 1) * (ProjSize > 0 ? ProjSize : Hidden);
}

/// <summary>
/// One random graph: [Embedding] → before → recurrent modules → after → [Reduce] → post, with the sizes chained;
/// and the batch, steps, lengths and data seed of its check.
/// </summary>
/// <param name="Padding">0: no padding_idx; 1: a non-negative one; 2: a negative one (counted from the end).</param>
/// <param name="Reduce">-1 for none, else the <see cref="ReduceMode"/>.</param>
internal sealed class GraphFdConfig
{
    private readonly List<string> _tags = [];

    public GraphFdConfig(bool tokens, int inputSize, int vocabulary, int embeddingDim, int padding, GraphStep[] before,
        GraphRecurrent[] recurrent, GraphStep[] after, int reduce, GraphStep[] post, bool lengths, int batch, int steps, uint dataSeed)
    {
        Tokens = tokens;
        Lengths = lengths;
        Batch = batch;
        Steps = steps;
        DataSeed = dataSeed;
        Vocabulary = vocabulary;
        var lines = new List<string>();
        int features = inputSize;
        bool perStep = true;
        int index = 0;
        string Property(string view) => $"public partial ModelGen.{view} M{index++} {{ get; }}";
        void Add(string attribute, string view) => lines.Add($"    [ModelGen.{attribute}] {Property(view)}");
        string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        _tags.Add(tokens ? "input.tokens" : "input.features");
        if (tokens)
        {
            string paddingArgument = "";
            if (padding == 1) PaddingIdx = (int)(dataSeed % (uint)vocabulary);
            if (padding == 2) PaddingIdx = vocabulary - 1 - (int)(dataSeed % 2);
            if (padding == 1) paddingArgument = $", PaddingIdx = {PaddingIdx}";
            if (padding == 2) paddingArgument = $", PaddingIdx = {PaddingIdx - vocabulary}";
            Add($"Embedding(NumEmbeddings = {vocabulary}, EmbeddingDim = {embeddingDim}{paddingArgument})", "Embedding");
            _tags.Add(padding switch { 0 => "Embedding", 1 => "Embedding.padding_idx", _ => "Embedding.negative_padding_idx" });
            features = embeddingDim;
        }

        // An activation or dropout cannot be a features graph's first module (it does not state the input size).
        bool first = !tokens;
        void Step(GraphStep step)
        {
            GraphStepKind kind = first && step.Kind > GraphStepKind.LayerNorm ? GraphStepKind.Linear : step.Kind;
            first = false;
            switch (kind)
            {
                case GraphStepKind.Linear:
                    bool bias = !(step.Variant == 1 && step.Size % 2 == 1);
                    Add($"Linear(InFeatures = {features}, OutFeatures = {step.Size}{(bias ? "" : ", Bias = false")})", "Linear");
                    _tags.Add(bias ? "Linear" : "Linear.no_bias");
                    features = step.Size;
                    break;
                case GraphStepKind.LayerNorm:
                {
                    // A LayerNorm over one feature is the constant bias; give it two.
                    if (features == 1)
                    {
                        Add($"Linear(InFeatures = 1, OutFeatures = 2)", "Linear");
                        features = 2;
                    }
                    string eps = step.Size % 2 == 0 ? ", Eps = 0.001" : "";
                    (string options, string tag) = step.Variant == 0 ? ("", "LayerNorm")
                        : step.Size <= 2 ? (", Bias = false", "LayerNorm.no_bias")
                        : (", ElementwiseAffine = false", "LayerNorm.no_affine");
                    Add($"LayerNorm(NormalizedShape = {features}{eps}{options})", "LayerNorm");
                    _tags.Add(tag);
                    break;
                }
                case GraphStepKind.Dropout:
                {
                    float p = step.Variant == 1 ? 0f : 0.3f;
                    Add($"Dropout({F(p)}f)", "Dropout");
                    _tags.Add(p > 0 ? "Dropout" : "Dropout.p0");
                    HasDropout |= p > 0;
                    break;
                }
                default:
                    Add(kind.ToString(), "Activation");
                    _tags.Add(kind.ToString());
                    break;
            }
        }

        foreach (GraphStep step in before) Step(step);
        int lastRecurrent = -1, previousHidden = 0;
        for (int i = 0; i < recurrent.Length; i++)
        {
            GraphRecurrent r = recurrent[i];
            // A second recurrent module of another size than the first.
            if (r.Hidden == previousHidden) r = r with { Hidden = r.Hidden % 4 + 1, ProjSize = 0 };
            previousHidden = r.Hidden;
            var arguments = new List<string>
            {
                $"InputSize = {features}",
                $"HiddenSize = {r.Hidden}",
            };
            if (r.Layers != 1) arguments.Add($"NumLayers = {r.Layers}");
            if (!r.Bias) arguments.Add("Bias = false");
            if (r.Bidirectional) arguments.Add("Bidirectional = true");
            if (r.Dropout) arguments.Add("Dropout = 0.25f");
            if (r.ProjSize > 0) arguments.Add($"ProjSize = {r.ProjSize}");
            if (r.Relu) arguments.Add("Nonlinearity = ModelGen.RnnNonlinearity.Relu");
            string cell = r.Cell.ToString();
            Add($"{cell}({string.Join(", ", arguments)})", cell);
            string name = r.Cell == FdCell.Rnn && r.Relu ? "RNN.relu" : cell.ToUpperInvariant();
            _tags.Add(name + (r.Bias ? ".bias" : ".no_bias"));
            if (r.Bidirectional) _tags.Add("recurrent.bidirectional");
            if (r.Layers == 2) _tags.Add("recurrent.two_layers");
            if (r.ProjSize > 0) _tags.Add("LSTM.proj_size");
            if (r.Dropout) _tags.Add("recurrent.dropout");
            HasDropout |= r.Dropout;
            if (i > 0) _tags.Add("recurrent.two_in_a_row");
            features = r.OutputFeatures;
            first = false;
            lastRecurrent = lines.Count - 1;
            HasRecurrent = true;
        }
        bool zeroPreserving = HasRecurrent;
        var finalHidden = reduce == (int)ReduceMode.FinalHidden;
        if (!finalHidden)
        {
            foreach (GraphStep step in after)
            {
                Step(step);
                zeroPreserving &= ZeroPreserving(step);
            }
        }
        if (reduce >= 0)
        {
            Add($"Reduce(ModelGen.ReduceMode.{(ReduceMode)reduce})", "Reduction");
            _tags.Add("Reduce." + (ReduceMode)reduce);
            perStep = false;
            Reduces = true;
        }
        foreach (GraphStep step in post) Step(step);
        zeroPreserving &= post.All(ZeroPreserving);
        if (lines.Count == 0)
        {
            Add($"Linear(InFeatures = {features}, OutFeatures = 2)", "Linear");
            _tags.Add("Linear");
            features = 2;
        }
        PaddedOutputIsZero = perStep && zeroPreserving && lastRecurrent >= 0;
        OutputSize = features;
        Body = string.Join("\n", lines) + "\n";
    }

    private static bool ZeroPreserving(GraphStep step) =>
        step.Kind is GraphStepKind.ReLU or GraphStepKind.Tanh or GraphStepKind.GELU or GraphStepKind.Dropout;

    /// <summary>Every tag a configuration can have: the sweep must draw each with lengths and without.</summary>
    public static readonly string[] AllTags =
    [
        "input.tokens", "input.features",
        "Embedding", "Embedding.padding_idx", "Embedding.negative_padding_idx",
        "LSTM.bias", "LSTM.no_bias", "GRU.bias", "GRU.no_bias", "RNN.bias", "RNN.no_bias", "RNN.relu.bias", "RNN.relu.no_bias",
        "recurrent.bidirectional", "recurrent.two_layers", "LSTM.proj_size", "recurrent.dropout", "recurrent.two_in_a_row",
        "Linear", "Linear.no_bias", "LayerNorm", "LayerNorm.no_bias", "LayerNorm.no_affine",
        "ReLU", "Tanh", "Sigmoid", "GELU", "Dropout", "Dropout.p0",
        "Reduce.Last", "Reduce.FinalHidden", "Reduce.Mean", "Reduce.Max",
    ];

    public bool Tokens { get; }
    public bool Lengths { get; }
    public int Batch { get; }
    public int Steps { get; }
    public uint DataSeed { get; }
    public int Vocabulary { get; }

    /// <summary>The embedding's padding row, normalised to [0, V); -1 for none.</summary>
    public int PaddingIdx { get; } = -1;

    public bool HasRecurrent { get; }
    public bool HasDropout { get; private set; }
    public bool Reduces { get; }
    public int OutputSize { get; }

    /// <summary>Whether every output at a padded step must be exactly 0: per-step, and after the last recurrent module only modules with f(0) = 0.</summary>
    public bool PaddedOutputIsZero { get; }

    /// <summary>What the configuration exercises (module kinds and options), for the coverage test.</summary>
    public IReadOnlyList<string> Tags => _tags;

    /// <summary>The module properties: the declaration without its class line, the key of the compiled type.</summary>
    public string Body { get; }

    /// <summary>A class name derived from the body (FNV-1a), so that equal declarations share one compiled type.</summary>
    public static string ClassNameOf(string body)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in body) hash = (hash ^ c) * 1099511628211UL;
        return "GraphFd_" + hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    public static string Declaration(string body) => $"[ModelGen.SequenceModel]\npublic partial class {ClassNameOf(body)}\n{{\n{body}}}\n";

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"graph with batch {Batch}, {Steps} steps, {(Lengths ? "lengths" : "no lengths")}, data seed {DataSeed}:\n{Declaration(Body)}");
}

internal sealed class GraphFdStatistics
{
    public int Checked { get; set; }
    public int Usable { get; set; }
    public int Significant { get; set; }
    public double WorstRatio { get; set; }
    public int PaddedInputZeros { get; set; }
    public int PaddedOutputZeros { get; set; }
    public int PaddingRowZeros { get; set; }

    public void Add(GraphFdStatistics other)
    {
        Checked += other.Checked;
        Usable += other.Usable;
        Significant += other.Significant;
        WorstRatio = Math.Max(WorstRatio, other.WorstRatio);
        PaddedInputZeros += other.PaddedInputZeros;
        PaddedOutputZeros += other.PaddedOutputZeros;
        PaddingRowZeros += other.PaddingRowZeros;
    }
}
