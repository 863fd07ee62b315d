namespace ModelGen.Tests;

/// <summary>
/// Accuracy and macro-F1 against scikit-learn's definitions, recomputed here from a full confusion matrix:
/// <c>accuracy_score</c> = trace / total; <c>f1_score(average='macro')</c> = the mean over the labels present in
/// the targets or the predictions of 2·C[c,c] / (row sum + column sum).
/// </summary>
public class MetricsTests
{
    /// <summary>scikit-learn's numbers from a C×C confusion matrix built here: (accuracy, macro-F1, per-class F1 or NaN).</summary>
    internal static (double Accuracy, double MacroF1, double[] F1) Reference(int[] targets, int[] predictions, int classes, int ignoreIndex = -100)
    {
        var matrix = new long[classes, classes];
        long total = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] == ignoreIndex) continue;
            matrix[targets[i], predictions[i]]++;
            total++;
        }
        long trace = 0;
        for (int c = 0; c < classes; c++) trace += matrix[c, c];
        var f1 = new double[classes];
        var labels = new List<double>();
        for (int c = 0; c < classes; c++)
        {
            long row = 0, column = 0;
            for (int k = 0; k < classes; k++)
            {
                row += matrix[c, k];
                column += matrix[k, c];
            }
            // precision = tp / column, recall = tp / row, F1 = 2PR / (P + R) = 2tp / (row + column).
            f1[c] = row + column == 0 ? double.NaN : 2.0 * matrix[c, c] / (row + column);
            if (row + column > 0) labels.Add(f1[c]);
        }
        return (total == 0 ? double.NaN : (double)trace / total, labels.Count == 0 ? double.NaN : labels.Sum() / labels.Count, f1);
    }

    /// <summary>One-hot-ish logits whose argmax is <paramref name="predictions"/>[n], with noise below the winner.</summary>
    private static float[] LogitsFor(int[] predictions, int classes, int seed)
    {
        float[] logits = TestHelpers.RandomValues(predictions.Length * classes, seed);
        for (int n = 0; n < predictions.Length; n++) logits[n * classes + predictions[n]] = 2f;
        return logits;
    }

    [Fact]
    public void Accuracy_and_macro_F1_match_scikit_learn_including_absent_and_prediction_only_classes()
    {
        const int Classes = 6;
        // Class 4 never occurs (left out of the mean); class 5 occurs only as a prediction (F1 0, in the mean);
        // class 3 only as a target (F1 0, in the mean).
        int[] targets = [0, 0, 1, 1, 1, 2, 2, 3, 0, 1, 2, 2];
        int[] predictions = [0, 1, 1, 1, 0, 2, 5, 1, 0, 1, 2, 0];
        float[] logits = LogitsFor(predictions, Classes, seed: 1);

        var counts = new ConfusionCounts(Classes);
        counts.Add(logits, targets);
        (double accuracy, double macroF1, double[] f1) = Reference(targets, predictions, Classes);

        Assert.Equal(accuracy, counts.Accuracy);
        Assert.Equal(macroF1, counts.MacroF1, 15);
        for (int c = 0; c < Classes; c++) Assert.Equal(f1[c], counts.F1(c));
        Assert.True(double.IsNaN(counts.F1(4)));
        Assert.Equal(0, counts.F1(5));
        Assert.Equal(0, counts.F1(3));
        Assert.Equal(accuracy, Metrics.Accuracy(logits, Classes, targets));
        Assert.Equal(counts.MacroF1, Metrics.MacroF1(logits, Classes, targets));
        Assert.Equal(targets.Length, counts.Count);
        Assert.Equal(1, counts.FalsePositives(5));
        Assert.Equal(1, counts.FalseNegatives(3));
    }

    [Fact]
    public void Random_cases_match_scikit_learn()
    {
        var random = new Random(3);
        for (int trial = 0; trial < 50; trial++)
        {
            int classes = random.Next(1, 8), n = random.Next(1, 40);
            int[] targets = [.. Enumerable.Range(0, n).Select(_ => random.Next(-1, classes) is int t && t < 0 ? -100 : t)];
            int[] predictions = [.. Enumerable.Range(0, n).Select(_ => random.Next(classes))];
            float[] logits = LogitsFor(predictions, classes, seed: trial);
            var counts = new ConfusionCounts(classes);
            counts.Add(logits, targets);
            (double accuracy, double macroF1, _) = Reference(targets, predictions, classes);
            Assert.Equal(accuracy, counts.Accuracy);
            if (double.IsNaN(macroF1)) Assert.True(double.IsNaN(counts.MacroF1));
            else Assert.Equal(macroF1, counts.MacroF1, 14);
        }
    }

    [Fact]
    public void Ignored_rows_are_skipped_and_no_rows_give_NaN()
    {
        int[] targets = [1, 7, 0];
        float[] logits = LogitsFor([1, 0, 1], 2, seed: 4);
        var counts = new ConfusionCounts(2);
        counts.Add(logits, targets, ignoreIndex: 7);
        Assert.Equal(2, counts.Count);
        Assert.Equal(0.5, counts.Accuracy);
        Assert.True(double.IsNaN(Metrics.Accuracy(logits, 2, [-100, -100, -100])));
        Assert.True(double.IsNaN(Metrics.MacroF1(logits, 2, [-100, -100, -100])));
        counts.Clear();
        Assert.Equal(0, counts.Count);
        Assert.True(double.IsNaN(counts.Accuracy));
    }

    [Fact]
    public void A_tie_predicts_the_first_maximal_class_as_torch_argmax()
    {
        var counts = new ConfusionCounts(3);
        counts.Add([1f, 3f, 3f], [2]);
        Assert.Equal(1, counts.FalsePositives(1));
        Assert.Equal(0, counts.Correct);
    }

    [Fact]
    public void A_bad_target_or_shape_throws_and_counts_nothing()
    {
        var counts = new ConfusionCounts(3);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => counts.Add(new float[9], [0, 3, 1]));
        Assert.Contains("targets[1] = 3", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, counts.Count);
        var shape = Assert.Throws<ArgumentException>(() => counts.Add(new float[8], [0, 1, 1]));
        Assert.Contains("[3, 3]", shape.Message, StringComparison.Ordinal);
        Assert.Contains("got 8", shape.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => counts.Add(0, 3));
    }
}
