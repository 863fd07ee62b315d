using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Xunit.Sdk;

namespace ModelGen.Tests;

// ---- The encoder–decoders under test, generated in this project as a user's would be ------------------------------
// Token ids: 0 padding (padding_idx), 1 start (BOS), 2 end (EOS).

/// <summary>A GRU encoder over 11 source tokens.</summary>
[SequenceModel]
public partial class S2sPlainEncoder
{
    [Embedding(NumEmbeddings = 11, EmbeddingDim = 5, PaddingIdx = 0)] public partial Embedding Embed { get; }
    [Gru(InputSize = 5, HiddenSize = 8)] public partial Gru Rnn { get; }
}

/// <summary>A GRU decoder over 9 target tokens, without attention.</summary>
[SequenceModel]
public partial class S2sPlainDecoder
{
    [Embedding(NumEmbeddings = 9, EmbeddingDim = 5, PaddingIdx = 0)] public partial Embedding Embed { get; }
    [Gru(InputSize = 5, HiddenSize = 8)] public partial Gru Rnn { get; }
    [Linear(InFeatures = 8, OutFeatures = 9)] public partial Linear Fc { get; }
}

/// <summary>GRU encoder–decoder without attention.</summary>
[Seq2SeqModel(typeof(S2sPlainEncoder), typeof(S2sPlainDecoder))]
public partial class S2sPlain;

/// <summary>A two-layer LSTM encoder.</summary>
[SequenceModel]
public partial class S2sLuongEncoder
{
    [Embedding(NumEmbeddings = 11, EmbeddingDim = 6, PaddingIdx = 0)] public partial Embedding Embed { get; }
    [Lstm(InputSize = 6, HiddenSize = 8, NumLayers = 2)] public partial Lstm Rnn { get; }
}

/// <summary>A two-layer LSTM decoder with Luong general attention after the cell, then tanh(W_c [h; c]) and the output layer.</summary>
[SequenceModel]
public partial class S2sLuongDecoder
{
    [Embedding(NumEmbeddings = 9, EmbeddingDim = 6, PaddingIdx = 0)] public partial Embedding Embed { get; }
    [Lstm(InputSize = 6, HiddenSize = 8, NumLayers = 2)] public partial Lstm Rnn { get; }
    [Attention(AttentionScore.General, KeySize = 8)] public partial Attention Attn { get; }
    [Linear(InFeatures = 16, OutFeatures = 8)] public partial Linear Combine { get; }
    [Tanh] public partial Activation Act { get; }
    [Linear(InFeatures = 8, OutFeatures = 9)] public partial Linear Fc { get; }
}

/// <summary>LSTM encoder–decoder with Luong attention.</summary>
[Seq2SeqModel(typeof(S2sLuongEncoder), typeof(S2sLuongDecoder))]
public partial class S2sLuong;

/// <summary>A GRU encoder.</summary>
[SequenceModel]
public partial class S2sBahdanauEncoder
{
    [Embedding(NumEmbeddings = 11, EmbeddingDim = 6, PaddingIdx = 0)] public partial Embedding Embed { get; }
    [Gru(InputSize = 6, HiddenSize = 8)] public partial Gru Rnn { get; }
}

/// <summary>A GRU decoder with Bahdanau additive attention before the cell (PyTorch's tutorial AttnDecoderRNN).</summary>
[SequenceModel]
public partial class S2sBahdanauDecoder
{
    [Embedding(NumEmbeddings = 9, EmbeddingDim = 6, PaddingIdx = 0)] public partial Embedding Embed { get; }
    [Attention(AttentionScore.Additive, KeySize = 8, AttentionSize = 7)] public partial Attention Attn { get; }
    [Gru(InputSize = 14, HiddenSize = 8)] public partial Gru Rnn { get; }
    [Linear(InFeatures = 8, OutFeatures = 9)] public partial Linear Fc { get; }
}

/// <summary>GRU encoder–decoder with Bahdanau attention.</summary>
[Seq2SeqModel(typeof(S2sBahdanauEncoder), typeof(S2sBahdanauDecoder))]
public partial class S2sBahdanau;

/// <summary>
/// Generated encoder–decoders (<c>[Seq2SeqModel]</c>) declared in this project: decoding one token at a time agrees
/// with the teacher-forced forward, greedy decoding with beam search of width 1 and with the argmax chain of
/// repeated forwards, warm calls allocate nothing, the two graphs share the model's one parameter buffer, and the
/// argument checks throw before anything is written.
/// </summary>
/// <remarks>
/// <para>Comparisons between decoding and the teacher-forced forward are bit for bit, for all three decoders. Both
/// paths run the same kernels on the same rows: the Bahdanau decoder runs its steps one at a time in both; the
/// Luong and plain decoders run the recurrent kernel over the whole target in Forward and over one step in Step,
/// but that kernel computes every output of every row and step in one fixed order whatever the rows batched with
/// it (<c>RowProduct</c>: bias, then one multiply-add per input in order) — and LinearKernel documents each
/// output as the same float for every row grouping and vector width, the attention kernel as scalar loops in a
/// fixed order, and the activations as independent of width and position. So no rounding differs, and any
/// difference is a wrong state, a wrong memory row or a wrong step.</para>
/// </remarks>
public class Seq2SeqModelTests
{
    private const int Bos = 1, Eos = 2, TargetVocabulary = 9, SourceVocabulary = 11;

    public static TheoryData<string> Models => new() { "Plain", "Luong", "Bahdanau" };

    /// <summary>A model and its two graphs (as trainable models), by name.</summary>
    private sealed record Subject(ISeq2SeqModel Model, ITrainableModel Encoder, ITrainableModel Decoder,
        IReadOnlyList<ParameterInfo> Table, IReadOnlyList<ParameterInfo> EncoderTable, IReadOnlyList<ParameterInfo> DecoderTable);

    private static Subject Create(string name)
    {
        switch (name)
        {
            case "Plain":
            {
                var m = new S2sPlain();
                return new Subject(m, m.Encoder, m.Decoder, S2sPlain.ParameterTable, S2sPlainEncoder.ParameterTable, S2sPlainDecoder.ParameterTable);
            }
            case "Luong":
            {
                var m = new S2sLuong();
                return new Subject(m, m.Encoder, m.Decoder, S2sLuong.ParameterTable, S2sLuongEncoder.ParameterTable, S2sLuongDecoder.ParameterTable);
            }
            case "Bahdanau":
            {
                var m = new S2sBahdanau();
                return new Subject(m, m.Encoder, m.Decoder, S2sBahdanau.ParameterTable, S2sBahdanauEncoder.ParameterTable, S2sBahdanauDecoder.ParameterTable);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "unknown model");
        }
    }

    /// <summary>A model initialised from <paramref name="seed"/>.</summary>
    private static ISeq2SeqModel Initialised(string name, ulong seed)
    {
        ISeq2SeqModel model = Create(name).Model;
        model.InitializeParameters(seed);
        return model;
    }

    /// <summary>A second instance of the model with the same parameters, written through its EditParameters.</summary>
    private static ISeq2SeqModel Twin(string name, ISeq2SeqModel model)
    {
        ISeq2SeqModel twin = Create(name).Model;
        model.Parameters.CopyTo(twin.EditParameters());
        return twin;
    }

    /// <summary>Source tokens <c>[B, Ts]</c> in [3, V) at real steps, 0 (padding) past each length.</summary>
    private static int[] Sources(int batch, int steps, int[] lengths, int seed)
    {
        var random = new Random(seed);
        var tokens = new int[batch * steps];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < lengths[b]; t++) tokens[b * steps + t] = 3 + random.Next(SourceVocabulary - 3);
        }
        return tokens;
    }

    /// <summary>Decoder inputs <c>[B, Tt]</c>: BOS, then tokens in [3, V).</summary>
    private static int[] Prefixes(int batch, int steps, int seed)
    {
        var random = new Random(seed);
        var tokens = new int[batch * steps];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = i % steps == 0 ? Bos : 3 + random.Next(TargetVocabulary - 3);
        return tokens;
    }

    private static ReadOnlySpan<float> Row(float[] logits, int row) => logits.AsSpan(row * TargetVocabulary, TargetVocabulary);

    // ---- 2. Decoding consistency ---------------------------------------------------------------------------------

    /// <summary>
    /// After BeginDecoding, feeding a target prefix through Step gives at every step the teacher-forced Forward's
    /// logits of that step, bit for bit (see the remarks); a Forward call between two steps does not disturb the
    /// decoding state.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Stepping_a_prefix_gives_the_teacher_forced_logits_bit_for_bit(string name)
    {
        const int B = 3, Ts = 6, T = 5;
        ISeq2SeqModel model = Initialised(name, 3);
        int[] lengths = [6, 3, 5];
        int[] source = Sources(B, Ts, lengths, seed: 4);
        int[] prefix = Prefixes(B, T, seed: 5);
        var expected = new float[B * T * TargetVocabulary];
        model.Forward(source, prefix, B, expected, lengths);

        model.BeginDecoding(source, B, lengths);
        Assert.Equal(B, model.Rows);
        var feed = new int[B];
        var logits = new float[B * TargetVocabulary];
        var again = new float[expected.Length];
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++) feed[b] = prefix[b * T + t];
            model.Step(feed, logits);
            for (int b = 0; b < B; b++) TestHelpers.AssertBitEqual(Row(expected, b * T + t), Row(logits, b), $"{name}: step {t}, row {b}: logits");
            if (t == 1)
            {
                // A teacher-forced forward in the middle of decoding: the same result, and the steps go on unchanged.
                model.Forward(source, prefix, B, again, lengths);
                TestHelpers.AssertBitEqual(expected, again, $"{name}: Forward between steps");
            }
        }
    }

    /// <summary>
    /// With rowsPerSource = k, all k rows of a source give the logits its one row gives with k = 1, bit for bit.
    /// After the rows diverge (different tokens), SelectRows(sourceRows) — a permutation within each group, then
    /// a selection with repeats (what a beam search does) — makes row r give, at the next steps, what row
    /// sourceRows[r] gives in a second model instance with the same parameters and history that never reorders.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Rows_of_one_source_agree_and_SelectRows_continues_the_named_rows(string name)
    {
        const int B = 2, Ts = 5, K = 3, Rows = B * K;
        ISeq2SeqModel model = Initialised(name, 7);
        ISeq2SeqModel single = Twin(name, model), mirror = Twin(name, model);
        int[] lengths = [5, 2];
        int[] source = Sources(B, Ts, lengths, seed: 8);

        model.BeginDecoding(source, B, lengths, rowsPerSource: K);
        mirror.BeginDecoding(source, B, lengths, rowsPerSource: K);
        single.BeginDecoding(source, B, lengths);
        Assert.Equal(Rows, model.Rows);
        Assert.Equal(B, single.Rows);

        var logits = new float[Rows * TargetVocabulary];
        var mirrorLogits = new float[Rows * TargetVocabulary];
        var singleLogits = new float[B * TargetVocabulary];
        int[] feed = new int[Rows], mirrorFeed = new int[Rows];

        // Step 0: the start token everywhere; every row of a source as its single row.
        Array.Fill(feed, Bos);
        model.Step(feed, logits);
        mirror.Step(feed, mirrorLogits);
        single.Step(feed.AsSpan(0, B), singleLogits);
        for (int r = 0; r < Rows; r++) TestHelpers.AssertBitEqual(Row(singleLogits, r / K), Row(logits, r), $"{name}: row {r} of source {r / K} at step 0");
        // Step 1, with the same token in every row: still equal.
        Array.Fill(feed, 5);
        model.Step(feed, logits);
        mirror.Step(feed, mirrorLogits);
        single.Step(feed.AsSpan(0, B), singleLogits);
        for (int r = 0; r < Rows; r++) TestHelpers.AssertBitEqual(Row(singleLogits, r / K), Row(logits, r), $"{name}: row {r} of source {r / K} at step 1");

        // Step 2: a different token per row, so that the rows of a group diverge.
        for (int r = 0; r < Rows; r++) feed[r] = 3 + r % K;
        model.Step(feed, logits);
        mirror.Step(feed, mirrorLogits);
        TestHelpers.AssertBitEqual(mirrorLogits, logits, $"{name}: the twin at step 2");
        for (int g = 0; g < B; g++)
        {
            Assert.False(Row(logits, g * K).SequenceEqual(Row(logits, g * K + 1)), $"{name}: rows of source {g} did not diverge: the selection checks would be vacuous");
        }

        // Row r of the model now mirrors row map[r] of the twin, which is never reordered.
        int[] map = [.. Enumerable.Range(0, Rows)];
        int Token(int mirrorRow, int step) => 3 + (mirrorRow * 5 + step * 3) % (TargetVocabulary - 3);
        void Select(int[] sourceRows, int step)
        {
            model.SelectRows(sourceRows);
            map = [.. sourceRows.Select(s => map[s])];
            for (int extra = 0; extra < 2; extra++, step++)
            {
                for (int r = 0; r < Rows; r++)
                {
                    feed[r] = Token(map[r], step);
                    mirrorFeed[r] = Token(r, step);
                }
                model.Step(feed, logits);
                mirror.Step(mirrorFeed, mirrorLogits);
                for (int r = 0; r < Rows; r++)
                {
                    TestHelpers.AssertBitEqual(Row(mirrorLogits, map[r]), Row(logits, r),
                        $"{name}: after SelectRows([{string.Join(", ", sourceRows)}]), row {r} (continuing twin row {map[r]}) at step {step}");
                }
            }
        }
        Select([2, 0, 1, 4, 5, 3], step: 3);   // a permutation within each group
        Select([1, 1, 0, 5, 3, 5], step: 5);   // repeats and dropped rows, as a beam search keeps its best hypotheses
    }

    // ---- 3. Greedy decoding --------------------------------------------------------------------------------------

    /// <summary>
    /// GreedyDecoder over a batch of sources gives, for each source, the tokens and length of BeamSearch with width 1
    /// on that source alone, and the chain of argmaxes of repeated teacher-forced Forward calls on the growing prefix
    /// (each a batch of one), stopped at EOS or the maximum length.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Greedy_decoding_equals_beam_search_of_width_one_and_the_argmax_chain_of_forward(string name)
    {
        const int B = 4, Ts = 6, MaxLength = 7;
        ISeq2SeqModel model = Initialised(name, 11);
        // The untrained models' EOS logit often wins at once; lowered, the sequences run longer (what is compared is
        // the three ways of decoding one model, whatever its parameters).
        int eosBias = Create(name).Table.Single(p => p.Name == "decoder.fc.bias").Offset + Eos;
        model.EditParameters()[eosBias] -= 1f;
        int[] lengths = [6, 2, 4, 5];
        int[] source = Sources(B, Ts, lengths, seed: 12);

        var greedy = new GreedyDecoder(B, TargetVocabulary, MaxLength);
        var tokens = new int[B * MaxLength];
        var greedyLengths = new int[B];
        model.BeginDecoding(source, B, lengths);
        greedy.Decode(model, Bos, Eos, MaxLength, tokens, greedyLengths);
        // Not vacuous: at least one source decodes to more than one token.
        Assert.True(greedyLengths.Any(l => l >= 2), $"{name}: greedy lengths [{string.Join(", ", greedyLengths)}]: the draw says too little");

        var beam = new BeamSearch(1, TargetVocabulary, MaxLength);
        var beamTokens = new int[MaxLength];
        for (int b = 0; b < B; b++)
        {
            int[] one = source.AsSpan(b * Ts, Ts).ToArray();
            model.BeginDecoding(one, 1, [lengths[b]]);
            BeamHypothesis best = beam.Decode(model, Bos, Eos, beamTokens);
            Assert.Equal(greedyLengths[b], best.Length);
            Assert.Equal(tokens.AsSpan(b * MaxLength, MaxLength).ToArray(), beamTokens);

            // The argmax chain of teacher-forced forwards.
            var chain = new List<int>();
            var prefix = new List<int> { Bos };
            for (int t = 0; t < MaxLength; t++)
            {
                var logits = new float[prefix.Count * TargetVocabulary];
                model.Forward(one, prefix.ToArray(), 1, logits, [lengths[b]]);
                ReadOnlySpan<float> last = logits.AsSpan((prefix.Count - 1) * TargetVocabulary, TargetVocabulary);
                int next = 0;
                for (int i = 1; i < TargetVocabulary; i++) if (last[i] > last[next]) next = i;
                if (next == Eos) break;
                chain.Add(next);
                prefix.Add(next);
            }
            Assert.Equal(chain.ToArray(), tokens.AsSpan(b * MaxLength, greedyLengths[b]).ToArray());
        }
    }

    // ---- 4. Allocations ------------------------------------------------------------------------------------------

    /// <summary>Warm Step, SelectRows, Forward and TrainForward + Backward (after a first call of the same sizes) allocate nothing.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Warm_decoding_steps_row_selections_and_training_calls_allocate_nothing(string name)
    {
        const int B = 2, Ts = 5, Tt = 4, K = 2;
        ISeq2SeqModel model = Initialised(name, 13);
        int[] sourceLengths = [5, 3], targetLengths = [4, 2];
        int[] source = Sources(B, Ts, sourceLengths, seed: 14);
        int[] target = Prefixes(B, Tt, seed: 15);
        var logits = new float[B * Tt * TargetVocabulary];
        float[] attention = model.HasAttention ? new float[B * Tt * Ts] : [];
        float[] dy = TestHelpers.RandomValues(logits.Length, seed: 16);

        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => model.Forward(source, target, B, logits, sourceLengths, targetLengths, attention)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() =>
        {
            model.TrainForward(source, target, B, logits, sourceLengths, targetLengths, attention);
            model.Backward(dy);
        }));

        model.BeginDecoding(source, B, sourceLengths, rowsPerSource: K);
        int[] feed = [Bos, 3, 4, 5];
        int[] selection = [1, 1, 3, 2];
        var stepLogits = new float[B * K * TargetVocabulary];
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => model.Step(feed, stepLogits)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => model.SelectRows(selection)));
    }

    // ---- 5. One parameter buffer ---------------------------------------------------------------------------------

    /// <summary>
    /// ParameterTable is encoder.* (the encoder's table, renamed) then decoder.*, with offsets tiling the buffer;
    /// the graphs' Parameters and Gradients are the two parts of the model's, the same memory.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void The_two_graphs_are_the_two_parts_of_one_parameter_buffer(string name)
    {
        Subject s = Create(name);
        ISeq2SeqModel model = s.Model;
        int encoderCount = s.Encoder.ParameterCount;
        Assert.Equal(encoderCount + s.Decoder.ParameterCount, model.ParameterCount);
        Assert.Equal(
            [.. s.EncoderTable.Select(p => "encoder." + p.Name), .. s.DecoderTable.Select(p => "decoder." + p.Name)],
            s.Table.Select(p => p.Name).ToArray());
        int offset = 0;
        for (int i = 0; i < s.Table.Count; i++)
        {
            ParameterInfo part = i < s.EncoderTable.Count ? s.EncoderTable[i] : s.DecoderTable[i - s.EncoderTable.Count];
            Assert.Equal(offset, s.Table[i].Offset);
            Assert.Equal(part.Offset + (i < s.EncoderTable.Count ? 0 : encoderCount), s.Table[i].Offset);
            Assert.Equal(part.Shape.ToArray(), s.Table[i].Shape.ToArray());
            Assert.Equal(part.Length, s.Table[i].Length);
            offset += s.Table[i].Length;
        }
        Assert.Equal(model.ParameterCount, offset);

        TestHelpers.AssertSameMemory(model.Parameters[..encoderCount], s.Encoder.Parameters, $"{name}: Encoder.Parameters");
        TestHelpers.AssertSameMemory(model.Parameters[encoderCount..], s.Decoder.Parameters, $"{name}: Decoder.Parameters");
        TestHelpers.AssertSameMemory(model.Gradients[..encoderCount], s.Encoder.Gradients, $"{name}: Encoder.Gradients");
        TestHelpers.AssertSameMemory(model.Gradients[encoderCount..], s.Decoder.Gradients, $"{name}: Decoder.Gradients");

        // Initialisation writes both parts; a training step's gradients land in both parts of the model's buffer.
        model.InitializeParameters(17);
        Assert.Contains(model.Parameters[..encoderCount].ToArray(), v => v != 0);
        Assert.Contains(model.Parameters[encoderCount..].ToArray(), v => v != 0);
        const int B = 2, Ts = 4, Tt = 3;
        int[] lengths = [4, 2];
        int[] source = Sources(B, Ts, lengths, seed: 18), target = Prefixes(B, Tt, seed: 19);
        var logits = new float[B * Tt * TargetVocabulary];
        model.TrainForward(source, target, B, logits, lengths);
        model.Backward(TestHelpers.RandomValues(logits.Length, seed: 20));
        Assert.Contains(s.Encoder.Gradients.ToArray(), v => v != 0);
        Assert.Contains(s.Decoder.Gradients.ToArray(), v => v != 0);
        model.ZeroGradients();
        Assert.DoesNotContain(model.Gradients.ToArray(), v => v != 0);
    }

    /// <summary>
    /// Writes after a forward call reach the next forward — through the model's EditParameters (one encoder float,
    /// one decoder float, then every float: both graphs' packed copies must be refreshed) and through each graph's
    /// own EditParameters, which the model's Parameters see. After every write the forward and the decoding steps
    /// equal, bit for bit, those of a fresh model given the same parameters (which packs from scratch), and differ
    /// from the output before the write.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Parameter_writes_after_a_forward_reach_both_graphs_packed_weights(string name)
    {
        const int B = 2, Ts = 4, Tt = 3;
        Subject s = Create(name);
        ISeq2SeqModel model = s.Model;
        model.InitializeParameters(21);
        int[] lengths = [4, 3];
        int[] source = Sources(B, Ts, lengths, seed: 22), target = Prefixes(B, Tt, seed: 23);
        var before = new float[B * Tt * TargetVocabulary];
        var after = new float[before.Length];
        var fresh = new float[before.Length];
        var steps = new float[B * TargetVocabulary];
        var freshSteps = new float[B * TargetVocabulary];
        int encoderCount = s.Encoder.ParameterCount;
        int Offset(string tensor) => s.Table.Single(p => p.Name == tensor).Offset;

        void Check(string what, Action write)
        {
            model.Forward(source, target, B, before, lengths);
            write();
            model.Forward(source, target, B, after, lengths);
            Assert.False(before.AsSpan().SequenceEqual(after), $"{name}: {what}: the next forward did not change");
            ISeq2SeqModel twin = Twin(name, model);
            twin.Forward(source, target, B, fresh, lengths);
            TestHelpers.AssertBitEqual(fresh, after, $"{name}: {what}: forward against a fresh model");
            model.BeginDecoding(source, B, lengths);
            twin.BeginDecoding(source, B, lengths);
            model.Step(target.Where((_, i) => i % Tt == 0).ToArray(), steps);
            twin.Step(target.Where((_, i) => i % Tt == 0).ToArray(), freshSteps);
            TestHelpers.AssertBitEqual(freshSteps, steps, $"{name}: {what}: first decoding step against a fresh model");
        }

        // The recurrent modules' and the Linear's weights are read through packed copies.
        Check("model.EditParameters() on encoder.rnn.weight_hh_l0", () => model.EditParameters()[Offset("encoder.rnn.weight_hh_l0") + 1] += 0.5f);
        Check("model.EditParameters() on decoder.fc.weight", () => model.EditParameters()[Offset("decoder.fc.weight") + 2] += 0.5f);
        Check("model.EditParameters() on decoder.rnn.weight_ih_l0", () => model.EditParameters()[Offset("decoder.rnn.weight_ih_l0")] -= 0.5f);
        Check("model.EditParameters() on every float", () =>
        {
            foreach (ref float p in model.EditParameters()) p *= 1.25f;
        });
        Check("model.Decoder.EditParameters()", () =>
        {
            int i = Offset("decoder.rnn.weight_hh_l0") - encoderCount + 3;
            s.Decoder.EditParameters()[i] = 0.75f;
            Assert.Equal(0.75f, model.Parameters[encoderCount + i]);
        });
        Check("model.Encoder.EditParameters()", () =>
        {
            int i = Offset("encoder.rnn.weight_ih_l0") + 4;
            s.Encoder.EditParameters()[i] = -0.75f;
            Assert.Equal(-0.75f, model.Parameters[i]);
        });
        // A write through a span taken earlier, announced with MarkParametersChanged.
        Check("a held span and MarkParametersChanged", () =>
        {
            Span<float> held = model.EditParameters();
            model.Forward(source, target, B, after, lengths);
            held[Offset("encoder.rnn.weight_hh_l0")] += 0.5f;
            held[Offset("decoder.fc.weight")] += 0.5f;
            model.MarkParametersChanged();
        });
    }

    /// <summary>SaveSafetensors then LoadSafetensors into a fresh model gives the same parameters and bit-identical outputs.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Safetensors_round_trip_gives_identical_outputs(string name)
    {
        const int B = 3, Ts = 5, Tt = 4;
        ISeq2SeqModel model = Initialised(name, 24);
        int[] lengths = [5, 1, 3], targetLengths = [4, 4, 2];
        int[] source = Sources(B, Ts, lengths, seed: 25), target = Prefixes(B, Tt, seed: 26);
        var expected = new float[B * Tt * TargetVocabulary];
        var actual = new float[expected.Length];
        float[] attention = model.HasAttention ? new float[B * Tt * Ts] : [];
        float[] loadedAttention = model.HasAttention ? new float[B * Tt * Ts] : [];
        model.Forward(source, target, B, expected, lengths, targetLengths, attention);

        using var stream = new MemoryStream();
        model.SaveSafetensors(stream);
        stream.Position = 0;
        ISeq2SeqModel loaded = Create(name).Model;
        LoadResult result = loaded.LoadSafetensors(stream);
        Assert.Empty(result.MissingKeys);
        TestHelpers.AssertBitEqual(model.Parameters, loaded.Parameters, $"{name}: loaded parameters");
        loaded.Forward(source, target, B, actual, lengths, targetLengths, loadedAttention);
        TestHelpers.AssertBitEqual(expected, actual, $"{name}: logits after the round trip");
        TestHelpers.AssertBitEqual(attention, loadedAttention, $"{name}: attention after the round trip");
    }

    // ---- 6. Argument checks --------------------------------------------------------------------------------------

    private const float Sentinel = 1234.5f;

    private static float[] Sentinels(int length)
    {
        var values = new float[length];
        Array.Fill(values, Sentinel);
        return values;
    }

    private static void AssertUntouched(float[] values, string what) =>
        Assert.True(values.All(v => v == Sentinel), $"{what}: the caller's span was written before the throw");

    /// <summary>Step and SelectRows before BeginDecoding throw InvalidOperationException and write nothing; so does Backward before a training forward.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Decoding_before_BeginDecoding_throws_and_writes_nothing(string name)
    {
        ISeq2SeqModel model = Initialised(name, 27);
        Assert.Equal(0, model.Rows);
        float[] logits = Sentinels(TargetVocabulary);
        Assert.Throws<InvalidOperationException>(() => model.Step([Bos], logits));
        AssertUntouched(logits, $"{name}: Step");
        Assert.Throws<InvalidOperationException>(() => model.SelectRows([0]));
        Assert.Throws<InvalidOperationException>(() => model.Backward(new float[TargetVocabulary]));
    }

    /// <summary>
    /// SelectRows naming a row of another source's group throws ArgumentOutOfRangeException for sourceRows, and
    /// leaves every row's state as it was (the next step equals a twin's that was never asked to reorder), even
    /// when the bad entry comes last.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void SelectRows_across_groups_throws_and_reorders_nothing(string name)
    {
        const int B = 2, Ts = 4, K = 2;
        ISeq2SeqModel model = Initialised(name, 28);
        ISeq2SeqModel twin = Twin(name, model);
        int[] lengths = [4, 2];
        int[] source = Sources(B, Ts, lengths, seed: 29);
        int[] feed = [3, 4, 5, 6];
        var logits = new float[B * K * TargetVocabulary];
        var twinLogits = new float[logits.Length];
        foreach (ISeq2SeqModel m in new[] { model, twin })
        {
            m.BeginDecoding(source, B, lengths, rowsPerSource: K);
            m.Step([Bos, Bos, Bos, Bos], logits);
            m.Step(feed, logits);
        }

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.SelectRows([1, 0, 3, 0]));   // row 3 from row 0, another group
        Assert.Equal("sourceRows", error.ParamName);
        error = Assert.Throws<ArgumentOutOfRangeException>(() => model.SelectRows([2, 0, 3, 2]));       // row 0 from row 2
        Assert.Equal("sourceRows", error.ParamName);
        var wrongLength = Assert.ThrowsAny<ArgumentException>(() => model.SelectRows([0, 1, 2]));
        Assert.Equal("sourceRows", wrongLength.ParamName);

        model.Step(feed, logits);
        twin.Step(feed, twinLogits);
        TestHelpers.AssertBitEqual(twinLogits, logits, $"{name}: the step after the rejected selections");
    }

    /// <summary>A non-empty attention span on a model without attention throws ArgumentException for attention, before anything is written.</summary>
    [Fact]
    public void An_attention_span_on_a_model_without_attention_throws_and_writes_nothing()
    {
        const int B = 2, Ts = 4, Tt = 3;
        ISeq2SeqModel model = Initialised("Plain", 30);
        Assert.False(model.HasAttention);
        int[] lengths = [4, 2];
        int[] source = Sources(B, Ts, lengths, seed: 31), target = Prefixes(B, Tt, seed: 32);
        float[] logits = Sentinels(B * Tt * TargetVocabulary);
        float[] attention = Sentinels(B * Tt * Ts);
        var error = Assert.ThrowsAny<ArgumentException>(() => model.Forward(source, target, B, logits, lengths, default, attention));
        Assert.Equal("attention", error.ParamName);
        error = Assert.ThrowsAny<ArgumentException>(() => model.TrainForward(source, target, B, logits, lengths, default, attention));
        Assert.Equal("attention", error.ParamName);
        AssertUntouched(logits, "logits");
        AssertUntouched(attention, "attention");
    }

    /// <summary>
    /// Logits of the wrong length in Forward and TrainForward throw ArgumentException for logits whose message gives
    /// the expected shape and the actual length, before anything is written (logits and attention untouched).
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Wrong_forward_logits_lengths_name_logits_with_the_expected_shape_and_write_nothing(string name)
    {
        const int B = 2, Ts = 4, Tt = 3;
        ISeq2SeqModel model = Initialised(name, 33);
        int[] lengths = [4, 2];
        int[] source = Sources(B, Ts, lengths, seed: 34), target = Prefixes(B, Tt, seed: 35);
        float[] attention = model.HasAttention ? Sentinels(B * Tt * Ts) : [];
        int expected = B * Tt * TargetVocabulary;
        foreach (bool training in new[] { false, true })
        {
            float[] logits = Sentinels(expected - 1);
            var error = Assert.ThrowsAny<ArgumentException>(() =>
            {
                if (training) model.TrainForward(source, target, B, logits, lengths, default, attention);
                else model.Forward(source, target, B, logits, lengths, default, attention);
            });
            Assert.Equal("logits", error.ParamName);
            Assert.Contains($"[{B}, {Tt}, {TargetVocabulary}]", error.Message);
            Assert.Contains($"{expected - 1}", error.Message);
            AssertUntouched(logits, $"{name}: {(training ? "TrainForward" : "Forward")} logits");
            if (attention.Length > 0) AssertUntouched(attention, $"{name}: attention");
        }
    }

    /// <summary>
    /// Step's logits of the wrong length throw ArgumentException for logits (the parameter of
    /// <see cref="IStepDecoder.Step"/>) with the expected shape and the actual length, before anything is written; a
    /// wrong tokens span names tokens.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Wrong_Step_logits_length_names_logits_with_the_expected_shape_and_writes_nothing(string name)
    {
        const int B = 2, Ts = 4;
        ISeq2SeqModel model = Initialised(name, 36);
        int[] lengths = [4, 2];
        int[] source = Sources(B, Ts, lengths, seed: 37);
        model.BeginDecoding(source, B, lengths);
        float[] stepLogits = Sentinels(B * TargetVocabulary + 1);
        var stepError = Assert.ThrowsAny<ArgumentException>(() => model.Step([Bos, Bos], stepLogits));
        Assert.Contains($"[{B}, {TargetVocabulary}]", stepError.Message);
        Assert.Contains($"{B * TargetVocabulary + 1}", stepError.Message);
        AssertUntouched(stepLogits, $"{name}: Step logits");
        float[] right = Sentinels(B * TargetVocabulary);
        var tokensError = Assert.ThrowsAny<ArgumentException>(() => model.Step([Bos], right));
        Assert.Equal("tokens", tokensError.ParamName);
        AssertUntouched(right, $"{name}: Step logits (wrong tokens)");
        // Last, so that a failure here says everything above held.
        Assert.True(stepError.ParamName == "logits", $"{name}: Step's wrong logits named '{stepError.ParamName}': {stepError.Message}");
    }
}
