// CharModel: a character-level LSTM language model trained on the first chapters of Moby-Dick with truncated
// backpropagation through time, then sampled one character at a time with the streaming API. The model is a
// [SequenceModel] graph that reads character ids: its Embedding looks each one up, so no one-hot vectors are built.
using System.Diagnostics;
using System.Globalization;
using CharModel;
using ModelGen;

const int V = Vocabulary.Size;
const int Streams = 16;          // B: the training text is cut into 16 contiguous streams read side by side
const int Chunk = 64;            // T: characters per truncated-BPTT chunk (gradients stop at chunk boundaries)
const int Passes = 5;            // passes over the training text (the last at half the learning rate)
const float LearningRate = 0.01f;
const ulong InitSeed = 1;
const ulong SampleSeed = 7;
const float Temperature = 0.7f;
const int GeneratedCharacters = 400;
const string Prompt = "The whale";

var total = Stopwatch.StartNew();
string text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "moby-dick-start.txt"));
if (Vocabulary.Characters.Length != V) throw new InvalidOperationException("Vocabulary.Size is not Characters.Length.");
int unknown = text.AsSpan().IndexOfAnyExcept(Vocabulary.Characters);
if (unknown >= 0)
{
    throw new InvalidDataException($"The text uses U+{(int)text[unknown]:X4} at offset {unknown}, which is not in Vocabulary.Characters.");
}
int[] classes = text.Select(c => Vocabulary.Characters.IndexOf(c)).ToArray();

// The last 10% of the text (the end of the shipped chapters) is held out to measure the loss.
int validationStart = classes.Length * 9 / 10;
int[] train = classes[..validationStart], validation = classes[validationStart..];
Console.WriteLine($"Text: {text.Length} characters of Moby-Dick, vocabulary of {V}; " +
                  $"training on the first {train.Length}, validating on the last {validation.Length}");

var model = new CharLstm();
model.InitializeParameters(InitSeed);
Console.WriteLine($"CharLstm: Embedding({V}, {CharLstm.EmbeddingSize}) + LSTM({CharLstm.EmbeddingSize}, {CharLstm.HiddenSize}) + " +
                  $"Linear({CharLstm.HiddenSize}, {V}), {CharLstm.ParameterCount} parameters");

// Baselines for the held-out loss: a uniform guess costs log2(V) bits per character; the character frequencies
// of the training text (a unigram model) cost their cross-entropy.
var counts = new double[V];
foreach (int c in train) counts[c]++;
double unigram = validation.Average(c => -Math.Log((counts[c] + 1) / (train.Length + V)));
Console.WriteLine(FormattableString.Invariant(
    $"Baselines on the held-out text: uniform {Math.Log(V):F3} nats/char ({Math.Log2(V):F2} bits), character frequencies {unigram:F3} nats/char ({unigram / Math.Log(2):F2} bits)"));

float before = ValidationLoss(model, validation);
Console.WriteLine(FormattableString.Invariant($"Held-out loss before training: {before:F3} nats/char ({before / MathF.Log(2):F2} bits/char)"));

// Truncated BPTT: stream b reads train[b*S .. (b+1)*S); step k feeds characters k*T .. k*T+T-1 of every stream and
// asks for the character after each. With CarryState the trainer starts each step from the state the previous
// step ended in, so the model reads each stream as one long text while gradients flow back at most T steps.
var optimizer = new Adam(CharLstm.ParameterCount, LearningRate);
var trainer = new GraphTrainer(model, optimizer) { CarryState = true, ClipGradientNorm = 5f };
int streamLength = train.Length / Streams;
int stepsPerPass = (streamLength - 1) / Chunk;
var tokens = new int[Streams * Chunk];
var targets = new int[Streams * Chunk];
Console.WriteLine($"Training: {Passes} passes of {stepsPerPass} steps, each on [{Streams} streams, {Chunk} characters] " +
                  $"(truncated BPTT with carried state), Adam lr {LearningRate.ToString(CultureInfo.InvariantCulture)} " +
                  $"(halved for the last pass), gradient norm clipped to 5");
var training = Stopwatch.StartNew();
for (int pass = 1; pass <= Passes; pass++)
{
    var passClock = Stopwatch.StartNew();
    if (pass == Passes) optimizer.LearningRate = LearningRate / 2;   // a one-step schedule: the lr is settable between steps
    trainer.ResetCarriedState();
    double lossSum = 0;
    for (int step = 0; step < stepsPerPass; step++)
    {
        for (int b = 0; b < Streams; b++)
        {
            int start = b * streamLength + step * Chunk;
            for (int t = 0; t < Chunk; t++)
            {
                tokens[b * Chunk + t] = train[start + t];
                targets[b * Chunk + t] = train[start + t + 1];
            }
        }
        lossSum += trainer.TrainClasses(tokens, Streams, targets);
    }
    float held = ValidationLoss(model, validation);
    Console.WriteLine(FormattableString.Invariant(
        $"  pass {pass}/{Passes}  train {lossSum / stepsPerPass:F3}  held-out {held:F3} nats/char ({held / MathF.Log(2):F2} bits)  {stepsPerPass * Streams * Chunk / passClock.Elapsed.TotalSeconds:F0} chars/s"));
}
training.Stop();
float after = ValidationLoss(model, validation);
Console.WriteLine(FormattableString.Invariant($"Trained in {training.Elapsed.TotalSeconds:F1} s"));
Console.WriteLine(FormattableString.Invariant($"Held-out loss after training: {after:F3} nats/char ({after / MathF.Log(2):F2} bits/char), before: {before:F3} nats/char"));

// Generation with the streaming API: feed the prompt one character at a time, then sample each next character
// from softmax(logits / temperature) and feed it back. SeededRandom draws the same characters on every machine.
var random = new SeededRandom(SampleSeed);
var token = new int[1];   // [B = 1]: one character id per step
var logits = new float[V];
var probabilities = new float[V];
var generated = new System.Text.StringBuilder(Prompt);
model.ResetState(batchSize: 1);
foreach (char c in Prompt) Feed(Vocabulary.Characters.IndexOf(c));
for (int i = 0; i < GeneratedCharacters; i++)
{
    int next = Logits.Sample(logits, probabilities, random, Temperature);
    generated.Append(Vocabulary.Characters[next]);
    Feed(next);
}
Console.WriteLine();
Console.WriteLine(FormattableString.Invariant($"Generated (prompt \"{Prompt}\", temperature {Temperature}, seed {SampleSeed}):"));
Console.WriteLine("----");
Console.WriteLine(generated.ToString());
Console.WriteLine("----");
Console.WriteLine(FormattableString.Invariant($"Total time {total.Elapsed.TotalSeconds:F1} s"));

void Feed(int character)
{
    token[0] = character;
    model.Step(token, logits);
}

// Mean cross-entropy of the next character over the held-out text, read as 8 segments side by side from a zero
// state (the first characters of each segment are predicted with little context).
static float ValidationLoss(CharLstm model, int[] text)
{
    const int Segments = 8;
    int length = (text.Length - 1) / Segments;
    var tokens = new int[Segments * length];
    var targets = new int[Segments * length];
    for (int s = 0; s < Segments; s++)
    {
        for (int t = 0; t < length; t++)
        {
            tokens[s * length + t] = text[s * length + t];
            targets[s * length + t] = text[s * length + t + 1];
        }
    }
    var logits = new float[Segments * length * V];
    model.Forward(tokens, Segments, logits);
    return Losses.CrossEntropy(logits, V, targets, new float[logits.Length]);
}
