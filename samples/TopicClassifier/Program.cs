// TopicClassifier: classify quotations of the BSD fortune files into their 12 topics with a word-level
// bidirectional LSTM graph ([SequenceModel]) trained by GraphTrainer.FitSequenceClasses, compare it with the
// majority class and a naive Bayes bag-of-words baseline on a stratified held-out split, plot the confusion
// matrix and the loss curve, save the weights and reload them.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using ModelGen;
using TopicClassifier;

const double TestFraction = 0.2;        // held out, stratified by topic: never trained on, never used for tuning
const double ValidationFraction = 0.1;  // of the rest, stratified: early stopping and every tuning choice
const ulong SplitSeed = 1, InitSeed = 1, ShuffleSeed = 2, DropoutSeed = 3;
const float LearningRate = 0.004f, WeightDecay = 3e-4f;  // Adam with L2 weight decay
double[] alphas = [0.1, 0.2, 0.5, 1.0];  // naive Bayes smoothing, chosen on the validation split

var total = Stopwatch.StartNew();
string outputFolder = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine("samples", "TopicClassifier", "output"));
Directory.CreateDirectory(outputFolder);

Quote[] quotes = Data.Load(Path.Combine(AppContext.BaseDirectory, "data", "fortune-topics.tsv"));
string[][] words = [.. quotes.Select(q => Data.Words(q.Text))];
Console.WriteLine($"Fortune quotes: {quotes.Length} in {Topics.Count} topics, {words.Average(w => w.Length).ToString("F1", CultureInfo.InvariantCulture)} words on average, at most {words.Max(w => w.Length)}");
Console.WriteLine("  " + string.Join(", ", Enumerable.Range(0, Topics.Count).Select(c => $"{Topics.Names[c]} {quotes.Count(q => q.Topic == c)}")));

// A fixed, seeded, stratified split: test (20%), then validation (10% of the rest), each with every topic's share.
(int[] rest, int[] test) = Data.StratifiedSplit([.. Enumerable.Range(0, quotes.Length)], i => quotes[i].Topic, TestFraction, SplitSeed);
(int[] train, int[] validation) = Data.StratifiedSplit(rest, i => quotes[i].Topic, ValidationFraction, SplitSeed + 1);
Console.WriteLine($"Split (stratified, seed {SplitSeed}): {train.Length} training, {validation.Length} validation, {test.Length} held-out test quotes");

// The vocabulary: a compile-time constant size, filled with the most frequent words of the training quotes.
Vocabulary vocabulary = Vocabulary.Build(train.Select(i => words[i]));
int[][] tokens = [.. words.Select(vocabulary.Encode)];
double unknownShare = test.Sum(i => tokens[i].Count(t => t == Vocabulary.Unknown)) / (double)test.Sum(i => tokens[i].Length);
Console.WriteLine($"Vocabulary: {Vocabulary.Size} ids = <pad>, <unk> and the {Vocabulary.Size - 2} most frequent of the {vocabulary.DistinctWords} distinct training words; " +
                  $"{unknownShare.ToString("P1", CultureInfo.InvariantCulture)} of the test words are <unk>");

// Baseline (a): the most frequent topic of the training quotes, for every quote.
int majority = Enumerable.Range(0, Topics.Count).MaxBy(c => train.Count(i => quotes[i].Topic == c));
// Baseline (b): multinomial naive Bayes on word counts, its smoothing chosen on the validation split.
NaiveBayes Bayes(double alpha) => new([.. train.Select(i => words[i])], [.. train.Select(i => quotes[i].Topic)], alpha);
double Accuracy(Func<int, int> predict, int[] indices) => indices.Count(i => predict(i) == quotes[i].Topic) / (double)indices.Length;
double bestAlpha = alphas.MaxBy(alpha =>
{
    NaiveBayes candidate = Bayes(alpha);
    return Accuracy(i => candidate.Predict(words[i]), validation);
});
NaiveBayes bayes = Bayes(bestAlpha);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Naive Bayes: alpha {bestAlpha} (best validation accuracy of {string.Join(", ", alphas)}): validation accuracy {Accuracy(i => bayes.Predict(words[i]), validation):F3}"));

// The model: trained on the training quotes, validated (early stopping, best epoch) on the validation quotes,
// which FitOptions.ValidationFraction takes from the end of the list.
int[] fitOrder = [.. train, .. validation];
var model = new TopicLstm();
model.InitializeParameters(InitSeed);
model.SeedDropout(DropoutSeed);
var trainer = new GraphTrainer(model, new Adam(TopicLstm.ParameterCount, LearningRate, weightDecay: WeightDecay)) { ClipGradientNorm = 1f };
var options = new FitOptions
{
    Epochs = 20,
    BatchSize = 32,
    Seed = ShuffleSeed,
    ValidationFraction = validation.Length / (double)fitOrder.Length,
    Patience = 5,
    // A classifier is judged by its accuracy, which the validation loss follows only loosely once the model starts
    // to overfit; naive Bayes' smoothing is chosen by validation accuracy too.
    BestEpochBy = FitMetric.Accuracy,
    BucketByLength = true,
    OnEpoch = report => Console.WriteLine($"  {report}"),
};
Console.WriteLine();
Console.WriteLine($"TopicLstm: Embedding({Vocabulary.Size}, {TopicLstm.EmbeddingSize}, padding_idx=0) -> Dropout -> bidirectional LSTM({TopicLstm.EmbeddingSize}, {TopicLstm.HiddenSize}) -> final hidden -> Dropout -> Linear({2 * TopicLstm.HiddenSize}, {Topics.Count}), {TopicLstm.ParameterCount} parameters");
Console.WriteLine($"Training: Adam lr {LearningRate.ToString(CultureInfo.InvariantCulture)}, weight decay {WeightDecay.ToString(CultureInfo.InvariantCulture)}, gradient norm clipped at 1, batches of {options.BatchSize} bucketed by length, up to {options.Epochs} epochs, keeping the epoch of best validation accuracy, stopping after {options.Patience} without a better one");
var training = Stopwatch.StartNew();
FitResult fit = trainer.FitSequenceClasses([.. fitOrder.Select(i => tokens[i])], [.. fitOrder.Select(i => quotes[i].Topic)], options);
training.Stop();
Console.WriteLine($"{(fit.StoppedEarly ? "Stopped early" : "Finished")} after {fit.History.Count} epochs in {training.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s; keeping epoch {fit.BestEpoch} (best validation accuracy)");

// The held-out test.
int[][] testTokens = [.. test.Select(i => tokens[i])];
var logits = new float[test.Length * Topics.Count];
GraphTrainer.PredictSequences(model, testTokens, logits);
int[] modelPredictions = [.. Enumerable.Range(0, test.Length).Select(n => ArgMax(logits.AsSpan(n * Topics.Count, Topics.Count)))];
var modelByIndex = test.Select((i, n) => (i, n)).ToDictionary(p => p.i, p => modelPredictions[p.n]);

(double Accuracy, double MacroF1) Score(Func<int, int> predict)
{
    var counts = new ConfusionCounts(Topics.Count);
    foreach (int i in test) counts.Add(quotes[i].Topic, predict(i));
    return (counts.Accuracy, counts.MacroF1);
}
var modelScore = Score(i => modelByIndex[i]);
var bayesScore = Score(i => bayes.Predict(words[i]));
var majorityScore = Score(_ => majority);
Console.WriteLine();
Console.WriteLine($"Held-out test, {test.Length} quotes:             accuracy  macro-F1");
Console.WriteLine(Row("model (BiLSTM)", modelScore));
Console.WriteLine(Row(string.Create(CultureInfo.InvariantCulture, $"naive Bayes (alpha {bestAlpha})"), bayesScore));
Console.WriteLine(Row($"majority class ({Topics.Names[majority]})", majorityScore));
Console.WriteLine(Verdict("naive Bayes", bayesScore));
Console.WriteLine(Verdict("the majority class", majorityScore));
static string Row(string label, (double Accuracy, double MacroF1) score) =>
    string.Create(CultureInfo.InvariantCulture, $"  {label,-38} {score.Accuracy,8:F3}  {score.MacroF1,8:F3}");
string Verdict(string baseline, (double Accuracy, double MacroF1) score) =>
    modelScore.Accuracy > score.Accuracy && modelScore.MacroF1 > score.MacroF1
        ? $"The model beats {baseline} in accuracy and macro-F1."
        : $"The model does NOT beat {baseline} in both accuracy and macro-F1.";

// Plots.
var confusion = new int[Topics.Count, Topics.Count];
foreach (int i in test) confusion[quotes[i].Topic, modelByIndex[i]]++;
string confusionPng = Path.Combine(outputFolder, "topic-confusion.png");
string lossPng = Path.Combine(outputFolder, "topic-loss.png");
Plots.Confusion(confusion, string.Create(CultureInfo.InvariantCulture,
    $"BiLSTM on {test.Length} held-out quotes: accuracy {modelScore.Accuracy:F3}, macro-F1 {modelScore.MacroF1:F3}"), confusionPng);
Plots.Loss(fit, lossPng);
Console.WriteLine();
Console.WriteLine($"Wrote {confusionPng}");
Console.WriteLine($"Wrote {lossPng}");

// Save the weights under their PyTorch names, reload them into a new model and predict the test quotes again.
string weights = Path.Combine(outputFolder, "topic-lstm.safetensors");
model.SaveSafetensors(weights);
var reloaded = new TopicLstm();
reloaded.LoadSafetensors(weights);
var reloadedLogits = new float[logits.Length];
GraphTrainer.PredictSequences(reloaded, testTokens, reloadedLogits);
Console.WriteLine($"Saved {new FileInfo(weights).Length} bytes to {weights}");
Console.WriteLine(SameBits(reloaded.Parameters, model.Parameters) && SameBits(reloadedLogits, logits)
    ? "Reloaded model: parameters and test predictions bit-identical."
    : "Reloaded model: predictions DIFFER.");
Console.WriteLine($"Total time {total.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
    return best;
}

static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
    MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));
