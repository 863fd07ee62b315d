using System.Numerics;
using ModelGen;
using ModelGen.WidthProbe;

// The first line names the width; every other line is a digest that must not depend on it.
Console.WriteLine($"Vector<float>.Count = {Vector<float>.Count}");
Probe.Stacked();
Probe.Streaming();
Probe.Graph();
Probe.EncoderDecoder();

namespace ModelGen.WidthProbe
{
    /// <summary>Sizes that are not multiples of any vector width, so every kernel's padded tail is exercised.</summary>
    [LstmModel(InputSize = 5, HiddenSize = 19, NumLayers = 2, ProjSize = 7, Bidirectional = true, OutputSize = 3)]
    public partial class StackedLstm;

    [GruModel(InputSize = 6, HiddenSize = 37, NumLayers = 2, OutputSize = 2)]
    public partial class StreamingGru;

    /// <summary>Tokens → Embedding → LSTM → LayerNorm → Linear → GELU → mean over time → Linear.</summary>
    [SequenceModel]
    public partial class Classifier
    {
        [Embedding(NumEmbeddings = 23, EmbeddingDim = 11, PaddingIdx = 0)] public partial Embedding Embed { get; }
        [Lstm(InputSize = 11, HiddenSize = 21)] public partial Lstm Rnn { get; }
        [LayerNorm(NormalizedShape = 21)] public partial LayerNorm Norm { get; }
        [Linear(InFeatures = 21, OutFeatures = 13)] public partial Linear Fc1 { get; }
        [GELU] public partial Activation Act { get; }
        [Reduce(ReduceMode.Mean)] public partial Reduction Pool { get; }
        [Linear(InFeatures = 13, OutFeatures = 4)] public partial Linear Fc2 { get; }
    }

    [SequenceModel]
    public partial class Encoder
    {
        [Embedding(NumEmbeddings = 17, EmbeddingDim = 9, PaddingIdx = 0)] public partial Embedding Embed { get; }
        [Gru(InputSize = 9, HiddenSize = 14)] public partial Gru Rnn { get; }
    }

    /// <summary>Bahdanau's additive attention before the cell, then the output layer.</summary>
    [SequenceModel]
    public partial class Decoder
    {
        [Embedding(NumEmbeddings = 15, EmbeddingDim = 9, PaddingIdx = 0)] public partial Embedding Embed { get; }
        [Attention(AttentionScore.Additive, KeySize = 14, AttentionSize = 10)] public partial Attention Attn { get; }
        [Gru(InputSize = 23, HiddenSize = 14)] public partial Gru Rnn { get; }
        [Linear(InFeatures = 14, OutFeatures = 15)] public partial Linear Out { get; }
    }

    [Seq2SeqModel(typeof(Encoder), typeof(Decoder))]
    public partial class Translator;

    internal static class Probe
    {
        private const int Batch = 5, Steps = 9, TrainingSteps = 4;

        public static void Stacked()
        {
            var model = new StackedLstm();
            model.InitializeParameters(1);
            var trainer = new Trainer(model, new Adam(StackedLstm.ParameterCount, 0.01f));
            float[] input = Uniform(2, Batch * Steps * StackedLstm.InputSize);
            float[] targets = Uniform(3, Batch * Steps * StackedLstm.OutputSize);
            float[] losses = new float[TrainingSteps];
            for (int i = 0; i < TrainingSteps; i++) losses[i] = trainer.TrainSequence(input, Batch, targets);
            float[] predictions = new float[targets.Length];
            model.PredictSequence(input, Batch, predictions);
            Report("stacked bidirectional projected LSTM", losses, model.Parameters, predictions);
        }

        public static void Streaming()
        {
            var model = new StreamingGru();
            model.InitializeParameters(4);
            var trainer = new Trainer(model, new Adam(StreamingGru.ParameterCount, 0.01f));
            float[] input = Uniform(5, Batch * Steps * StreamingGru.InputSize);
            float[] targets = Uniform(6, Batch * StreamingGru.OutputSize);
            float[] losses = new float[TrainingSteps];
            for (int i = 0; i < TrainingSteps; i++) losses[i] = trainer.TrainLast(input, Batch, targets);
            float[] predictions = new float[Steps * StreamingGru.OutputSize];
            model.ResetState();
            for (int t = 0; t < Steps; t++)
            {
                model.StepPredict(input.AsSpan(t * StreamingGru.InputSize, StreamingGru.InputSize),
                    predictions.AsSpan(t * StreamingGru.OutputSize, StreamingGru.OutputSize));
            }
            Report("streaming two-layer GRU", losses, model.Parameters, predictions);
        }

        public static void Graph()
        {
            var model = new Classifier();
            model.InitializeParameters(7);
            var trainer = new GraphTrainer(model, new Adam(Classifier.ParameterCount, 0.01f));
            int[] tokens = Tokens(8, Batch * Steps, 23);
            int[] classes = [0, 3, 1, 2, 3];
            int[] lengths = [9, 4, 1, 7, 9];
            float[] losses = new float[TrainingSteps];
            for (int i = 0; i < TrainingSteps; i++) losses[i] = trainer.TrainClasses(tokens, Batch, classes, lengths);
            float[] logits = new float[Batch * Classifier.OutputSize];
            model.Forward(tokens, Batch, logits, lengths);
            Report("token graph with LayerNorm and GELU, ragged", losses, model.Parameters, logits);
        }

        public static void EncoderDecoder()
        {
            var model = new Translator();
            model.InitializeParameters(9);
            var trainer = new Seq2SeqTrainer(model, new Adam(Translator.ParameterCount, 0.01f));
            int[] source = Tokens(10, Batch * Steps, 17);
            int[] targetInput = Tokens(11, Batch * 6, 15);
            int[] targetOutput = Tokens(12, Batch * 6, 15);
            int[] sourceLengths = [9, 2, 5, 9, 8];
            float[] losses = new float[TrainingSteps];
            for (int i = 0; i < TrainingSteps; i++) losses[i] = trainer.TrainBatch(source, targetInput, Batch, targetOutput, sourceLengths);
            // Three decoding steps from the start token, as greedy and beam search run them.
            const int DecodedSteps = 3;
            float[] logits = new float[DecodedSteps * Batch * Translator.TargetVocabularySize];
            int[] tokens = [.. Enumerable.Repeat(1, Batch)];
            model.BeginDecoding(source, Batch, sourceLengths);
            for (int t = 0; t < DecodedSteps; t++)
            {
                Span<float> step = logits.AsSpan(t * Batch * Translator.TargetVocabularySize, Batch * Translator.TargetVocabularySize);
                model.Step(tokens, step);
                for (int b = 0; b < Batch; b++) tokens[b] = 1 + b + t;
            }
            Report("GRU encoder-decoder with additive attention", losses, model.Parameters, logits);
        }

        /// <summary>One line: the losses as exact bit patterns, then a digest of the parameters and outputs.</summary>
        private static void Report(string name, float[] losses, ReadOnlySpan<float> parameters, ReadOnlySpan<float> outputs) =>
            Console.WriteLine($"{name}: losses {string.Join(' ', losses.Select(l => BitConverter.SingleToInt32Bits(l).ToString("x8")))}"
                + $" parameters {Digest(parameters):x16} outputs {Digest(outputs):x16}");

        /// <summary>FNV-1a over the bit patterns: any change in any bit changes it.</summary>
        private static ulong Digest(ReadOnlySpan<float> values)
        {
            ulong hash = 14695981039346656037;
            foreach (float value in values) hash = (hash ^ (uint)BitConverter.SingleToInt32Bits(value)) * 1099511628211;
            return hash;
        }

        private static float[] Uniform(int seed, int length)
        {
            var random = new Random(seed);
            return [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        }

        private static int[] Tokens(int seed, int length, int vocabulary)
        {
            var random = new Random(seed);
            return [.. Enumerable.Range(0, length).Select(_ => random.Next(1, vocabulary))];
        }
    }
}
