using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ModelGen;

/// <summary>
/// Losses with their gradients, as PyTorch defines them with <c>reduction='mean'</c>. Each returns the loss and
/// writes dL/d(prediction) into <c>gradient</c>, ready to pass to <see cref="IRecurrentModel.Backward"/>.
/// </summary>
/// <remarks>
/// <c>gradient</c> may be the very span of the prediction (or logits) or of the target, to compute the gradient
/// in place: each element is read before it is written. Any other overlap is rejected, and so is any overlap with
/// a weight. Sums run in double; each gradient element is rounded to float once. Lengths are checked in 64 bits.
/// <para>Thread safety: static and stateless; calls from several threads are safe on separate buffers.</para>
/// </remarks>
public static class Losses
{
    /// <summary>
    /// <c>F.mse_loss(prediction, target)</c>: <c>mean((p − y)²)</c> over all elements; gradient <c>2 (p − y) / N</c>.
    /// </summary>
    public static float MeanSquaredError(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient) =>
        Pointwise(prediction, target, gradient, new Squared());

    /// <summary>
    /// <c>F.l1_loss(prediction, target)</c>: <c>mean(|p − y|)</c>; gradient <c>sign(p − y) / N</c>, 0 where p = y
    /// (PyTorch's <c>sgn</c>).
    /// </summary>
    public static float MeanAbsoluteError(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient) =>
        Pointwise(prediction, target, gradient, new Absolute());

    /// <summary>
    /// <c>F.smooth_l1_loss(prediction, target, beta=beta)</c>: with <c>z = |p − y|</c>, <c>0.5 z²/β</c> where
    /// <c>z &lt; β</c>, else <c>z − 0.5 β</c>, mean over elements; gradient <c>(p − y)/β</c> inside, <c>±1</c> outside,
    /// over N. <c>beta = 0</c> is <see cref="MeanAbsoluteError"/>, as in PyTorch.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> is negative or NaN (PyTorch: "smooth_l1_loss does not support negative values for beta").</exception>
    public static float SmoothL1(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient, float beta = 1f)
    {
        if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "smooth_l1_loss does not support negative values for beta.");
        return beta == 0 ? MeanAbsoluteError(prediction, target, gradient) : Pointwise(prediction, target, gradient, new SmoothAbsolute(beta));
    }

    /// <summary>
    /// <c>F.huber_loss(prediction, target, delta=delta)</c>: with <c>z = |p − y|</c>, <c>0.5 z²</c> where
    /// <c>z &lt; δ</c>, else <c>δ (z − 0.5 δ)</c>, mean over elements; gradient <c>p − y</c> inside, <c>±δ</c>
    /// outside, over N. It is δ · <see cref="SmoothL1"/> with β = δ.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is not positive (PyTorch: "huber_loss does not support non-positive values for delta").</exception>
    public static float Huber(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient, float delta = 1f)
    {
        if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "huber_loss does not support non-positive values for delta.");
        return Pointwise(prediction, target, gradient, new HuberTerm(delta));
    }

    /// <summary>
    /// <c>F.binary_cross_entropy_with_logits(logits, targets, pos_weight=positiveWeight)</c>: with
    /// <c>w = 1 + (pos_weight − 1)·y</c>, <c>(1 − y)·x + w·(log(1 + exp(−|x|)) + max(−x, 0))</c> — without a
    /// positive weight the stable <c>max(x, 0) − x·y + log(1 + exp(−|x|))</c> — mean over all elements; gradient
    /// <c>(w·σ(x) − pos_weight·y) / N</c>, i.e. <c>(σ(x) − y)/N</c> without one. Targets may be soft (any value in [0, 1]).
    /// </summary>
    /// <param name="logits">x, any shape, e.g. <c>[B, O]</c> for O independent labels.</param>
    /// <param name="targets">y, the same shape.</param>
    /// <param name="gradient">dL/dx, the same shape.</param>
    /// <param name="positiveWeight"><c>pos_weight</c> <c>[C]</c>, broadcast over the last dimension as PyTorch does
    /// (element i uses <c>positiveWeight[i % C]</c>), or empty for none.</param>
    public static float BinaryCrossEntropyWithLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient,
        ReadOnlySpan<float> positiveWeight = default)
    {
        CheckPointwise(logits, nameof(logits), targets, nameof(targets), gradient);
        if (!positiveWeight.IsEmpty && logits.Length % positiveWeight.Length != 0)
        {
            throw new ArgumentException(
                $"positiveWeight: expected [C] for logits [N, C], one weight per class of the last dimension; {positiveWeight.Length} weights do not divide {logits.Length} logits.",
                nameof(positiveWeight));
        }
        ArgumentChecks.NoOverlap(gradient, nameof(gradient), positiveWeight, nameof(positiveWeight));
        double sum = 0;
        int classes = positiveWeight.Length;
        for (int i = 0; i < logits.Length; i++)
        {
            double x = logits[i], y = targets[i];
            double positive = classes == 0 ? 1 : positiveWeight[i % classes];
            double weight = 1 + (positive - 1) * y;
            double minusLogSigmoid = Math.Max(-x, 0) + LogOnePlus(Math.Exp(-Math.Abs(x)));
            sum += (1 - y) * x + weight * minusLogSigmoid;
            gradient[i] = (float)((weight * Sigmoid(x) - positive * y) / logits.Length);
        }
        return (float)(sum / logits.Length);
    }

    /// <summary>
    /// <c>F.cross_entropy(logits.view(N, C), targets.view(N), weight=weight, ignore_index=ignoreIndex,
    /// label_smoothing=labelSmoothing)</c> with <c>reduction='mean'</c>. With <c>ℓ = log_softmax(logits[n])</c>,
    /// t = targets[n], ε = label smoothing, w the class weights (all 1 when empty), W = Σ_c w_c, and S the sum of
    /// <c>w[t]</c> over the rows not ignored:
    /// <c>loss = Σ_n [(1 − ε)·w_t·(−ℓ_t) + (ε/C)·Σ_c w_c·(−ℓ_c)] / S</c>;
    /// gradient of row n <c>[(1 − ε)·w_t·(softmax − onehot(t)) + (ε/C)·(W·softmax − w)] / S</c>. Without weight and
    /// smoothing that is the mean over rows of <c>logsumexp(logits[n]) − logits[n, t]</c>, gradient
    /// <c>(softmax − onehot)/N</c>.
    /// </summary>
    /// <remarks>
    /// Rows whose target is <paramref name="ignoreIndex"/> (PyTorch's default −100) contribute nothing and get a
    /// zero gradient; the mean is over the others. If every row is ignored the loss is NaN (0/0), as PyTorch returns,
    /// and the whole gradient is zero. With weights, the mean divides by the weights of the targets, exactly as
    /// PyTorch does (not by N).
    /// </remarks>
    /// <param name="logits"><c>[N, C]</c>, e.g. the <c>[B, T, O]</c> of PredictSequence with N = B·T, C = O.</param>
    /// <param name="classes">C.</param>
    /// <param name="targets"><c>[N]</c> class indices in <c>[0, C)</c>, or <paramref name="ignoreIndex"/>.</param>
    /// <param name="gradient"><c>[N, C]</c> dL/d(logits).</param>
    /// <param name="weight"><c>weight</c> <c>[C]</c>, or empty for none.</param>
    /// <param name="ignoreIndex"><c>ignore_index</c>.</param>
    /// <param name="labelSmoothing"><c>label_smoothing</c>, in [0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">A target is neither a class nor <paramref name="ignoreIndex"/>
    /// (nothing was written), or <paramref name="labelSmoothing"/> is outside [0, 1].</exception>
    public static float CrossEntropy(ReadOnlySpan<float> logits, int classes, ReadOnlySpan<int> targets, Span<float> gradient,
        ReadOnlySpan<float> weight = default, int ignoreIndex = -100, float labelSmoothing = 0f)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "classes must be at least 1.");
        int rows = targets.Length;
        if (rows == 0) throw new ArgumentException("targets: expected at least one element.", nameof(targets));
        if (logits.Length != (long)rows * classes) ThrowShape(nameof(logits), logits.Length, "[N, C]", rows, classes);
        if (gradient.Length != (long)rows * classes) ThrowShape(nameof(gradient), gradient.Length, "[N, C]", rows, classes);
        if (!weight.IsEmpty && weight.Length != classes) ThrowShape(nameof(weight), weight.Length, "[C]", classes);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label_smoothing must be between 0.0 and 1.0.");
        }
        ArgumentChecks.NoOverlap(gradient, nameof(gradient), logits, nameof(logits), sameIsSafe: true);
        ArgumentChecks.NoOverlap(gradient, nameof(gradient), weight, nameof(weight));

        // Every target is checked, and S summed, before any gradient is written.
        double targetWeights = 0;
        for (int n = 0; n < rows; n++)
        {
            int target = targets[n];
            if (target == ignoreIndex) continue;
            if ((uint)target >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), target,
                    $"targets[{n}] = {target} is not a class in [0, {classes}) nor the ignored index {ignoreIndex}.");
            }
            targetWeights += weight.IsEmpty ? 1 : weight[target];
        }
        double allWeights = classes;
        if (!weight.IsEmpty)
        {
            allWeights = 0;
            foreach (float w in weight) allWeights += w;
        }
        double smoothing = labelSmoothing, spread = smoothing / classes;
        bool plain = weight.IsEmpty && labelSmoothing == 0;
        float plainScale = 1f / (float)targetWeights;

        double total = 0;
        for (int n = 0; n < rows; n++)
        {
            ReadOnlySpan<float> row = logits.Slice(n * classes, classes);
            Span<float> rowGradient = gradient.Slice(n * classes, classes);
            int target = targets[n];
            if (target == ignoreIndex)
            {
                rowGradient.Clear();
                continue;
            }
            // Everything read from the row before its gradient is written: gradient may be the logits themselves.
            double targetWeight = weight.IsEmpty ? 1 : weight[target];
            float targetLogit = row[target];
            float max = float.NegativeInfinity;
            foreach (float logit in row) max = MathF.Max(max, logit);
            double weightedLogits = 0;
            if (smoothing != 0)
            {
                for (int c = 0; c < classes; c++) weightedLogits += (weight.IsEmpty ? 1 : weight[c]) * (double)row[c];
            }
            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                float e = MathF.Exp(row[c] - max);
                rowGradient[c] = e;
                sum += e;
            }
            double logSumExp = Math.Log(sum) + max;
            // −Σ_c w_c·ℓ_c = W·logsumexp − Σ_c w_c·z_c.
            total += (1 - smoothing) * targetWeight * (logSumExp - targetLogit)
                + (smoothing == 0 ? 0 : spread * (allWeights * logSumExp - weightedLogits));
            if (plain)
            {
                // (softmax − onehot)/N in float, as before weights and smoothing existed.
                float normaliser = (float)(plainScale / sum);
                for (int c = 0; c < classes; c++) rowGradient[c] *= normaliser;
                rowGradient[target] -= plainScale;
                continue;
            }
            // softmax_j = e_j / sum; the gradient is a·softmax_j − b_j, in double.
            double scale = ((1 - smoothing) * targetWeight + spread * allWeights) / targetWeights / sum;
            for (int c = 0; c < classes; c++)
            {
                double subtract = (c == target ? (1 - smoothing) * targetWeight : 0) + spread * (weight.IsEmpty ? 1 : weight[c]);
                rowGradient[c] = (float)(rowGradient[c] * scale - subtract / targetWeights);
            }
        }
        return (float)(total / targetWeights);
    }

    /// <summary>A loss that is a mean over elements of a function of <c>d = p − y</c> (computed in float, as PyTorch does).</summary>
    private interface IPointwise
    {
        /// <summary>The term of one element, in double.</summary>
        double Value(float difference);

        /// <summary>dL/dp of one element: the term's derivative over <paramref name="count"/>, rounded once to float.</summary>
        float Gradient(float difference, int count);
    }

    private readonly struct Squared : IPointwise
    {
        public double Value(float difference) => (double)difference * difference;

        // In float, as it always was: (2/N)·d, so that MSE's gradients stay bit for bit what they were.
        public float Gradient(float difference, int count) => 2f / count * difference;
    }

    private readonly struct Absolute : IPointwise
    {
        public double Value(float difference) => Math.Abs(difference);

        public float Gradient(float difference, int count) => float.IsNaN(difference) ? float.NaN : (float)((double)Math.Sign(difference) / count);
    }

    /// <summary>PyTorch's smooth_l1 kernels: the forward picks the square where <c>z &lt; β</c>, the backward ±1 where <c>|d| ≥ β</c>.</summary>
    private readonly struct SmoothAbsolute(float beta) : IPointwise
    {
        public double Value(float difference)
        {
            double z = Math.Abs(difference);
            return z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
        }

        public float Gradient(float difference, int count) =>
            (float)((difference <= -beta ? -1 : difference >= beta ? 1 : (double)difference / beta) / count);
    }

    /// <summary>PyTorch's huber kernels: the square where <c>z &lt; δ</c>, ±δ in the backward where <c>|d| ≥ δ</c>.</summary>
    private readonly struct HuberTerm(float delta) : IPointwise
    {
        public double Value(float difference)
        {
            double z = Math.Abs(difference);
            return z < delta ? 0.5 * z * z : delta * (z - 0.5 * delta);
        }

        public float Gradient(float difference, int count) =>
            (float)((difference <= -delta ? -delta : difference >= delta ? delta : (double)difference) / count);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Pointwise<TLoss>(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient, TLoss loss)
        where TLoss : struct, IPointwise
    {
        CheckPointwise(prediction, nameof(prediction), target, nameof(target), gradient);
        double sum = 0;
        for (int i = 0; i < prediction.Length; i++)
        {
            float difference = prediction[i] - target[i];
            sum += loss.Value(difference);
            gradient[i] = loss.Gradient(difference, prediction.Length);
        }
        return (float)(sum / prediction.Length);
    }

    /// <summary>
    /// log(1 + u) accurate for tiny u, where <c>Math.Log(1 + u)</c> loses u to rounding (Goldberg's correction:
    /// the rounding of <c>1 + u</c> is divided out).
    /// </summary>
    private static double LogOnePlus(double u)
    {
        double w = 1 + u;
        return w == 1 ? u : Math.Log(w) * u / (w - 1);
    }

    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    private static void CheckPointwise(ReadOnlySpan<float> prediction, string predictionName, ReadOnlySpan<float> target, string targetName,
        Span<float> gradient)
    {
        if (target.Length != prediction.Length) ThrowMismatch(targetName, target.Length, predictionName, prediction.Length);
        if (gradient.Length != prediction.Length) ThrowMismatch(nameof(gradient), gradient.Length, predictionName, prediction.Length);
        if (prediction.IsEmpty) throw new ArgumentException($"{predictionName}: expected at least one element.", predictionName);
        ArgumentChecks.NoOverlap(gradient, nameof(gradient), prediction, predictionName, sameIsSafe: true);
        ArgumentChecks.NoOverlap(gradient, nameof(gradient), target, targetName, sameIsSafe: true);
    }

    // The messages are built only on failure: a warm loss allocates nothing.
    [DoesNotReturn]
    private static void ThrowMismatch(string name, int actual, string otherName, int expected) =>
        throw new ArgumentException($"{name}: expected {expected} elements (the shape of {otherName}), got {actual}.", name);

    [DoesNotReturn]
    private static void ThrowShape(string name, int actual, string shape, params ReadOnlySpan<int> sizes)
    {
        long expected = 1;
        foreach (int size in sizes) expected *= size;
        throw new ArgumentException($"{name}: expected {shape} = [{string.Join(", ", sizes.ToArray())}] ({expected} elements), got {actual}.", name);
    }
}
