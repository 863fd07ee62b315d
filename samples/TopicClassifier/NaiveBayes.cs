namespace TopicClassifier;

/// <summary>
/// The bag-of-words baseline: multinomial naive Bayes on word counts (scikit-learn's <c>MultinomialNB</c> on
/// <c>CountVectorizer</c> counts), with additive smoothing <c>alpha</c> over every word of the training quotes.
/// </summary>
internal sealed class NaiveBayes
{
    private readonly double[] _logPrior = new double[Topics.Count];
    private readonly Dictionary<string, double[]> _logLikelihood = new(StringComparer.Ordinal);

    public NaiveBayes(IReadOnlyList<string[]> words, IReadOnlyList<int> topics, double alpha)
    {
        var counts = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var totals = new double[Topics.Count];
        var documents = new double[Topics.Count];
        for (int n = 0; n < words.Count; n++)
        {
            documents[topics[n]]++;
            foreach (string word in words[n])
            {
                if (!counts.TryGetValue(word, out double[]? row)) counts[word] = row = new double[Topics.Count];
                row[topics[n]]++;
                totals[topics[n]]++;
            }
        }
        for (int c = 0; c < Topics.Count; c++) _logPrior[c] = Math.Log(documents[c] / words.Count);
        foreach ((string word, double[] row) in counts)
        {
            var log = new double[Topics.Count];
            for (int c = 0; c < Topics.Count; c++) log[c] = Math.Log((row[c] + alpha) / (totals[c] + alpha * counts.Count));
            _logLikelihood[word] = log;
        }
    }

    /// <summary>The most probable topic; words never seen in training are skipped.</summary>
    public int Predict(string[] words)
    {
        var score = (double[])_logPrior.Clone();
        foreach (string word in words)
        {
            if (!_logLikelihood.TryGetValue(word, out double[]? log)) continue;
            for (int c = 0; c < Topics.Count; c++) score[c] += log[c];
        }
        return Array.IndexOf(score, score.Max());
    }
}
