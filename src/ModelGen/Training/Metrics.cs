namespace ModelGen;

/// <summary>
/// The counts a classification metric needs: per class, the true positives and how often the class was the
/// target and the prediction (the diagonal and the margins of the confusion matrix, O(C) memory, so a vocabulary
/// of any size fits). Accuracy and macro-F1 derive from them, as scikit-learn's <c>accuracy_score</c> and
/// <c>f1_score(average='macro')</c> do.
/// </summary>
/// <remarks>Thread safety: not thread-safe while counts are added; once complete, any number of threads may read it.</remarks>
public sealed class ConfusionCounts
{
    private readonly long[] _truePositives;
    private readonly long[] _targets;
    private readonly long[] _predictions;

    /// <summary>Empty counts for <paramref name="classes"/> classes.</summary>
    public ConfusionCounts(int classes)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "classes must be at least 1.");
        Classes = classes;
        _truePositives = new long[classes];
        _targets = new long[classes];
        _predictions = new long[classes];
    }

    /// <summary>C.</summary>
    public int Classes { get; }

    /// <summary>Samples counted.</summary>
    public long Count { get; private set; }

    /// <summary>Samples whose prediction was the target.</summary>
    public long Correct { get; private set; }

    /// <summary>Samples of target <paramref name="c"/> predicted as <paramref name="c"/>.</summary>
    public long TruePositives(int c) => _truePositives[CheckClass(c, nameof(c))];

    /// <summary>Samples predicted as <paramref name="c"/> whose target was another class.</summary>
    public long FalsePositives(int c) => _predictions[CheckClass(c, nameof(c))] - _truePositives[c];

    /// <summary>Samples of target <paramref name="c"/> predicted as another class.</summary>
    public long FalseNegatives(int c) => _targets[CheckClass(c, nameof(c))] - _truePositives[c];

    /// <summary><c>accuracy_score</c>: <see cref="Correct"/> / <see cref="Count"/>; NaN before any sample.</summary>
    public double Accuracy => Count == 0 ? double.NaN : (double)Correct / Count;

    /// <summary>
    /// F1 of class <paramref name="c"/>: <c>2·TP / (2·TP + FP + FN)</c>, the harmonic mean of precision and
    /// recall; NaN when the class was neither a target nor a prediction (0/0).
    /// </summary>
    public double F1(int c)
    {
        long truePositives = TruePositives(c);
        long denominator = _targets[c] + _predictions[c];   // (TP + FN) + (TP + FP) = 2·TP + FP + FN
        return denominator == 0 ? double.NaN : 2.0 * truePositives / denominator;
    }

    /// <summary>
    /// <c>f1_score(targets, predictions, average='macro')</c> without <c>labels=</c>: the unweighted mean of
    /// <see cref="F1"/> over the classes that occur as a target or as a prediction. A class absent from both is
    /// left out of the mean (scikit-learn never sees it); NaN before any sample.
    /// </summary>
    public double MacroF1
    {
        get
        {
            double sum = 0;
            int present = 0;
            for (int c = 0; c < Classes; c++)
            {
                double f1 = F1(c);
                if (double.IsNaN(f1)) continue;
                sum += f1;
                present++;
            }
            return present == 0 ? double.NaN : sum / present;
        }
    }

    /// <summary>Counts one sample of target <paramref name="target"/> predicted as <paramref name="predicted"/>.</summary>
    public void Add(int target, int predicted)
    {
        CheckClass(target, nameof(target));
        CheckClass(predicted, nameof(predicted));
        Count++;
        _targets[target]++;
        _predictions[predicted]++;
        if (target == predicted)
        {
            Correct++;
            _truePositives[target]++;
        }
    }

    /// <summary>
    /// Counts every row of <paramref name="logits"/> <c>[N, C]</c>, predicted as its <see cref="Logits.ArgMax"/>,
    /// against <paramref name="targets"/> <c>[N]</c>. Rows whose target is <paramref name="ignoreIndex"/> are
    /// skipped, as <see cref="Losses.CrossEntropy"/> skips them.
    /// </summary>
    /// <exception cref="ArgumentException">The logits are not <c>[N, C]</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is neither a class nor <paramref name="ignoreIndex"/>; nothing was counted.</exception>
    public void Add(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int ignoreIndex = -100)
    {
        if (logits.Length != (long)targets.Length * Classes)
        {
            throw new ArgumentException(
                $"logits: expected [N, C] = [{targets.Length}, {Classes}] ({(long)targets.Length * Classes} elements), got {logits.Length}.", nameof(logits));
        }
        for (int n = 0; n < targets.Length; n++)
        {
            if (targets[n] != ignoreIndex && (uint)targets[n] >= (uint)Classes)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), targets[n],
                    $"targets[{n}] = {targets[n]} is not a class in [0, {Classes}) nor the ignored index {ignoreIndex}.");
            }
        }
        for (int n = 0; n < targets.Length; n++)
        {
            if (targets[n] != ignoreIndex) Add(targets[n], Logits.ArgMax(logits.Slice(n * Classes, Classes)));
        }
    }

    /// <summary>Sets every count to zero.</summary>
    public void Clear()
    {
        Count = 0;
        Correct = 0;
        Array.Clear(_truePositives);
        Array.Clear(_targets);
        Array.Clear(_predictions);
    }

    private int CheckClass(int c, string name)
    {
        if ((uint)c >= (uint)Classes) throw new ArgumentOutOfRangeException(name, c, $"{name} = {c} is not a class in [0, {Classes}).");
        return c;
    }
}

/// <summary>
/// Classification metrics of logits <c>[N, C]</c> against class indices <c>[N]</c>, each prediction being the
/// row's <see cref="Logits.ArgMax"/>: scikit-learn's <c>accuracy_score</c> and <c>f1_score(average='macro')</c>
/// of <c>logits.argmax(-1)</c>. Targets equal to <c>ignoreIndex</c> are skipped. Both build a
/// <see cref="ConfusionCounts"/>; to compute several metrics over many batches, use one directly.
/// </summary>
/// <remarks>Thread safety: static and stateless; calls from several threads are safe.</remarks>
public static class Metrics
{
    /// <summary>The fraction of rows whose argmax is the target; NaN when every row is ignored.</summary>
    public static double Accuracy(ReadOnlySpan<float> logits, int classes, ReadOnlySpan<int> targets, int ignoreIndex = -100) =>
        Count(logits, classes, targets, ignoreIndex).Accuracy;

    /// <summary>Macro-F1 as <see cref="ConfusionCounts.MacroF1"/> defines it; NaN when every row is ignored.</summary>
    public static double MacroF1(ReadOnlySpan<float> logits, int classes, ReadOnlySpan<int> targets, int ignoreIndex = -100) =>
        Count(logits, classes, targets, ignoreIndex).MacroF1;

    private static ConfusionCounts Count(ReadOnlySpan<float> logits, int classes, ReadOnlySpan<int> targets, int ignoreIndex)
    {
        var counts = new ConfusionCounts(classes);
        counts.Add(logits, targets, ignoreIndex);
        return counts;
    }
}
