using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReferenceOracle;

/// <summary>One batch of a seq2seq file: token ids and lengths as int64 tensors.</summary>
public sealed record Batch(Tensor Src, Tensor SrcLengths, Tensor TgtIn, Tensor TgtLengths)
{
    public long B => Src.shape[0];
    public long Ts => Src.shape[1];
    public long Tt => TgtIn.shape[1];
}

/// <summary>The attention module of a decoder: memory = the encoder's padded output [B, Ts, K]; scores at source
/// positions past each row's length are -inf before the softmax; output = cat(input, context).</summary>
public sealed class Attention : nn.Module
{
    public string Score { get; }
    public long InputSize { get; }
    public long QuerySize { get; }
    public long KeySize { get; }
    private readonly Linear? Wa, Ua, Va;

    public Attention(JsonElement spec) : base("Attention")
    {
        Score = spec.GetProperty("score").GetString()!;
        InputSize = spec.GetProperty("input_size").GetInt64();
        QuerySize = spec.GetProperty("query_size").GetInt64();
        KeySize = spec.GetProperty("key_size").GetInt64();
        switch (Score)
        {
            case "dot":
                if (QuerySize != KeySize) throw new InvalidDataException("dot attention needs query_size == key_size");
                break;
            case "general":
                Wa = nn.Linear(KeySize, QuerySize, hasBias: false);
                register_module("Wa", Wa);
                break;
            case "additive":
                long a = spec.GetProperty("attention_size").GetInt64();
                // The order of PyTorch's tutorial BahdanauAttention: Wa (query), Ua (keys), Va.
                Wa = nn.Linear(QuerySize, a);
                Ua = nn.Linear(KeySize, a);
                Va = nn.Linear(a, 1);
                register_module("Wa", Wa);
                register_module("Ua", Ua);
                register_module("Va", Va);
                break;
            default: throw new InvalidDataException($"unknown attention score '{Score}'");
        }
    }

    /// <summary>query [B, Tq, Q], memory [B, Ts, K], mask [B, 1, Ts] (true = masked) → context [B, Tq, K], weights [B, Tq, Ts].</summary>
    public (Tensor Context, Tensor Weights) Forward(Tensor query, Tensor memory, Tensor mask)
    {
        Tensor scores = Score switch
        {
            "dot" => query.bmm(memory.transpose(1, 2)),
            "general" => query.bmm(Wa!.forward(memory).transpose(1, 2)),
            _ => Va!.forward(torch.tanh(Wa!.forward(query).unsqueeze(2) + Ua!.forward(memory).unsqueeze(1))).squeeze(-1),
        };
        var weights = scores.masked_fill(mask, double.NegativeInfinity).softmax(-1);
        return (weights.bmm(memory), weights);
    }
}

/// <summary>One side (encoder or decoder) of a seq2seq graph: its modules under their graph names.</summary>
public sealed class Side : nn.Module
{
    public readonly List<(string Type, JsonElement Spec, nn.Module? Module)> Layers = new();

    public Side(string name, JsonElement side) : base(name)
    {
        if (side.GetProperty("input").GetProperty("kind").GetString() != "tokens" || !side.GetProperty("lengths").GetBoolean())
            throw new NotSupportedException("seq2seq sides take tokens with lengths");
        foreach (var spec in side.GetProperty("modules").EnumerateArray())
        {
            string type = spec.GetProperty("type").GetString()!;
            nn.Module? m = type switch
            {
                "Embedding" => nn.Embedding(spec.GetProperty("num_embeddings").GetInt64(), spec.GetProperty("embedding_dim").GetInt64(),
                    padding_idx: spec.TryGetProperty("padding_idx", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : null),
                "GRU" or "LSTM" => Recurrent(type, spec),
                "Linear" => nn.Linear(spec.GetProperty("in_features").GetInt64(), spec.GetProperty("out_features").GetInt64(),
                    hasBias: spec.GetProperty("bias").GetBoolean()),
                "Attention" => new Attention(spec),
                "Tanh" or "ReLU" or "Sigmoid" => null,
                _ => throw new NotSupportedException($"module type {type}"),
            };
            if (m != null) register_module(spec.GetProperty("name").GetString()!, m);
            Layers.Add((type, spec, m));
        }
    }

    private static nn.Module Recurrent(string type, JsonElement spec)
    {
        if (spec.GetProperty("bidirectional").GetBoolean()) throw new NotSupportedException("bidirectional seq2seq");
        if (spec.TryGetProperty("proj_size", out var ps) && ps.GetInt64() != 0) throw new NotSupportedException("proj_size");
        long i = spec.GetProperty("input_size").GetInt64(), h = spec.GetProperty("hidden_size").GetInt64();
        long l = spec.GetProperty("num_layers").GetInt64();
        bool bias = spec.GetProperty("bias").GetBoolean();
        return type == "GRU" ? nn.GRU(i, h, l, bias, batchFirst: true) : nn.LSTM(i, h, l, bias, batchFirst: true);
    }
}

/// <summary>The seq2seq model of a graph (`{"kind": "seq2seq", "encoder", "decoder", "bridge": "final_state"}`).</summary>
public sealed class Seq2Seq : nn.Module
{
    public Side Encoder { get; }
    public Side Decoder { get; }

    public Seq2Seq(string graphJson) : base("Seq2Seq")
    {
        using var doc = JsonDocument.Parse(graphJson);
        var g = doc.RootElement.Clone();
        if (g.GetProperty("kind").GetString() != "seq2seq" || g.GetProperty("bridge").GetString() != "final_state")
            throw new NotSupportedException("only seq2seq graphs with the final_state bridge");
        Encoder = new Side("encoder", g.GetProperty("encoder"));
        Decoder = new Side("decoder", g.GetProperty("decoder"));
        register_module("encoder", Encoder);
        register_module("decoder", Decoder);
    }

    public bool HasAttention => Decoder.Layers.Any(l => l.Type == "Attention");

    private static (Tensor Out, Tensor H, Tensor? C) RunPacked(nn.Module rnn, Tensor x, Tensor lengths, long total, Tensor? h0, Tensor? c0)
    {
        var packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first: true, enforce_sorted: false);
        if (rnn is GRU gru)
        {
            var (o, h) = gru.call(packed, h0);
            return (nn.utils.rnn.pad_packed_sequence(o, batch_first: true, total_length: total).Item1, h, null);
        }
        var lstm = (LSTM)rnn;
        var (ol, hl, cl) = lstm.call(packed, h0 is null ? null : (h0, c0!));
        return (nn.utils.rnn.pad_packed_sequence(ol, batch_first: true, total_length: total).Item1, hl, cl);
    }

    public (Tensor Memory, Tensor H, Tensor? C) Encode(Batch b)
    {
        Tensor x = b.Src;
        Tensor? h = null, c = null;
        foreach (var (type, _, m) in Encoder.Layers)
        {
            switch (type)
            {
                case "Embedding": x = ((Embedding)m!).forward(x); break;
                case "GRU" or "LSTM": (x, h, c) = RunPacked(m!, x, b.SrcLengths, b.Ts, null, null); break;
                default: throw new NotSupportedException($"encoder module {type}");
            }
        }
        if (h is null) throw new InvalidDataException("the encoder has no recurrent module");
        return (x, h, c);
    }

    /// <summary>Mask [B, 1, Ts]: true at source positions s >= src_lengths[b].</summary>
    public static Tensor SourceMask(Batch b) =>
        torch.arange(b.Ts, dtype: ScalarType.Int64).unsqueeze(0).ge(b.SrcLengths.unsqueeze(1)).unsqueeze(1);

    /// <summary>Decoder from the encoder's memory and final state: logits [B, Tt, V] and, with attention, its weights [B, Tt, Ts].</summary>
    public (Tensor Y, Tensor? Weights) Decode(Batch b, Tensor memory, Tensor h, Tensor? c)
    {
        var mask = SourceMask(b);
        Tensor x = b.TgtIn;
        Tensor? weights = null;
        var layers = Decoder.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            var (type, spec, m) = layers[i];
            switch (type)
            {
                case "Embedding": x = ((Embedding)m!).forward(x); break;
                case "GRU" or "LSTM":
                    (x, h, c) = RunPacked(m!, x, b.TgtLengths, b.Tt, h, c);
                    break;
                case "Attention" when i + 1 < layers.Count && layers[i + 1].Type is "GRU" or "LSTM":
                {
                    // Bahdanau position: query = the top layer's hidden state before step t; the rnn steps on
                    // cat(input_t, context_t); every step for every row (no packing).
                    var attn = (Attention)m!;
                    var rnn = layers[i + 1].Module!;
                    var outs = new List<Tensor>();
                    var ws = new List<Tensor>();
                    for (long t = 0; t < b.Tt; t++)
                    {
                        var q = h[-1].unsqueeze(1);                                 // [B, 1, Q]
                        var (ctx, w) = attn.Forward(q, memory, mask);               // [B, 1, K], [B, 1, Ts]
                        var inp = torch.cat(new[] { x.narrow(1, t, 1), ctx }, 2);
                        Tensor o;
                        if (rnn is GRU gru) (o, h) = gru.call(inp, h);
                        else (o, h, c) = ((LSTM)rnn).call(inp, (h, c!));
                        outs.Add(o);
                        ws.Add(w);
                    }
                    x = torch.cat(outs, 1);
                    weights = torch.cat(ws, 1);
                    i++;
                    break;
                }
                case "Attention":
                {
                    // Luong position: query = the module's input (the rnn output at every step).
                    var (ctx, w) = ((Attention)m!).Forward(x, memory, mask);
                    x = torch.cat(new[] { x, ctx }, 2);
                    weights = w;
                    break;
                }
                case "Linear": x = ((Linear)m!).forward(x); break;
                case "Tanh": x = torch.tanh(x); break;
                case "ReLU": x = torch.nn.functional.relu(x); break;
                case "Sigmoid": x = torch.sigmoid(x); break;
                default: throw new NotSupportedException($"decoder module {type}");
            }
        }
        return (x, weights);
    }

    public (Tensor Y, Tensor? Weights) Forward(Batch b)
    {
        var (mem, h, c) = Encode(b);
        return Decode(b, mem, h, c);
    }
}
