namespace ModelGen;

/// <summary>
/// Losses with their gradients, as PyTorch defines them with <c>reduction='mean'</c>. Each returns the loss and
/// writes dL/d(prediction) into <c>gradient</c>, ready to pass to <see cref="IRecurrentModel.Backward"/>.
/// </summary>
/// <remarks>
/// <c>gradient</c> may be the very span of the prediction (or logits) or of the target, to compute the gradient
/// in place: each element is read before it is written. Any other overlap is rejected.
/// </remarks>
public static class Losses
{
    /// <summary>
    /// <c>F.mse_loss(prediction, target)</c>: <c>mean((p − y)²)</c> over all elements; gradient <c>2 (p − y) / N</c>.
    /// </summary>
    public static float MeanSquaredError(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient)
    {
        RequireLength(nameof(target), target.Length, prediction.Length);
        RequireLength(nameof(gradient), gradient.Length, prediction.Length);
        if (prediction.IsEmpty) throw new ArgumentException("prediction: expected at least one element.", nameof(prediction));
        ArgumentChecks.NoOverlap(gradient, nameof(gradient), prediction, nameof(prediction), sameIsSafe: true);
        ArgumentChecks.NoOverlap(gradient, nameof(gradient), target, nameof(target), sameIsSafe: true);
        double sum = 0;
        float scale = 2f / prediction.Length;
        for (int i = 0; i < prediction.Length; i++)
        {
            float difference = prediction[i] - target[i];
            sum += (double)difference * difference;
            gradient[i] = scale * difference;
        }
        return (float)(sum / prediction.Length);
    }

    /// <summary>
    /// <c>F.cross_entropy(logits.view(N, C), targets.view(N))</c>: the mean over N rows of
    /// <c>logsumexp(logits[n]) − logits[n, targets[n]]</c>; gradient <c>(softmax(logits[n]) − onehot(targets[n])) / N</c>.
    /// </summary>
    /// <param name="logits"><c>[N, C]</c>, e.g. the <c>[B, T, O]</c> of PredictSequence with N = B·T, C = O.</param>
    /// <param name="classes">C.</param>
    /// <param name="targets"><c>[N]</c> class indices in <c>[0, C)</c>.</param>
    /// <param name="gradient"><c>[N, C]</c> dL/d(logits).</param>
    public static float CrossEntropy(ReadOnlySpan<float> logits, int classes, ReadOnlySpan<int> targets, Span<float> gradient)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "classes must be at least 1.");
        int rows = targets.Length;
        if (rows == 0) throw new ArgumentException("targets: expected at least one element.", nameof(targets));
        RequireLength(nameof(logits), logits.Length, (long)rows * classes);
        RequireLength(nameof(gradient), gradient.Length, (long)rows * classes);
        ArgumentChecks.NoOverlap(gradient, nameof(gradient), logits, nameof(logits), sameIsSafe: true);
        double total = 0;
        float scale = 1f / rows;
        for (int n = 0; n < rows; n++)
        {
            int target = targets[n];
            if ((uint)target >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), target, $"targets[{n}] = {target} is not a class in [0, {classes}).");
            }
            ReadOnlySpan<float> row = logits.Slice(n * classes, classes);
            Span<float> rowGradient = gradient.Slice(n * classes, classes);
            // Read before the row's gradient is written: gradient may be the logits themselves.
            float targetLogit = row[target];
            float max = float.NegativeInfinity;
            foreach (float logit in row) max = MathF.Max(max, logit);
            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                float e = MathF.Exp(row[c] - max);
                rowGradient[c] = e;
                sum += e;
            }
            total += Math.Log(sum) + max - targetLogit;
            float normaliser = (float)(scale / sum);
            for (int c = 0; c < classes; c++) rowGradient[c] *= normaliser;
            rowGradient[target] -= scale;
        }
        return (float)(total / rows);
    }

    private static void RequireLength(string name, int actual, long expected)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name}: expected {expected} elements, got {actual}.", name);
        }
    }
}
