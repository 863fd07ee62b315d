using TorchSharp;
using static TorchSharp.torch;
using R = ReferenceOracle.Json.Raw;

namespace ReferenceOracle;

/// <summary>A seq2seq case with attention: its graph, sizes, lengths and seed.</summary>
public sealed record Case(string FileName, string Graph, string Description, long Seed, int[] SrcLengths, int[] TgtLengths,
    int Ts, int Tt, int SrcVocab, int TgtVocab);

public static class Cases
{
    public const string TorchVersion = "2.10.0 (libtorch via TorchSharp 0.107.0)";

    private static R Embedding(int n, int d) =>
        new(Json.Obj(("name", "embed"), ("type", "Embedding"), ("num_embeddings", n), ("embedding_dim", d), ("padding_idx", 0)));

    private static R Rnn(string type, int i, int h, int layers)
    {
        var items = new List<(string, object)> { ("name", "rnn"), ("type", type), ("input_size", i), ("hidden_size", h),
            ("num_layers", layers), ("bias", true), ("bidirectional", false) };
        if (type == "LSTM") items.Add(("proj_size", 0));
        return new(Json.Obj(items.ToArray()));
    }

    private static R Linear(string name, int i, int o) =>
        new(Json.Obj(("name", name), ("type", "Linear"), ("in_features", i), ("out_features", o), ("bias", true)));

    private static R Attention(string score, int input, int q, int k, int a = 0)
    {
        var items = new List<(string, object)> { ("name", "attn"), ("type", "Attention"), ("score", score), ("input_size", input),
            ("query_size", q), ("key_size", k) };
        if (score == "additive") items.Add(("attention_size", a));
        return new(Json.Obj(items.ToArray()));
    }

    private static readonly R Tanh = new(Json.Obj(("type", "Tanh")));

    private static R SideJson(params R[] modules) =>
        new(Json.Obj(("input", new R(Json.Obj(("kind", "tokens")))), ("lengths", true), ("modules", new R(Json.Arr(modules.Select(m => m.Text))))));

    private static string Graph(R encoder, R decoder) =>
        Json.Obj(("kind", "seq2seq"), ("encoder", encoder), ("decoder", decoder), ("bridge", "final_state"));

    public static readonly Case[] All =
    [
        new("g_seq2seq_gru_dot.safetensors",
            Graph(SideJson(Embedding(15, 8), Rnn("GRU", 8, 10, 1)),
                  SideJson(Embedding(12, 8), Rnn("GRU", 8, 10, 1), Attention("dot", 10, 10, 10), Linear("combine", 20, 10), Tanh, Linear("fc", 10, 12))),
            "encoder Embedding(15,8,0) -> GRU(8,10); decoder Embedding(12,8,0) -> GRU(8,10) from the encoder's h_n -> Attention(dot) over the encoder's output after the rnn (Luong) -> Linear combine(20,10) -> Tanh -> Linear fc(10,12)",
            9101, [6, 3, 1, 4], [2, 5, 4, 1], 6, 5, 15, 12),
        new("g_seq2seq_lstm2_general.safetensors",
            Graph(SideJson(Embedding(20, 8), Rnn("LSTM", 8, 12, 2)),
                  SideJson(Embedding(18, 8), Rnn("LSTM", 8, 12, 2), Attention("general", 12, 12, 12), Linear("combine", 24, 12), Tanh, Linear("fc", 12, 18))),
            "encoder Embedding(20,8,0) -> LSTM(8,12,2 layers); decoder Embedding(18,8,0) -> LSTM(8,12,2 layers) from the encoder's (h_n, c_n) -> Attention(general, Wa [12,12]) after the rnn (Luong) -> Linear combine(24,12) -> Tanh -> Linear fc(12,18)",
            9102, [7, 2, 5], [4, 6, 1], 7, 6, 20, 18),
        new("g_seq2seq_gru_additive.safetensors",
            Graph(SideJson(Embedding(15, 8), Rnn("GRU", 8, 10, 1)),
                  SideJson(Embedding(12, 8), Rnn("GRU", 8, 10, 1), Attention("additive", 10, 10, 10, 9), Linear("combine", 20, 10), Tanh, Linear("fc", 10, 12))),
            "encoder Embedding(15,8,0) -> GRU(8,10); decoder Embedding(12,8,0) -> GRU(8,10) from the encoder's h_n -> Attention(additive, A=9) after the rnn (Luong) -> Linear combine(20,10) -> Tanh -> Linear fc(10,12)",
            9103, [5, 2, 4, 1], [6, 3, 1, 5], 5, 6, 15, 12),
        new("g_seq2seq_gru_bahdanau.safetensors",
            Graph(SideJson(Embedding(15, 8), Rnn("GRU", 8, 10, 1)),
                  SideJson(Embedding(12, 8), Attention("additive", 8, 10, 10, 10), Rnn("GRU", 18, 10, 1), Linear("fc", 10, 12))),
            "encoder Embedding(15,8,0) -> GRU(8,10); decoder Embedding(12,8,0) -> Attention(additive, A=10) before the rnn (Bahdanau: query = the GRU state before each step, starting from the encoder's h_n) -> GRU(18,10) on cat(embedding, context), all Tt steps for every row (no packing) -> Linear fc(10,12)",
            9104, [6, 4, 1, 3], [5, 2, 4, 1], 6, 5, 15, 12),
    ];

    /// <summary>Seeded default-initialised parameters, tokens, dy; then every expected tensor; written to path.</summary>
    public static void Make(Case c, string path)
    {
        int bsz = c.SrcLengths.Length;
        if (c.TgtLengths.Length != bsz || c.SrcLengths.Max() != c.Ts || c.TgtLengths.Max() != c.Tt) throw new ArgumentException(c.FileName);
        torch.manual_seed(c.Seed);
        var model = new Seq2Seq(c.Graph);   // default PyTorch initialisation, in module order
        var f = new Dictionary<string, Blob>(StringComparer.Ordinal);
        foreach (var (name, p) in model.named_parameters()) f[name] = Oracle.ToBlob(p);

        // Tokens: ids 0 pad, 1 BOS, 2 EOS, content from 3. The source ends with EOS; tgt_in = BOS + content,
        // tgt_out = content + EOS, -100 past each target length.
        var srcRand = torch.randint(3, c.SrcVocab, [bsz, c.Ts], dtype: ScalarType.Int32).data<int>().ToArray();
        var tgtRand = torch.randint(3, c.TgtVocab, [bsz, c.Tt], dtype: ScalarType.Int32).data<int>().ToArray();
        var dyRand = torch.randn([bsz, c.Tt, c.TgtVocab], dtype: ScalarType.Float32).data<float>().ToArray();
        var src = new int[bsz * c.Ts];
        var tin = new int[bsz * c.Tt];
        var tout = new int[bsz * c.Tt];
        for (int b = 0; b < bsz; b++)
        {
            int ls = c.SrcLengths[b], lt = c.TgtLengths[b];
            for (int s = 0; s < c.Ts; s++) src[b * c.Ts + s] = s < ls - 1 ? srcRand[b * c.Ts + s] : s == ls - 1 ? 2 : 0;
            for (int t = 0; t < c.Tt; t++)
            {
                tin[b * c.Tt + t] = t == 0 ? 1 : t < lt ? tgtRand[b * c.Tt + t - 1] : 0;
                tout[b * c.Tt + t] = t < lt - 1 ? tgtRand[b * c.Tt + t] : t == lt - 1 ? 2 : -100;
            }
            for (int t = lt; t < c.Tt; t++) Array.Clear(dyRand, (b * c.Tt + t) * c.TgtVocab, c.TgtVocab);
        }
        f["src_tokens"] = Blob.Int(src, [bsz, c.Ts]);
        f["src_lengths"] = Blob.Int(c.SrcLengths, [bsz]);
        f["tgt_in"] = Blob.Int(tin, [bsz, c.Tt]);
        f["tgt_lengths"] = Blob.Int(c.TgtLengths, [bsz]);
        f["tgt_out"] = Blob.Int(tout, [bsz, c.Tt]);
        f["target"] = Blob.Int((int[])tout.Clone(), [bsz, c.Tt]);
        f["dy"] = Blob.Float(dyRand, [bsz, c.Tt, c.TgtVocab]);

        var problems = new List<string>();
        foreach (var (name, blob) in Oracle.Compute(c.Graph, f, problems)) f[name] = blob;
        if (problems.Count > 0) throw new InvalidOperationException(string.Join("; ", problems));

        string notes = $"seq2seq with attention: {c.Description}; attention weights in 'attention' [B,Tt,Ts], source positions past src_lengths masked to -inf; teacher forcing; ids 0 pad, 1 BOS, 2 EOS; seed {c.Seed} (TorchSharp generator), default PyTorch init; y from zero state; grad: sum(y*dy); ce: mean cross-entropy, ignore_index -100; adam3: Adam(lr=0.01, betas 0.9/0.999, eps 1e-8) x3 on ce; oracle: tools/ReferenceOracle";
        Safetensors.Write(path, f,
        [
            new("format", "modelgen-graph-1"), new("graph", c.Graph), new("batch", bsz.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("src_len", c.Ts.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("tgt_len", c.Tt.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("notes", notes), new("torch_version", TorchVersion),
        ]);
    }
}
