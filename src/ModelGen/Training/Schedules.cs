namespace ModelGen;

/// <summary>When <see cref="Trainer"/>'s fits step a <see cref="LearningRateSchedule"/>.</summary>
public enum ScheduleInterval
{
    /// <summary>After every epoch, once the validation loss is known (PyTorch's <c>scheduler.step()</c> after <c>validate()</c>).</summary>
    Epoch,

    /// <summary>After every optimisation step (PyTorch's <c>scheduler.step()</c> after <c>optimizer.step()</c>).</summary>
    Batch,
}

/// <summary>
/// A learning-rate schedule as in <c>torch.optim.lr_scheduler</c>: each <see cref="Step()"/> computes the next
/// learning rate and assigns it to <see cref="Optimizer"/>'s <see cref="ModelGen.Optimizer.LearningRate"/>.
/// </summary>
/// <remarks>
/// <para>
/// PyTorch computes schedules in Python floats (double) and keeps <c>param_groups[0]["lr"]</c> as one; the optimisers
/// here hold a float. A schedule therefore keeps the learning rate in double (<see cref="LearningRate"/>) and
/// assigns it rounded to float, so that its sequence is PyTorch's to the bit and the optimiser sees the float
/// PyTorch's kernels would use.
/// </para>
/// <para>
/// The chainable schedules (<see cref="StepLR"/>, <see cref="CosineAnnealingLR"/>, <see cref="ReduceLROnPlateau"/>)
/// continue, as PyTorch's do, from the optimiser's learning rate when something else has changed it since the
/// schedule's last step; otherwise from their own double. <see cref="OneCycleLR"/> is not chainable, as in PyTorch.
/// </para>
/// <para>Stepping allocates nothing. A schedule has no saved state: a checkpoint holds parameters and optimiser state.</para>
/// <para>Thread safety: not thread-safe; a schedule belongs, with its optimiser, to the thread that trains.</para>
/// </remarks>
public abstract class LearningRateSchedule
{
    private protected LearningRateSchedule(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
    }

    /// <summary>The optimiser whose learning rate the schedule sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The current learning rate in double: PyTorch's <c>scheduler.get_last_lr()[0]</c>.</summary>
    public double LearningRate { get; private set; }

    /// <summary>Steps taken since construction: PyTorch's <c>scheduler.last_epoch</c>.</summary>
    public int StepCount { get; private set; }

    /// <summary>When a fit steps this schedule unless <see cref="FitOptions.ScheduleInterval"/> says otherwise.</summary>
    public virtual ScheduleInterval DefaultInterval => ScheduleInterval.Epoch;

    /// <summary>The most steps the schedule allows (PyTorch raises past them); null for no limit.</summary>
    public virtual int? StepLimit => null;

    /// <summary>Whether <see cref="Step()"/> needs a metric (only <see cref="ReduceLROnPlateau"/>).</summary>
    internal virtual bool NeedsMetric => false;

    /// <summary>
    /// The learning rate the next step continues from: the schedule's own double, unless the optimiser's float
    /// no longer is its rounding (someone set it by hand), in which case the optimiser's, as PyTorch's chainable
    /// form reads <c>group["lr"]</c>.
    /// </summary>
    private protected double Current =>
        Optimizer.LearningRate == (float)LearningRate ? LearningRate : Optimizer.LearningRate;

    /// <summary>PyTorch's <c>scheduler.step()</c>: advances one step and sets the optimiser's learning rate.</summary>
    /// <exception cref="InvalidOperationException">The schedule needs a metric (<see cref="ReduceLROnPlateau.Step(double)"/>), or is past its <see cref="StepLimit"/>.</exception>
    public void Step()
    {
        if (NeedsMetric)
        {
            throw new InvalidOperationException($"{GetType().Name} steps on a metric: call Step(metric) with the validation loss.");
        }
        Advance(double.NaN);
    }

    /// <summary>One step with <paramref name="metric"/> (ignored by schedules that need none).</summary>
    internal void Advance(double metric)
    {
        if (StepLimit is int limit && StepCount >= limit)
        {
            throw new InvalidOperationException(
                $"Tried to step {StepCount + 1} times. The specified number of total steps is {limit}.");
        }
        StepCount++;
        Apply(Next(StepCount, metric));
    }

    /// <summary>The learning rate after step <paramref name="step"/> (1-based).</summary>
    private protected abstract double Next(int step, double metric);

    /// <summary>Sets the learning rate, in double here and rounded to float on the optimiser.</summary>
    private protected void Apply(double learningRate)
    {
        LearningRate = learningRate;
        Optimizer.LearningRate = (float)learningRate;
    }

    /// <summary>The starting learning rate: <paramref name="initial"/> when given, else the optimiser's widened.</summary>
    private protected double Initial(double? initial, string name)
    {
        double value = initial ?? Optimizer.LearningRate;
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite.");
        }
        return value;
    }

    private protected static void RequirePositive(int value, string name)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
    }
}

/// <summary>
/// <c>torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma=0.1)</c>: the learning rate is multiplied by
/// <c>gamma</c> at every <c>step_size</c>-th step, in PyTorch's chainable form <c>lr_t = lr_{t−1}·γ</c> when
/// <c>t % step_size == 0</c> (the closed form <c>base·γ^⌊t/step_size⌋</c> differs from it by double rounding).
/// </summary>
public sealed class StepLR : LearningRateSchedule
{
    /// <summary>Creates the schedule and sets the optimiser's learning rate to the initial one.</summary>
    /// <param name="optimizer">Any optimiser.</param>
    /// <param name="stepSize"><c>step_size</c>, at least 1.</param>
    /// <param name="gamma"><c>gamma</c>.</param>
    /// <param name="initialLearningRate">PyTorch's <c>lr=</c> as a double; default the optimiser's
    /// <see cref="Optimizer.LearningRate"/> widened. Pass the same decimal as in PyTorch (0.1, not 0.1f) to get its sequence to the bit.</param>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1, double? initialLearningRate = null) : base(optimizer)
    {
        RequirePositive(stepSize, nameof(stepSize));
        StepSize = stepSize;
        Gamma = gamma;
        BaseLearningRate = Initial(initialLearningRate, nameof(initialLearningRate));
        Apply(BaseLearningRate);
    }

    /// <summary><c>step_size</c>.</summary>
    public int StepSize { get; }

    /// <summary><c>gamma</c>.</summary>
    public double Gamma { get; }

    /// <summary><c>base_lrs[0]</c>.</summary>
    public double BaseLearningRate { get; }

    private protected override double Next(int step, double metric) => step % StepSize == 0 ? Current * Gamma : Current;
}

/// <summary>
/// <c>torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max, eta_min=0)</c> in PyTorch's recursive
/// (chainable) form, which is what its <c>step()</c> computes:
/// <c>lr_t = η_min + (lr_{t−1} − η_min)·(1 + cos(πt/T_max)) / (1 + cos(π(t−1)/T_max))</c>, and
/// <c>lr_t = lr_{t−1} + (base − η_min)(1 − cos(π/T_max))/2</c> when <c>(t − 1 − T_max) mod 2T_max = 0</c>. It agrees
/// with the closed form <c>η_min + (base − η_min)(1 + cos(πt/T_max))/2</c> up to double rounding; past
/// <c>T_max</c> the learning rate rises again along the cosine, as in PyTorch.
/// </summary>
public sealed class CosineAnnealingLR : LearningRateSchedule
{
    /// <summary>Creates the schedule and sets the optimiser's learning rate to the initial one.</summary>
    /// <param name="optimizer">Any optimiser.</param>
    /// <param name="tMax"><c>T_max</c>, at least 1.</param>
    /// <param name="etaMin"><c>eta_min</c>.</param>
    /// <param name="initialLearningRate">As for <see cref="StepLR"/>.</param>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0, double? initialLearningRate = null) : base(optimizer)
    {
        RequirePositive(tMax, nameof(tMax));
        if (!double.IsFinite(etaMin)) throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, "etaMin must be finite.");
        TMax = tMax;
        EtaMin = etaMin;
        BaseLearningRate = Initial(initialLearningRate, nameof(initialLearningRate));
        Apply(BaseLearningRate);
    }

    /// <summary><c>T_max</c>.</summary>
    public int TMax { get; }

    /// <summary><c>eta_min</c>.</summary>
    public double EtaMin { get; }

    /// <summary><c>base_lrs[0]</c>.</summary>
    public double BaseLearningRate { get; }

    private protected override double Next(int step, double metric)
    {
        // (t − 1 − T_max) % (2 T_max) == 0 in Python; a zero remainder is zero under C#'s % too.
        if ((step - 1L - TMax) % (2L * TMax) == 0)
        {
            return Current + (BaseLearningRate - EtaMin) * (1 - Math.Cos(Math.PI / TMax)) / 2;
        }
        return (1 + Math.Cos(Math.PI * step / TMax)) / (1 + Math.Cos(Math.PI * (step - 1) / TMax)) * (Current - EtaMin) + EtaMin;
    }
}

/// <summary><c>mode</c> of <see cref="ReduceLROnPlateau"/>.</summary>
public enum PlateauMode
{
    /// <summary><c>'min'</c>: lower is better (a loss).</summary>
    Min,

    /// <summary><c>'max'</c>: higher is better (an accuracy).</summary>
    Max,
}

/// <summary><c>threshold_mode</c> of <see cref="ReduceLROnPlateau"/>.</summary>
public enum ThresholdMode
{
    /// <summary><c>'rel'</c>: better than <c>best·(1 ∓ threshold)</c>.</summary>
    Relative,

    /// <summary><c>'abs'</c>: better than <c>best ∓ threshold</c>.</summary>
    Absolute,
}

/// <summary>
/// <c>torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4,
/// threshold_mode='rel', cooldown=0, min_lr=0, eps=1e-8)</c>: after more than <c>patience</c> steps without a better
/// metric, <c>lr = max(lr·factor, min_lr)</c> (skipped when that changes it by <c>eps</c> or less), then
/// <c>cooldown</c> steps in which bad steps are not counted. A NaN metric is never better, as in PyTorch.
/// </summary>
public sealed class ReduceLROnPlateau : LearningRateSchedule
{
    /// <summary>Creates the schedule with PyTorch's defaults.</summary>
    /// <param name="optimizer">Any optimiser.</param>
    /// <param name="mode"><c>mode</c>.</param>
    /// <param name="factor"><c>factor</c>, below 1.</param>
    /// <param name="patience"><c>patience</c>, at least 0.</param>
    /// <param name="threshold"><c>threshold</c>.</param>
    /// <param name="thresholdMode"><c>threshold_mode</c>.</param>
    /// <param name="cooldown"><c>cooldown</c>, at least 0.</param>
    /// <param name="minLearningRate"><c>min_lr</c>.</param>
    /// <param name="eps"><c>eps</c>.</param>
    /// <param name="initialLearningRate">As for <see cref="StepLR"/>.</param>
    public ReduceLROnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10,
        double threshold = 1e-4, ThresholdMode thresholdMode = ThresholdMode.Relative, int cooldown = 0,
        double minLearningRate = 0, double eps = 1e-8, double? initialLearningRate = null) : base(optimizer)
    {
        if (!(factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "Factor should be < 1.0 (as PyTorch requires).");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "mode must be Min or Max.");
        if (!Enum.IsDefined(thresholdMode)) throw new ArgumentOutOfRangeException(nameof(thresholdMode), thresholdMode, "thresholdMode must be Relative or Absolute.");
        Mode = mode;
        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        ThresholdMode = thresholdMode;
        Cooldown = cooldown;
        MinLearningRate = minLearningRate;
        Eps = eps;
        Best = mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;
        Apply(Initial(initialLearningRate, nameof(initialLearningRate)));
    }

    /// <summary><c>mode</c>.</summary>
    public PlateauMode Mode { get; }

    /// <summary><c>factor</c>.</summary>
    public double Factor { get; }

    /// <summary><c>patience</c>.</summary>
    public int Patience { get; }

    /// <summary><c>threshold</c>.</summary>
    public double Threshold { get; }

    /// <summary><c>threshold_mode</c>.</summary>
    public ThresholdMode ThresholdMode { get; }

    /// <summary><c>cooldown</c>.</summary>
    public int Cooldown { get; }

    /// <summary><c>min_lr</c>.</summary>
    public double MinLearningRate { get; }

    /// <summary><c>eps</c>.</summary>
    public double Eps { get; }

    /// <summary><c>best</c>: the best metric so far (±∞ before the first step).</summary>
    public double Best { get; private set; }

    /// <summary><c>num_bad_epochs</c>.</summary>
    public int BadSteps { get; private set; }

    /// <summary><c>cooldown_counter</c>.</summary>
    public int CooldownRemaining { get; private set; }

    /// <inheritdoc/>
    internal override bool NeedsMetric => true;

    /// <summary>PyTorch's <c>scheduler.step(metric)</c>, after validation.</summary>
    public void Step(double metric) => Advance(metric);

    private protected override double Next(int step, double metric)
    {
        if (IsBetter(metric))
        {
            Best = metric;
            BadSteps = 0;
        }
        else
        {
            BadSteps++;
        }
        if (CooldownRemaining > 0)
        {
            CooldownRemaining--;
            BadSteps = 0;
        }
        double learningRate = Current;
        if (BadSteps > Patience)
        {
            double reduced = Math.Max(learningRate * Factor, MinLearningRate);
            if (learningRate - reduced > Eps) learningRate = reduced;
            CooldownRemaining = Cooldown;
            BadSteps = 0;
        }
        return learningRate;
    }

    private bool IsBetter(double metric) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Relative) => metric < Best * (1.0 - Threshold),
        (PlateauMode.Min, ThresholdMode.Absolute) => metric < Best - Threshold,
        (PlateauMode.Max, ThresholdMode.Relative) => metric > Best * (Threshold + 1.0),
        _ => metric > Best + Threshold,
    };
}

/// <summary><c>anneal_strategy</c> of <see cref="OneCycleLR"/>.</summary>
public enum AnnealStrategy
{
    /// <summary><c>'cos'</c>: <c>end + (start − end)/2·(cos(π·pct) + 1)</c>.</summary>
    Cos,

    /// <summary><c>'linear'</c>: <c>(end − start)·pct + start</c>.</summary>
    Linear,
}

/// <summary>
/// <c>torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, total_steps, pct_start=0.3, anneal_strategy='cos',
/// cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25, final_div_factor=1e4,
/// three_phase=False)</c>: from <c>max_lr/div_factor</c> up to <c>max_lr</c> over the first <c>pct_start</c> of the
/// steps, then down to <c>max_lr/div_factor/final_div_factor</c>, stepped after every batch. Like PyTorch it
/// allows <c>total_steps</c> steps after construction and throws on the next.
/// </summary>
/// <remarks>
/// With <c>cycleMomentum</c> (PyTorch's default) the momentum moves inversely, from <c>max_momentum</c> to
/// <c>base_momentum</c> and back, computed by PyTorch's formulas in double and assigned rounded to float:
/// <see cref="Adam.Beta1"/> for <see cref="Adam"/> and <see cref="AdamW"/> (PyTorch's <c>betas[0]</c>), and
/// <see cref="Sgd.Momentum"/> for an <see cref="Sgd"/> made with a non-zero momentum. PyTorch's <c>epochs</c> and
/// <c>steps_per_epoch</c> are <c>totalSteps = epochs · steps_per_epoch</c>.
/// </remarks>
public sealed class OneCycleLR : LearningRateSchedule
{
    private readonly (double EndStep, double StartLr, double EndLr, double StartMomentum, double EndMomentum)[] _phases;

    /// <summary>Creates the schedule and sets the optimiser's learning rate (and momentum) to those of step 0.</summary>
    /// <param name="optimizer">Any optimiser; with <paramref name="cycleMomentum"/>, an <see cref="Adam"/>,
    /// <see cref="AdamW"/> or <see cref="Sgd"/> with momentum.</param>
    /// <param name="maxLearningRate"><c>max_lr</c>.</param>
    /// <param name="totalSteps"><c>total_steps</c>, at least 1.</param>
    /// <param name="pctStart"><c>pct_start</c>, in [0, 1].</param>
    /// <param name="annealStrategy"><c>anneal_strategy</c>.</param>
    /// <param name="cycleMomentum"><c>cycle_momentum</c>.</param>
    /// <param name="baseMomentum"><c>base_momentum</c>.</param>
    /// <param name="maxMomentum"><c>max_momentum</c>.</param>
    /// <param name="divFactor"><c>div_factor</c>.</param>
    /// <param name="finalDivFactor"><c>final_div_factor</c>.</param>
    /// <param name="threePhase"><c>three_phase</c>.</param>
    /// <exception cref="ArgumentException">A phase would span zero steps, where PyTorch divides by zero (ZeroDivisionError) when a step lands in it; or <paramref name="cycleMomentum"/> with an optimiser that has no momentum.</exception>
    public OneCycleLR(Optimizer optimizer, double maxLearningRate, int totalSteps, double pctStart = 0.3,
        AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool cycleMomentum = true, double baseMomentum = 0.85,
        double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false) : base(optimizer)
    {
        RequirePositive(totalSteps, nameof(totalSteps));
        if (!(pctStart >= 0 && pctStart <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, $"Expected float between 0 and 1 pct_start, but got {pctStart}.");
        }
        if (!Enum.IsDefined(annealStrategy)) throw new ArgumentOutOfRangeException(nameof(annealStrategy), annealStrategy, "annealStrategy must be Cos or Linear.");
        if (cycleMomentum)
        {
            if (optimizer is Sgd sgd && (sgd.Momentum == 0 || !(baseMomentum > 0 && maxMomentum > 0)))
            {
                throw new ArgumentException(
                    "cycleMomentum with Sgd needs an Sgd made with a non-zero momentum and positive baseMomentum and maxMomentum " +
                    "(its momentum buffer exists only then); pass cycleMomentum: false to leave the momentum alone.", nameof(cycleMomentum));
            }
            if (optimizer is not (Sgd or Adam))
            {
                throw new ArgumentException(
                    $"optimizer must support momentum or beta1 with `cycle_momentum` option enabled; {optimizer.GetType().Name} has neither (pass cycleMomentum: false).",
                    nameof(cycleMomentum));
            }
        }
        MaxLearningRate = maxLearningRate;
        TotalSteps = totalSteps;
        AnnealStrategy = annealStrategy;
        CycleMomentum = cycleMomentum;
        InitialLearningRate = maxLearningRate / divFactor;
        MinLearningRate = InitialLearningRate / finalDivFactor;
        double initial = InitialLearningRate, max = maxLearningRate, min = MinLearningRate;
        _phases = threePhase
            ?
            [
                (pctStart * totalSteps - 1, initial, max, maxMomentum, baseMomentum),
                (2 * pctStart * totalSteps - 2, max, initial, baseMomentum, maxMomentum),
                (totalSteps - 1, initial, min, maxMomentum, maxMomentum),
            ]
            :
            [
                (pctStart * totalSteps - 1, initial, max, maxMomentum, baseMomentum),
                (totalSteps - 1, max, min, baseMomentum, maxMomentum),
            ];
        double start = 0;
        foreach (var phase in _phases)
        {
            if (phase.EndStep - start == 0)
            {
                throw new ArgumentException(
                    $"pctStart {pctStart} with totalSteps {totalSteps}{(threePhase ? " and threePhase" : "")} gives a phase of zero steps, " +
                    "where PyTorch divides by zero (ZeroDivisionError); choose another pctStart.", nameof(pctStart));
            }
            start = phase.EndStep;
        }
        Momentum = double.NaN;
        Apply(Compute(0));
    }

    /// <summary><c>max_lr</c>.</summary>
    public double MaxLearningRate { get; }

    /// <summary><c>initial_lr</c> = <c>max_lr / div_factor</c>.</summary>
    public double InitialLearningRate { get; }

    /// <summary><c>min_lr</c> = <c>initial_lr / final_div_factor</c>.</summary>
    public double MinLearningRate { get; }

    /// <summary><c>total_steps</c>.</summary>
    public int TotalSteps { get; }

    /// <summary><c>anneal_strategy</c>.</summary>
    public AnnealStrategy AnnealStrategy { get; }

    /// <summary><c>cycle_momentum</c>.</summary>
    public bool CycleMomentum { get; }

    /// <summary>The momentum (β1) of the current step in double; NaN without <see cref="CycleMomentum"/>.</summary>
    public double Momentum { get; private set; }

    /// <inheritdoc/>
    public override ScheduleInterval DefaultInterval => ScheduleInterval.Batch;

    /// <inheritdoc/>
    public override int? StepLimit => TotalSteps;

    private protected override double Next(int step, double metric) => Compute(step);

    /// <summary>PyTorch's <c>get_lr()</c> at <c>last_epoch = step</c>, setting the momentum on the way as it does.</summary>
    private double Compute(int step)
    {
        double start = 0;
        for (int i = 0; i < _phases.Length; i++)
        {
            var phase = _phases[i];
            if (step <= phase.EndStep || i == _phases.Length - 1)
            {
                double pct = (step - start) / (phase.EndStep - start);
                if (CycleMomentum) SetMomentum(Anneal(phase.StartMomentum, phase.EndMomentum, pct));
                return Anneal(phase.StartLr, phase.EndLr, pct);
            }
            start = phase.EndStep;
        }
        throw new InvalidOperationException("unreachable: the last phase always applies");
    }

    private double Anneal(double start, double end, double pct) => AnnealStrategy == AnnealStrategy.Cos
        ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1)
        : (end - start) * pct + start;

    private void SetMomentum(double momentum)
    {
        Momentum = momentum;
        switch (Optimizer)
        {
            case Adam adam:
                adam.Beta1 = (float)momentum;
                break;
            case Sgd sgd:
                sgd.Momentum = (float)momentum;
                break;
        }
    }
}
