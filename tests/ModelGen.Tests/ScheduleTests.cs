using Xunit.Sdk;

namespace ModelGen.Tests;

/// <summary>
/// The learning-rate schedules against PyTorch's formulas (torch/optim/lr_scheduler.py), recomputed here in double
/// as PyTorch computes them in Python floats: the chainable (recursive) form that <c>scheduler.step()</c> uses,
/// compared bit for bit, and the closed form, compared to a stated tolerance. The optimiser must hold each value
/// rounded to float.
/// </summary>
public class ScheduleTests
{
    private const int Count = 16;

    public static TheoryData<string> OptimizerKinds() => new() { "sgd", "adam", "adamw" };

    private static Optimizer Create(string kind, float learningRate = 0.05f) => kind switch
    {
        "sgd" => new Sgd(Count, learningRate, momentum: 0.9f),
        "adam" => new Adam(Count, learningRate),
        "adamw" => new AdamW(Count, learningRate),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Fails unless the schedule's double is <paramref name="expected"/> exactly and the optimiser holds its float.</summary>
    private static void AssertAt(LearningRateSchedule schedule, double expected, int step)
    {
        if (BitConverter.DoubleToInt64Bits(schedule.LearningRate) != BitConverter.DoubleToInt64Bits(expected))
        {
            throw new XunitException($"step {step}: learning rate {schedule.LearningRate:R}, PyTorch's formula gives {expected:R}.");
        }
        Assert.Equal((float)expected, schedule.Optimizer.LearningRate);
        Assert.Equal(step, schedule.StepCount);
    }

    // ---- StepLR ------------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(OptimizerKinds))]
    public void StepLR_follows_PyTorchs_chainable_form_exactly_and_the_closed_form_to_rounding(string kind)
    {
        const double Base = 0.05, Gamma = 0.1;
        const int StepSize = 3, Steps = 40;
        Optimizer optimizer = Create(kind);
        var schedule = new StepLR(optimizer, StepSize, Gamma, initialLearningRate: Base);
        // get_lr(): group["lr"] * gamma when last_epoch % step_size == 0, else group["lr"].
        double lr = Base;
        AssertAt(schedule, lr, 0);
        for (int t = 1; t <= Steps; t++)
        {
            schedule.Step();
            if (t % StepSize == 0) lr *= Gamma;
            AssertAt(schedule, lr, t);
            // _get_closed_form_lr(): base * gamma ** (t // step_size). The chain rounds once per decay (half an ulp
            // each), the power once, so the two differ by at most (decays + 1) ulps: 1e-15 relative covers 13 decays.
            double closed = Base * Math.Pow(Gamma, t / StepSize);
            Assert.True(Math.Abs(lr - closed) <= 1e-15 * closed, $"step {t}: chain {lr:R}, closed form {closed:R}");
        }
    }

    [Fact]
    public void A_schedule_without_an_initial_learning_rate_starts_from_the_optimisers_float()
    {
        var optimizer = new Adam(Count, 0.1f);
        var schedule = new StepLR(optimizer, stepSize: 1, gamma: 0.5);
        Assert.Equal((double)0.1f, schedule.BaseLearningRate);
        schedule.Step();
        Assert.Equal(0.1f * 0.5, schedule.LearningRate);
    }

    [Fact]
    public void A_chainable_schedule_continues_from_a_learning_rate_set_by_hand_as_PyTorch_reads_group_lr()
    {
        var optimizer = new Sgd(Count, 0.1f);
        var schedule = new StepLR(optimizer, stepSize: 2, gamma: 0.5, initialLearningRate: 0.1);
        schedule.Step();
        Assert.Equal(0.1, schedule.LearningRate);
        optimizer.LearningRate = 0.03f;
        schedule.Step();
        Assert.Equal(0.03f * 0.5, schedule.LearningRate);
        Assert.Equal((float)(0.03f * 0.5), optimizer.LearningRate);
    }

    [Fact]
    public void StepLR_rejects_a_step_size_below_one()
    {
        Assert.Equal("stepSize", Assert.Throws<ArgumentOutOfRangeException>(() => new StepLR(new Sgd(Count, 0.1f), 0)).ParamName);
    }

    // ---- CosineAnnealingLR -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("sgd", 10, 0.001)]
    [InlineData("adam", 7, 0.0)]
    [InlineData("adamw", 1, 0.01)]
    public void CosineAnnealingLR_follows_PyTorchs_recursive_form_exactly_past_T_max(string kind, int tMax, double etaMin)
    {
        const double Base = 0.1;
        int steps = 4 * tMax + 3;   // through T_max, the branch at T_max + 1, the rise and the next branch at 3·T_max + 1
        Optimizer optimizer = Create(kind);
        var schedule = new CosineAnnealingLR(optimizer, tMax, etaMin, initialLearningRate: Base);
        double lr = Base;
        AssertAt(schedule, lr, 0);
        for (int t = 1; t <= steps; t++)
        {
            schedule.Step();
            // CosineAnnealingLR.get_lr() with _step_count > 1 (Python's % is non-negative for a positive divisor).
            int phase = ((t - 1 - tMax) % (2 * tMax) + 2 * tMax) % (2 * tMax);
            lr = phase == 0
                ? lr + (Base - etaMin) * (1 - Math.Cos(Math.PI / tMax)) / 2
                : (1 + Math.Cos(Math.PI * t / tMax)) / (1 + Math.Cos(Math.PI * (t - 1) / tMax)) * (lr - etaMin) + etaMin;
            AssertAt(schedule, lr, t);
            // The closed form of the docs. Each recursive step rounds a ratio, a product and a sum (a few ulps of
            // the base): 1e-14 of the base covers the 43 steps here with room.
            double closed = etaMin + (Base - etaMin) * (1 + Math.Cos(Math.PI * t / tMax)) / 2;
            Assert.True(Math.Abs(lr - closed) <= 1e-14 * Base, $"step {t}: recursive {lr:R}, closed form {closed:R}");
        }
    }

    // ---- ReduceLROnPlateau -------------------------------------------------------------------------------------

    /// <summary>ReduceLROnPlateau.step(metrics), written out from PyTorch's source: the sequence of learning rates.</summary>
    internal static double[] ReferencePlateau(double lr, double[] metrics, bool max, double factor, int patience, double threshold,
        bool absolute, int cooldown, double minLr, double eps)
    {
        double best = max ? double.NegativeInfinity : double.PositiveInfinity;
        int bad = 0, cooldownCounter = 0;
        var result = new double[metrics.Length];
        for (int i = 0; i < metrics.Length; i++)
        {
            double a = metrics[i];
            bool better = (max, absolute) switch
            {
                (false, false) => a < best * (1.0 - threshold),
                (false, true) => a < best - threshold,
                (true, false) => a > best * (threshold + 1.0),
                (true, true) => a > best + threshold,
            };
            if (better)
            {
                best = a;
                bad = 0;
            }
            else
            {
                bad++;
            }
            if (cooldownCounter > 0)
            {
                cooldownCounter--;
                bad = 0;
            }
            if (bad > patience)
            {
                double newLr = Math.Max(lr * factor, minLr);
                if (lr - newLr > eps) lr = newLr;
                cooldownCounter = cooldown;
                bad = 0;
            }
            result[i] = lr;
        }
        return result;
    }

    /// <summary>A metric that improves, stalls, improves by less than the threshold, goes NaN, then stalls for long.</summary>
    private static readonly double[] PlateauMetrics =
        [1.0, 0.8, 0.8, 0.79999, 0.81, 0.9, 0.7, double.NaN, 0.7, 0.7, 0.7, 0.7, 0.69, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7];

    [Theory]
    [InlineData("sgd", false, false, 0.5, 2, 1e-4, 0, 0.0, 1e-8)]
    [InlineData("adam", false, true, 0.1, 1, 0.005, 2, 1e-3, 1e-8)]
    [InlineData("adamw", true, false, 0.5, 0, 1e-4, 1, 0.0, 1e-8)]
    [InlineData("sgd", true, true, 0.3, 3, 0.0, 0, 0.0, 0.01)]
    public void ReduceLROnPlateau_matches_PyTorchs_rules(string kind, bool max, bool absolute, double factor, int patience,
        double threshold, int cooldown, double minLr, double eps)
    {
        const double Base = 0.1;
        double[] metrics = max ? [.. PlateauMetrics.Select(m => -m)] : PlateauMetrics;
        Optimizer optimizer = Create(kind);
        var schedule = new ReduceLROnPlateau(optimizer, max ? PlateauMode.Max : PlateauMode.Min, factor, patience, threshold,
            absolute ? ThresholdMode.Absolute : ThresholdMode.Relative, cooldown, minLr, eps, initialLearningRate: Base);
        double[] expected = ReferencePlateau(Base, metrics, max, factor, patience, threshold, absolute, cooldown, minLr, eps);
        Assert.True(expected.Distinct().Count() >= 2, "the case should reduce the learning rate at least once");
        AssertAt(schedule, Base, 0);
        for (int i = 0; i < metrics.Length; i++)
        {
            schedule.Step(metrics[i]);
            AssertAt(schedule, expected[i], i + 1);
        }
    }

    [Fact]
    public void ReduceLROnPlateau_needs_a_metric_and_a_factor_below_one()
    {
        var schedule = new ReduceLROnPlateau(new Adam(Count));
        Assert.Throws<InvalidOperationException>(schedule.Step);
        Assert.Equal("factor", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(new Adam(Count), factor: 1)).ParamName);
    }

    // ---- OneCycleLR --------------------------------------------------------------------------------------------

    /// <summary>OneCycleLR.get_lr() at last_epoch = step, from PyTorch's source: (lr, momentum).</summary>
    internal static (double Lr, double Momentum) ReferenceOneCycle(int step, double maxLr, int totalSteps, double pctStart, bool cos,
        double baseMomentum, double maxMomentum, double divFactor, double finalDivFactor, bool threePhase)
    {
        double initialLr = maxLr / divFactor, minLr = initialLr / finalDivFactor;
        (double End, double StartLr, double EndLr, double StartM, double EndM)[] phases = threePhase
            ?
            [
                ((double)(pctStart * totalSteps) - 1, initialLr, maxLr, maxMomentum, baseMomentum),
                ((double)(2 * pctStart * totalSteps) - 2, maxLr, initialLr, baseMomentum, maxMomentum),
                (totalSteps - 1, initialLr, minLr, maxMomentum, maxMomentum),
            ]
            :
            [
                ((double)(pctStart * totalSteps) - 1, initialLr, maxLr, maxMomentum, baseMomentum),
                (totalSteps - 1, maxLr, minLr, baseMomentum, maxMomentum),
            ];
        double Anneal(double start, double end, double pct) =>
            cos ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;
        double startStep = 0.0;
        for (int i = 0; i < phases.Length; i++)
        {
            if (step <= phases[i].End || i == phases.Length - 1)
            {
                double pct = (step - startStep) / (phases[i].End - startStep);
                return (Anneal(phases[i].StartLr, phases[i].EndLr, pct), Anneal(phases[i].StartM, phases[i].EndM, pct));
            }
            startStep = phases[i].End;
        }
        throw new InvalidOperationException("no phase");
    }

    [Theory]
    [InlineData("adam", 20, 0.3, true, false)]
    [InlineData("adamw", 37, 0.25, false, false)]
    [InlineData("sgd", 30, 0.3, true, true)]
    [InlineData("adam", 23, 0.4, false, true)]
    public void OneCycleLR_matches_PyTorchs_formulas_and_cycles_the_momentum(string kind, int totalSteps, double pctStart, bool cos, bool threePhase)
    {
        const double MaxLr = 0.2, BaseMomentum = 0.85, MaxMomentum = 0.95, DivFactor = 25, FinalDivFactor = 1e4;
        Optimizer optimizer = Create(kind);
        var schedule = new OneCycleLR(optimizer, MaxLr, totalSteps, pctStart, cos ? AnnealStrategy.Cos : AnnealStrategy.Linear,
            cycleMomentum: true, BaseMomentum, MaxMomentum, DivFactor, FinalDivFactor, threePhase);
        Assert.Equal(ScheduleInterval.Batch, schedule.DefaultInterval);
        // PyTorch allows total_steps steps after construction (last_epoch 0 .. total_steps), then raises.
        for (int step = 0; step <= totalSteps; step++)
        {
            if (step > 0) schedule.Step();
            (double lr, double momentum) = ReferenceOneCycle(step, MaxLr, totalSteps, pctStart, cos, BaseMomentum, MaxMomentum,
                DivFactor, FinalDivFactor, threePhase);
            AssertAt(schedule, lr, step);
            Assert.Equal(BitConverter.DoubleToInt64Bits(momentum), BitConverter.DoubleToInt64Bits(schedule.Momentum));
            float held = optimizer switch
            {
                Adam adam => adam.Beta1,
                Sgd sgd => sgd.Momentum,
                _ => float.NaN,
            };
            Assert.Equal((float)momentum, held);
        }
        var error = Assert.Throws<InvalidOperationException>(schedule.Step);
        Assert.Contains($"total steps is {totalSteps}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OneCycleLR_without_cycle_momentum_leaves_the_momentum_alone()
    {
        var adam = new Adam(Count, beta1: 0.9f);
        var schedule = new OneCycleLR(adam, 0.1, 10, cycleMomentum: false);
        schedule.Step();
        Assert.Equal(0.9f, adam.Beta1);
        Assert.True(double.IsNaN(schedule.Momentum));
    }

    [Fact]
    public void OneCycleLR_rejects_what_PyTorch_cannot_run()
    {
        // pct_start · total_steps = 1: the first phase spans zero steps and PyTorch divides 0 by 0 at step 0.
        Assert.Equal("pctStart", Assert.Throws<ArgumentException>(() => new OneCycleLR(new Adam(Count), 0.1, 10, pctStart: 0.1)).ParamName);
        Assert.Equal("pctStart", Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleLR(new Adam(Count), 0.1, 10, pctStart: 1.5)).ParamName);
        // Momentum cycling needs a momentum buffer: SGD without momentum has none.
        Assert.Equal("cycleMomentum", Assert.Throws<ArgumentException>(() => new OneCycleLR(new Sgd(Count, 0.1f), 0.1, 10)).ParamName);
        _ = new OneCycleLR(new Sgd(Count, 0.1f), 0.1, 10, cycleMomentum: false);
    }

    // ---- The optimiser uses what the schedule sets -------------------------------------------------------------

    [Theory]
    [MemberData(nameof(OptimizerKinds))]
    public void Each_optimiser_steps_with_the_scheduled_learning_rate(string kind)
    {
        float[] gradients = TestHelpers.RandomValues(Count, seed: 3);
        // The same optimiser stepped with its learning rate set by hand to the schedule's floats gives the same parameters.
        Optimizer scheduled = Create(kind), byHand = Create(kind);
        var schedule = new CosineAnnealingLR(scheduled, tMax: 5, etaMin: 0.001, initialLearningRate: 0.05);
        float[] a = TestHelpers.RandomValues(Count, seed: 4), b = (float[])a.Clone();
        for (int t = 1; t <= 8; t++)
        {
            byHand.LearningRate = (float)schedule.LearningRate;
            scheduled.Step(a, gradients);
            byHand.Step(b, gradients);
            schedule.Step();
        }
        TestHelpers.AssertBitEqual(b, a, $"{kind} parameters");
        Assert.NotEqual(0.05f, scheduled.LearningRate);
    }

    [Fact]
    public void A_schedule_step_allocates_nothing()
    {
        var adam = new Adam(Count);
        LearningRateSchedule[] schedules =
        [
            new StepLR(adam, 2), new CosineAnnealingLR(adam, 10), new OneCycleLR(adam, 0.1, 1000),
        ];
        var plateau = new ReduceLROnPlateau(adam);
        foreach (LearningRateSchedule schedule in schedules) schedule.Step();
        plateau.Step(1.0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            foreach (LearningRateSchedule schedule in schedules) schedule.Step();
            plateau.Step(1.0 + i);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
