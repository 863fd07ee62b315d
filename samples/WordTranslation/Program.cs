// WordTranslation: translate single English words into German, character by character, with an encoder–decoder
// with attention, and compare it on a held-out split with two baselines: copying the English word, and the
// translation of the nearest training word by edit distance.
using System.Diagnostics;
using System.Globalization;
using ModelGen;
using WordTranslation;

const int Examples = 12;
const int Epochs = 10, BatchSize = 64, BeamWidth = 5;

var total = Stopwatch.StartNew();
string outputFolder = Path.GetFullPath(args.Length > 0 ? args[0] : Path.Combine("samples", "WordTranslation", "output"));
Directory.CreateDirectory(outputFolder);

WordPair[] pairs = Data.Load(Path.Combine(AppContext.BaseDirectory, "data", "eng-deu-words.tsv"));
Console.WriteLine($"FreeDict English–German words: {pairs.Length} pairs, English {Lengths(pairs.Select(p => p.English))}, German {Lengths(pairs.Select(p => p.German))} characters");

// A split by a hash of the English word: the same word is always in the same part, whatever else the file holds.
(WordPair[] train, WordPair[] validation, WordPair[] test) = Data.Split(pairs);
Console.WriteLine($"Split (FNV-1a of the English word mod 20): {train.Length} training, {validation.Length} validation, {test.Length} held-out test pairs");
Console.WriteLine($"Vocabularies: source {CharVocabulary.SourceSize} ids (<pad>, <bos>, <eos> + {Alphabets.English.Length} letters), " +
                  $"target {CharVocabulary.TargetSize} ids (<pad>, <bos>, <eos> + {Alphabets.German.Length} letters: a–z, A–Z, äöüß, ÄÖÜ)");
Batch whole = Data.MakeBatch(pairs);
Console.WriteLine($"Longest: Ts = {whole.SourceSteps} source steps, Tt = {whole.TargetSteps} target steps (German + EOS)");
Console.WriteLine($"Test pairs whose German is the English word: {test.Count(p => p.German == p.English)}; " +
                  $"whose German is the English word but for case: {test.Count(p => string.Equals(p.German, p.English, StringComparison.OrdinalIgnoreCase))}");

// Baselines on the held-out test.
string[] references = [.. test.Select(p => p.German)];
string[] copy = Baselines.Copy(test);
TranslationScore copyScore = TranslationMetrics.Score(copy, references);

Console.WriteLine();
Console.WriteLine($"Nearest neighbour: {test.Length} test words against {train.Length} training words on {Environment.ProcessorCount} cores ...");
var clock = Stopwatch.StartNew();
var nearestNeighbour = new NearestNeighbour(train);
(int Index, int Distance)[] nearest = nearestNeighbour.NearestAll([.. test.Select(p => p.English)]);
clock.Stop();
string[] neighbour = [.. nearest.Select(n => nearestNeighbour.German(n.Index))];
TranslationScore neighbourScore = TranslationMetrics.Score(neighbour, references);
Console.WriteLine(FormattableString.Invariant(
    $"  done in {clock.Elapsed.TotalSeconds:F2} s; mean distance to the nearest training word {nearest.Average(n => n.Distance):F2}"));

Console.WriteLine();
Console.WriteLine($"Held-out test, {test.Length} words:               exact match    CER");
Console.WriteLine(Row("copy the English word", copyScore));
Console.WriteLine(Row("nearest training word (Levenshtein)", neighbourScore));

// ---- The model: train, decode (greedy and beam), compare, save and reload -----------------------------------------

var model = new Translator();
model.InitializeParameters(seed: 7);
Console.WriteLine();
Console.WriteLine($"Model: {Translator.ParameterCount} parameters");
Console.WriteLine(model);

// Teacher forcing on the training pairs, validated on the validation pairs (the last part of the data).
WordPair[] fitted = [.. train, .. validation];
int[][] sources = [.. fitted.Select(p => CharVocabulary.Source.Encode(p.English))];
int[][] targets = [.. fitted.Select(p => CharVocabulary.Target.Encode(p.German))];
var trainLosses = new List<double>();
var validationLosses = new List<double>();
var adam = new Adam(Translator.ParameterCount, learningRate: 3e-3f);
var trainer = new Seq2SeqTrainer(model, adam) { ClipGradientNorm = 1f };
Console.WriteLine();
Console.WriteLine($"Training on {train.Length} pairs, {Epochs} epochs of batches of {BatchSize} (bucketed by length):");
clock.Restart();
FitResult fit = trainer.Fit(sources, targets, new Seq2SeqTokens(CharVocabulary.Bos, CharVocabulary.Eos, CharVocabulary.Padding), new FitOptions
{
    Epochs = Epochs,
    BatchSize = BatchSize,
    ValidationFraction = (double)validation.Length / fitted.Length,
    BucketByLength = true,
    Seed = 11,
    Schedule = new CosineAnnealingLR(adam, tMax: Epochs, etaMin: 3e-4),
    OnEpoch = report =>
    {
        trainLosses.Add(report.TrainLoss);
        validationLosses.Add(report.ValidationLoss);
        Console.WriteLine($"  {report}");
    },
});
Console.WriteLine(FormattableString.Invariant($"  {clock.Elapsed.TotalSeconds:F1} s; best epoch {fit.BestEpoch}"));
Plots.LossCurve(trainLosses, validationLosses, Path.Combine(outputFolder, "loss.png"));

// Decoding the held-out words: greedy in batches, beam search one word at a time.
clock.Restart();
string[] greedy = Decoding.Greedy(model, test);
double greedySeconds = clock.Elapsed.TotalSeconds;
clock.Restart();
string[] beam = Decoding.Beam(model, test, BeamWidth);
double beamSeconds = clock.Elapsed.TotalSeconds;
TranslationScore greedyScore = TranslationMetrics.Score(greedy, references);
TranslationScore beamScore = TranslationMetrics.Score(beam, references);

Console.WriteLine();
Console.WriteLine($"Held-out test, {test.Length} words:               exact match    CER");
Console.WriteLine(Row("copy the English word", copyScore));
Console.WriteLine(Row("nearest training word (Levenshtein)", neighbourScore));
Console.WriteLine(Row(FormattableString.Invariant($"encoder–decoder, greedy ({greedySeconds:F1} s)"), greedyScore));
Console.WriteLine(Row(FormattableString.Invariant($"encoder–decoder, beam of {BeamWidth} ({beamSeconds:F1} s)"), beamScore));

Console.WriteLine();
Console.WriteLine("Examples (test):");
Console.WriteLine($"  {"English",-14}{"German",-16}{"nearest word",-16}{"greedy",-16}{"beam",-16}");
foreach (int i in Enumerable.Range(0, Examples).Select(k => k * test.Length / Examples))
{
    Console.WriteLine($"  {test[i].English,-14}{test[i].German,-16}{Mark(neighbour[i], test[i].German),-16}{Mark(greedy[i], test[i].German),-16}{Mark(beam[i], test[i].German),-16}");
}

// One attention matrix: which English letters each German letter of the beam's output looked at.
int shown = Enumerable.Range(0, test.Length).First(i => beam[i] == test[i].German && test[i].English.Length >= 8 || i == test.Length - 1);
float[,] weights = Decoding.Attention(model, test[shown].English, beam[shown]);
Plots.Attention(weights, test[shown].English, beam[shown], Path.Combine(outputFolder, "attention.png"));
Console.WriteLine($"Attention of '{test[shown].English}' → '{beam[shown]}' drawn; figures in {outputFolder}");

// Save, reload into a fresh model, and check it decodes the same.
string saved = Path.Combine(outputFolder, "translator.safetensors");
model.SaveSafetensors(saved);
var reloaded = new Translator();
reloaded.LoadSafetensors(saved);
string[] again = Decoding.Greedy(reloaded, test);
Console.WriteLine($"Saved {new FileInfo(saved).Length / 1024} KiB and reloaded: {again.Zip(greedy).Count(p => p.First == p.Second)} of {test.Length} test words decode the same");

Console.WriteLine();
Console.WriteLine($"Total time {total.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");

static string Mark(string prediction, string reference) => prediction + (prediction == reference ? " ✓" : "");

static string Row(string label, TranslationScore score) =>
    string.Create(CultureInfo.InvariantCulture, $"  {label,-42} {score.ExactMatch,10:F3} {score.CharacterErrorRate,7:F3}");

static string Lengths(IEnumerable<string> words)
{
    int[] lengths = [.. words.Select(w => w.Length)];
    return string.Create(CultureInfo.InvariantCulture, $"{lengths.Min()}–{lengths.Max()} (mean {lengths.Average():F1})");
}
