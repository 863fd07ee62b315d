using System.Globalization;
using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Gradient check of generated <c>[Seq2SeqModel]</c> encoder–decoders, compiled in memory with the real generator:
/// after <c>TrainForward</c> and <c>Backward(dy)</c>, <c>Gradients</c> must agree with central finite differences
/// of L = Σ logits·dy (summed in double) of the inference <c>Forward</c>, for coordinates of every parameter tensor,
/// <c>encoder.*</c> included: their gradient reaches the encoder only through the bridge (the decoder's d(initial
/// state) as the encoder's d(final state)) and, with attention, through the memory (the attention's d(memory) as
/// the encoder's d(output)). Four decoders: (a) GRU without attention; (b) two-layer LSTM, Luong general attention
/// after the cell, then Linear, Tanh, Linear; (c) two-layer LSTM with Bahdanau additive attention before the cell
/// (the query the top layer's h before each step); (d) GRU with dot attention after the cell, straight into the
/// output Linear. Random initialisation, random tokens, source and target lengths varied per row, dy zero at the
/// padded target steps (as a loss that ignores padding gives).
/// </summary>
/// <remarks>
/// <para>
/// Tolerance |fd − analytic| ≤ 2e-3 + 2e-2·|analytic| with ε = 1e-2 (<see cref="FiniteDifferences"/>), the argument
/// of <see cref="GraphFiniteDifferenceTests"/> carried over: the logits come from float32 kernels, so L (here at
/// most B·Tt·V = 3·4·6 = 72 terms, logits of magnitude ≲ 4, summed in double) carries an absolute rounding error of
/// about √72·4·6e-8 ≈ 2e-6, which the quotient divides by 2ε: ≈ 1e-4, twenty times below the absolute term. The
/// truncation error ε²/6·|L'''| ≈ 2e-5·|L'''| stays far below it too: every function here is smooth (embedding
/// lookups, sigmoid, tanh, the masked softmax, products), the models are a few modules deep and 3–4 features wide,
/// and at twice PyTorch's initialisation (as in the graph check, so that gradients rise above the absolute term)
/// their third derivatives stay well below 10. The errors Backward can make — a bridge gradient not handed to the
/// encoder, a memory gradient dropped or sent to the wrong row, the Bahdanau query's gradient not carried into the
/// previous step's h, a transposed attention weight — are of the size of the gradient and exceed the relative term.
/// (The worst |fd − analytic| / tolerance over the four models is ≈ 0.02, printed by the test.)
/// There are no kinks, but the ε / ε/2 guard of <see cref="FiniteDifferences.Compare"/> is kept (it reads only the
/// differenced function, never Backward); every tensor must still have a usable coordinate, at least 90% of all
/// coordinates must be usable, at least half significant (|fd| above the absolute term), and so must a third of the
/// <c>encoder.*</c> ones, so that an encoder left without gradient cannot pass.
/// </para>
/// <para>
/// Exact checks besides: the training forward's logits equal the inference forward's within 1e-5 + 1e-5·|y| (the
/// same kernels, the training ones also recording); the padding_idx row of both embeddings and the row of a token
/// that occurs only at padded steps (source or target) get exactly no gradient (not differenced: the padding row's
/// difference is not zero when the token occurs); with attention, every row of the weights the training forward
/// writes is 0 exactly past its source length and sums to 1 within 1e-5 (at most 5 float32 terms ≤ 1 each).
/// </para>
/// </remarks>
public class Seq2SeqFiniteDifferenceTests(ITestOutputHelper output)
{
    private const float ParameterScale = 2f;

    /// <summary>Coordinates per parameter tensor on average (one from every tensor, then at random).</summary>
    private const int CoordinatesPerTensor = 2;

    private const int SourceVocabulary = 7, TargetVocabulary = 6;

    private const string Embeddings =
        "    [Embedding(NumEmbeddings = 7, EmbeddingDim = 3, PaddingIdx = 0)] public partial Embedding Embed { get; }\n";

    private const string TargetEmbedding =
        "    [Embedding(NumEmbeddings = 6, EmbeddingDim = 3, PaddingIdx = 0)] public partial Embedding Embed { get; }\n";

    /// <summary>The four encoder–decoders: name → (encoder modules, decoder modules).</summary>
    private static readonly Dictionary<string, (string Encoder, string Decoder)> Cases = new(StringComparer.Ordinal)
    {
        ["Gru"] = (
            Embeddings + "    [Gru(InputSize = 3, HiddenSize = 4)] public partial Gru Rnn { get; }\n",
            TargetEmbedding + "    [Gru(InputSize = 3, HiddenSize = 4)] public partial Gru Rnn { get; }\n"
                + "    [Linear(InFeatures = 4, OutFeatures = 6)] public partial Linear Fc { get; }\n"),
        ["Lstm2LuongGeneral"] = (
            Embeddings + "    [Lstm(InputSize = 3, HiddenSize = 4, NumLayers = 2)] public partial Lstm Rnn { get; }\n",
            TargetEmbedding + "    [Lstm(InputSize = 3, HiddenSize = 4, NumLayers = 2)] public partial Lstm Rnn { get; }\n"
                + "    [Attention(AttentionScore.General, KeySize = 4)] public partial Attention Attn { get; }\n"
                + "    [Linear(InFeatures = 8, OutFeatures = 4)] public partial Linear Combine { get; }\n"
                + "    [Tanh] public partial Activation Act { get; }\n"
                + "    [Linear(InFeatures = 4, OutFeatures = 6)] public partial Linear Fc { get; }\n"),
        ["Lstm2BahdanauAdditive"] = (
            Embeddings + "    [Lstm(InputSize = 3, HiddenSize = 4, NumLayers = 2)] public partial Lstm Rnn { get; }\n",
            TargetEmbedding + "    [Attention(AttentionScore.Additive, KeySize = 4, AttentionSize = 3)] public partial Attention Attn { get; }\n"
                + "    [Lstm(InputSize = 7, HiddenSize = 4, NumLayers = 2)] public partial Lstm Rnn { get; }\n"
                + "    [Linear(InFeatures = 4, OutFeatures = 6)] public partial Linear Fc { get; }\n"),
        ["GruDot"] = (
            Embeddings + "    [Gru(InputSize = 3, HiddenSize = 4)] public partial Gru Rnn { get; }\n",
            TargetEmbedding + "    [Gru(InputSize = 3, HiddenSize = 4)] public partial Gru Rnn { get; }\n"
                + "    [Attention(AttentionScore.Dot, KeySize = 4)] public partial Attention Attn { get; }\n"
                + "    [Linear(InFeatures = 8, OutFeatures = 6)] public partial Linear Fc { get; }\n"),
    };

    /// <summary>All four models in one compilation (one generator run).</summary>
    private static readonly Lazy<Assembly> Compiled = new(() => FiniteDifferences.CompileAndLoad(Declarations()));

    private static string Declarations()
    {
        var text = new System.Text.StringBuilder("using ModelGen;\n\n");
        foreach ((string name, (string encoder, string decoder)) in Cases)
        {
            text.Append($"[SequenceModel]\npublic partial class Fd{name}Encoder\n{{\n{encoder}}}\n\n")
                .Append($"[SequenceModel]\npublic partial class Fd{name}Decoder\n{{\n{decoder}}}\n\n")
                .Append($"[Seq2SeqModel(typeof(Fd{name}Encoder), typeof(Fd{name}Decoder))]\npublic partial class Fd{name};\n\n");
        }
        return text.ToString();
    }

    [Theory]
    [Trait("Category", "Gradients")]
    [InlineData("Gru", false)]
    [InlineData("Lstm2LuongGeneral", true)]
    [InlineData("Lstm2BahdanauAdditive", true)]
    [InlineData("GruDot", true)]
    public void Backward_matches_central_finite_differences_through_the_bridge_and_the_attention(string name, bool attends)
    {
        Type type = Compiled.Value.GetType("Fd" + name, throwOnError: true)!;
        IReadOnlyList<ParameterInfo> table = FiniteDifferences.ParameterTable(type);
        Assert.Contains(table, p => p.Name.StartsWith("encoder.", StringComparison.Ordinal));

        var total = new GraphFdStatistics();
        var encoder = new GraphFdStatistics();
        var usableByTensor = table.ToDictionary(p => p.Name, _ => 0, StringComparer.Ordinal);
        // Three draws: batch 3, 2, 3; Ts 3 to 5; Tt 2 to 4; each with its own lengths, tokens and dy.
        for (int seed = 1; seed <= 3; seed++)
        {
            var model = (ISeq2SeqModel)Activator.CreateInstance(type)!;
            Assert.Equal(attends, model.HasAttention);
            (GraphFdStatistics all, GraphFdStatistics ofEncoder) = Check(model, table, seed, 2 + seed % 2, 2 + seed, 1 + seed, usableByTensor);
            total.Add(all);
            encoder.Add(ofEncoder);
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {total.Checked} checked, {total.Usable} usable, {total.Significant} significant (encoder: {encoder.Checked}, {encoder.Usable}, {encoder.Significant}); worst |fd − analytic| / tolerance {total.WorstRatio:F3}; {total.PaddingRowZeros} exact zeros"));

        string[] missing = [.. usableByTensor.Where(p => p.Value == 0).Select(p => p.Key)];
        Assert.True(missing.Length == 0, $"{name}: no usable coordinate of " + string.Join(", ", missing));
        Assert.True(total.Usable >= 0.9 * total.Checked, $"{name}: only {total.Usable} of {total.Checked} coordinates had a stable finite difference (need 90%).");
        Assert.True(total.Significant >= 0.5 * total.Usable,
            $"{name}: only {total.Significant} of {total.Usable} usable coordinates had |gradient| above {FiniteDifferences.AbsoluteTolerance}: the check is too weak.");
        Assert.True(encoder.Significant >= encoder.Usable / 3.0,
            $"{name}: only {encoder.Significant} of {encoder.Usable} usable encoder.* coordinates are significant: a Backward that left the encoder without gradient would pass.");
        Assert.True(total.PaddingRowZeros > 0, $"{name}: the exact-zero checks of embedding rows found nothing to check");
    }

    /// <summary>
    /// The declarations checked here are what a user writes; in a real build the declaration analyzer runs on the
    /// compilation that holds the generator's output, and must not reject them (the generator accepts them: it
    /// generated the models above). It reports MG0025 "declares constructors of its own" for every part, counting
    /// the two constructors the generator emits into each graph.
    /// </summary>
    [Fact]
    public async Task The_declaration_analyzer_accepts_the_seq2seq_declarations_after_generation()
    {
        (GeneratorRunResult result, Compilation generated) = GeneratorHarness.Run(Declarations());
        Assert.Null(result.Exception);
        Assert.Contains(result.GeneratedSources, s => s.HintName.EndsWith(".seq2seq.g.cs", StringComparison.Ordinal));
        ImmutableArray<Diagnostic> diagnostics =
            await generated.WithAnalyzers([new ModelGen.Generator.Diagnostics.ModelDeclarationAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        Assert.True(diagnostics.IsEmpty, string.Join("\n", diagnostics));
    }

    private static (GraphFdStatistics All, GraphFdStatistics Encoder) Check(ISeq2SeqModel model, IReadOnlyList<ParameterInfo> table,
        int seed, int batch, int sourceSteps, int targetSteps, Dictionary<string, int> usableByTensor)
    {
        var random = new Random(seed * 7919);
        model.InitializeParameters((ulong)seed);
        foreach (ref float parameter in model.EditParameters()) parameter *= ParameterScale;
        int v = model.TargetVocabularySize;
        Assert.Equal(TargetVocabulary, v);
        Assert.Equal(SourceVocabulary, model.SourceVocabularySize);

        int[] sourceLengths = FiniteDifferences.Lengths(random, batch, sourceSteps);
        int[] targetLengths = FiniteDifferences.Lengths(random, batch, targetSteps);
        // Real steps draw tokens from [0, V − 1) (0, the padding_idx, included: PyTorch gives its row no gradient
        // even where it occurs); padded steps hold the last token V − 1 only, whose row must then get no gradient.
        int[] Tokens(int vocabulary, int steps, int[] lengths)
        {
            var tokens = new int[batch * steps];
            for (int b = 0; b < batch; b++)
            {
                for (int t = 0; t < steps; t++) tokens[b * steps + t] = t < lengths[b] ? random.Next(vocabulary - 1) : vocabulary - 1;
            }
            tokens[random.Next(batch) * steps] = 0;   // the padding token at a real step (step 0 is real in every row)
            return tokens;
        }
        int[] source = Tokens(SourceVocabulary, sourceSteps, sourceLengths);
        int[] target = Tokens(TargetVocabulary, targetSteps, targetLengths);
        float[] dy = FiniteDifferences.Uniform(random, batch * targetSteps * v, 1f);
        for (int b = 0; b < batch; b++)
        {
            for (int t = targetLengths[b]; t < targetSteps; t++) dy.AsSpan((b * targetSteps + t) * v, v).Clear();
        }
        var logits = new float[dy.Length];

        double Loss()
        {
            model.Forward(source, target, batch, logits, sourceLengths, targetLengths);
            double sum = 0;
            for (int i = 0; i < logits.Length; i++) sum += (double)logits[i] * dy[i];
            return sum;
        }

        var mismatches = new List<string>();
        string where = string.Create(CultureInfo.InvariantCulture,
            $"{model.GetType().Name}, seed {seed}: batch {batch}, source lengths [{string.Join(", ", sourceLengths)}] of {sourceSteps}, target lengths [{string.Join(", ", targetLengths)}] of {targetSteps}");

        // Analytic.
        var trained = new float[dy.Length];
        float[] attention = model.HasAttention ? new float[batch * targetSteps * sourceSteps] : [];
        model.ZeroGradients();
        model.TrainForward(source, target, batch, trained, sourceLengths, targetLengths, attention);
        model.Backward(dy);
        float[] gradients = model.Gradients.ToArray();

        Loss();
        for (int i = 0; i < logits.Length; i++)
        {
            if (!(Math.Abs(trained[i] - logits[i]) <= 1e-5 + 1e-5 * Math.Abs(logits[i])))
            {
                mismatches.Add($"training forward logits[{i}] = {trained[i]:R}, inference {logits[i]:R}");
                break;
            }
        }
        for (int row = 0; row < batch * targetSteps && attention.Length > 0; row++)
        {
            int b = row / targetSteps;
            double sum = 0;
            for (int s = 0; s < sourceSteps; s++)
            {
                float w = attention[row * sourceSteps + s];
                sum += w;
                if (s >= sourceLengths[b] && w != 0) mismatches.Add($"attention[{b}, {row % targetSteps}, {s}] = {w:R} past the source length {sourceLengths[b]}, not 0");
            }
            if (!(Math.Abs(sum - 1) <= 1e-5)) mismatches.Add($"attention[{b}, {row % targetSteps}, :] sums to {sum:R}, not 1");
        }

        // Exact zeros: the padding rows, and the row of the token that occurs only at padded steps.
        var statistics = new GraphFdStatistics();
        var excluded = new HashSet<int>();
        void ZeroRows(string embedding, int vocabulary, int[] tokens, int steps, int[] lengths)
        {
            ParameterInfo weight = table.Single(p => p.Name == embedding);
            int dim = weight.Shape[1];
            var used = new HashSet<int>(Enumerable.Range(0, tokens.Length).Where(i => i % steps < lengths[i / steps]).Select(i => tokens[i]));
            for (int row = 0; row < vocabulary; row++)
            {
                if (used.Contains(row) && row != 0) continue;
                for (int f = 0; f < dim; f++)
                {
                    int index = weight.Offset + row * dim + f;
                    excluded.Add(index);
                    statistics.PaddingRowZeros++;
                    if (gradients[index] != 0)
                    {
                        mismatches.Add($"d {embedding}[{row}, {f}] = {gradients[index]:R}: the {(row == 0 ? "padding_idx row" : "row of a token that occurs only at padded steps")} got a gradient");
                    }
                }
            }
        }
        ZeroRows("encoder.embed.weight", SourceVocabulary, source, sourceSteps, sourceLengths);
        ZeroRows("decoder.embed.weight", TargetVocabulary, target, targetSteps, targetLengths);

        var encoder = new GraphFdStatistics();
        foreach (int index in FiniteDifferences.ParameterIndices(table, excluded, random, CoordinatesPerTensor * table.Count))
        {
            string name = FiniteDifferences.ParameterName(table, index);
            ParameterInfo tensor = table.Single(p => index >= p.Offset && index < p.Offset + p.Length);
            bool ofEncoder = tensor.Name.StartsWith("encoder.", StringComparison.Ordinal);
            var one = new GraphFdStatistics();
            FiniteDifferences.Compare(Loss, name, gradients[index], model.Parameters[index], value => model.EditParameters()[index] = value, one, mismatches);
            statistics.Add(one);
            if (ofEncoder) encoder.Add(one);
            usableByTensor[tensor.Name] += one.Usable;
        }

        if (mismatches.Count > 0)
        {
            throw new XunitException($"{where}:\n{mismatches.Count} checks failed:\n  " + string.Join("\n  ", mismatches.Take(12)) + (mismatches.Count > 12 ? "\n  ..." : ""));
        }
        return (statistics, encoder);
    }
}
