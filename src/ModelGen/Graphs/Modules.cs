using System.Collections.Immutable;
using System.Globalization;

namespace ModelGen;

/// <summary>
/// One module of a generated graph model, as its partial property returns it: its name, its PyTorch
/// <c>repr</c> (<see cref="ToString"/>) and, for modules with parameters, read-only views of its tensors.
/// </summary>
/// <remarks>Thread safety: a view reads the model's buffers; it is as thread-safe as the model.</remarks>
public abstract class GraphModule
{
    private protected GraphModule(string name) => Name = name;

    /// <summary>The module's name, the prefix of its <c>state_dict</c> keys (<c>fc</c> in <c>fc.weight</c>).</summary>
    public string Name { get; }

    /// <summary>What PyTorch's <c>repr</c> prints for the module, e.g. <c>Linear(in_features=128, out_features=12, bias=True)</c>.</summary>
    public abstract override string ToString();

    private protected static string Lit(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A float as Python's <c>repr</c> writes it: the shortest round-trip digits, <c>1e-05</c> rather than <c>1E-05</c>.</summary>
    private protected static string Lit(double value) => value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    /// <summary>A float32 as Python prints the value PyTorch stores (its shortest round-trip digits, <c>0.1</c> for 0.1f).</summary>
    private protected static string Lit(float value) => value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    private protected static string Lit(bool value) => value ? "True" : "False";
}

/// <summary>A module with parameters: its tensors are slices of the model's one parameter buffer.</summary>
public abstract class ParameterModule : GraphModule
{
    private readonly ModelBuffers _buffers;

    private protected ParameterModule(ModelBuffers buffers, string name) : base(name)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        _buffers = buffers;
        string prefix = name + ".";
        ParameterTable = buffers.ParameterTable.Where(info => info.Name.StartsWith(prefix, StringComparison.Ordinal)).ToImmutableArray();
    }

    /// <summary>The module's entries of the model's parameter table, with their full names.</summary>
    public ImmutableArray<ParameterInfo> ParameterTable { get; }

    /// <summary>The values of the tensor <c>Name.<paramref name="localName"/></c>, e.g. <c>weight_ih_l0</c>.</summary>
    public ReadOnlySpan<float> Parameter(string localName) => Slice(_buffers.Parameters, localName);

    /// <summary>The gradient of the tensor <c>Name.<paramref name="localName"/></c>.</summary>
    public ReadOnlySpan<float> Gradient(string localName) => Slice(_buffers.Gradients, localName);

    private ReadOnlySpan<float> Slice(ReadOnlySpan<float> buffer, string localName)
    {
        string name = Name + "." + localName;
        foreach (ParameterInfo info in ParameterTable)
        {
            if (info.Name == name) return buffer.Slice(info.Offset, info.Length);
        }
        throw new KeyNotFoundException($"The module '{Name}' has no parameter '{localName}'; it has {string.Join(", ", ParameterTable.Select(info => info.Name[(Name.Length + 1)..]))}.");
    }
}

/// <summary><c>nn.Embedding(num_embeddings, embedding_dim, padding_idx)</c>.</summary>
public sealed class Embedding(ModelBuffers buffers, string name, int numEmbeddings, int embeddingDim, int paddingIdx)
    : ParameterModule(buffers, name)
{
    /// <summary><c>num_embeddings</c>.</summary>
    public int NumEmbeddings { get; } = numEmbeddings;

    /// <summary><c>embedding_dim</c>.</summary>
    public int EmbeddingDim { get; } = embeddingDim;

    /// <summary><c>padding_idx</c> (non-negative), or -1 for none.</summary>
    public int PaddingIdx { get; } = paddingIdx;

    /// <summary><c>weight</c> <c>[NumEmbeddings, EmbeddingDim]</c>.</summary>
    public ReadOnlySpan<float> Weight => Parameter("weight");

    /// <inheritdoc/>
    public override string ToString() =>
        $"Embedding({Lit(NumEmbeddings)}, {Lit(EmbeddingDim)}{(PaddingIdx >= 0 ? ", padding_idx=" + Lit(PaddingIdx) : "")})";
}

/// <summary><c>nn.Linear(in_features, out_features, bias)</c>.</summary>
public sealed class Linear(ModelBuffers buffers, string name, int inFeatures, int outFeatures, bool bias)
    : ParameterModule(buffers, name)
{
    /// <summary><c>in_features</c>.</summary>
    public int InFeatures { get; } = inFeatures;

    /// <summary><c>out_features</c>.</summary>
    public int OutFeatures { get; } = outFeatures;

    /// <summary>Whether the module has a bias.</summary>
    public bool HasBias { get; } = bias;

    /// <summary><c>weight</c> <c>[OutFeatures, InFeatures]</c>.</summary>
    public ReadOnlySpan<float> Weight => Parameter("weight");

    /// <summary><c>bias</c> <c>[OutFeatures]</c>, empty without one.</summary>
    public ReadOnlySpan<float> Bias => HasBias ? Parameter("bias") : default;

    /// <inheritdoc/>
    public override string ToString() => $"Linear(in_features={Lit(InFeatures)}, out_features={Lit(OutFeatures)}, bias={Lit(HasBias)})";
}

/// <summary><c>nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)</c>.</summary>
public sealed class LayerNorm(ModelBuffers buffers, string name, int normalizedShape, double eps, bool elementwiseAffine, bool bias)
    : ParameterModule(buffers, name)
{
    /// <summary><c>normalized_shape</c>.</summary>
    public int NormalizedShape { get; } = normalizedShape;

    /// <summary><c>eps</c>.</summary>
    public double Eps { get; } = eps;

    /// <summary><c>elementwise_affine</c>.</summary>
    public bool ElementwiseAffine { get; } = elementwiseAffine;

    /// <summary>Whether an affine module has a bias.</summary>
    public bool HasBias { get; } = elementwiseAffine && bias;

    /// <inheritdoc/>
    public override string ToString() =>
        $"LayerNorm(({Lit(NormalizedShape)},), eps={Lit(Eps)}, elementwise_affine={Lit(ElementwiseAffine)})";
}

/// <summary><c>nn.LSTM</c>, <c>nn.GRU</c> or <c>nn.RNN</c> with <c>batch_first=True</c>.</summary>
public abstract class RecurrentModule : ParameterModule
{
    private protected RecurrentModule(ModelBuffers buffers, string name, int inputSize, int hiddenSize, int numLayers, bool bias,
        bool bidirectional, float dropout) : base(buffers, name)
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        HasBias = bias;
        Bidirectional = bidirectional;
        Dropout = dropout;
    }

    /// <summary><c>input_size</c>.</summary>
    public int InputSize { get; }

    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; }

    /// <summary><c>num_layers</c>.</summary>
    public int NumLayers { get; }

    /// <summary><c>bias</c>.</summary>
    public bool HasBias { get; }

    /// <summary><c>bidirectional</c>.</summary>
    public bool Bidirectional { get; }

    /// <summary><c>dropout</c>.</summary>
    public float Dropout { get; }

    private protected string Arguments(string extra) =>
        Lit(InputSize) + ", " + Lit(HiddenSize)
        + (NumLayers != 1 ? ", num_layers=" + Lit(NumLayers) : "")
        + extra
        + (HasBias ? "" : ", bias=False")
        + ", batch_first=True"
        + (Dropout != 0 ? ", dropout=" + Lit(Dropout) : "")
        + (Bidirectional ? ", bidirectional=True" : "");
}

/// <summary><c>nn.LSTM(..., batch_first=True)</c>.</summary>
public sealed class Lstm(ModelBuffers buffers, string name, int inputSize, int hiddenSize, int numLayers, bool bias, bool bidirectional,
    float dropout, int projSize) : RecurrentModule(buffers, name, inputSize, hiddenSize, numLayers, bias, bidirectional, dropout)
{
    /// <summary><c>proj_size</c>; 0 for none.</summary>
    public int ProjSize { get; } = projSize;

    /// <inheritdoc/>
    public override string ToString() => "LSTM(" + Arguments(ProjSize > 0 ? ", proj_size=" + Lit(ProjSize) : "") + ")";
}

/// <summary><c>nn.GRU(..., batch_first=True)</c>.</summary>
public sealed class Gru(ModelBuffers buffers, string name, int inputSize, int hiddenSize, int numLayers, bool bias, bool bidirectional,
    float dropout) : RecurrentModule(buffers, name, inputSize, hiddenSize, numLayers, bias, bidirectional, dropout)
{
    /// <inheritdoc/>
    public override string ToString() => "GRU(" + Arguments("") + ")";
}

/// <summary><c>nn.RNN(..., batch_first=True)</c>.</summary>
public sealed class Rnn(ModelBuffers buffers, string name, int inputSize, int hiddenSize, int numLayers, bool bias, bool bidirectional,
    float dropout, RnnNonlinearity nonlinearity) : RecurrentModule(buffers, name, inputSize, hiddenSize, numLayers, bias, bidirectional, dropout)
{
    /// <summary><c>nonlinearity</c>.</summary>
    public RnnNonlinearity Nonlinearity { get; } = nonlinearity;

    /// <inheritdoc/>
    public override string ToString() => "RNN(" + Arguments(Nonlinearity == RnnNonlinearity.Relu ? ", nonlinearity='relu'" : "") + ")";
}

/// <summary><c>nn.Dropout(p)</c>.</summary>
public sealed class Dropout(string name, float p) : GraphModule(name)
{
    /// <summary><c>p</c>.</summary>
    public float P { get; } = p;

    /// <inheritdoc/>
    public override string ToString() => $"Dropout(p={Lit(P)}, inplace=False)";
}

/// <summary>An activation module: <c>nn.ReLU()</c>, <c>nn.Tanh()</c>, <c>nn.Sigmoid()</c> or <c>nn.GELU()</c>.</summary>
public sealed class Activation(string name, string pytorchName) : GraphModule(name)
{
    /// <summary>PyTorch's class name: <c>ReLU</c>, <c>Tanh</c>, <c>Sigmoid</c> or <c>GELU</c>.</summary>
    public string Kind { get; } = pytorchName;

    /// <inheritdoc/>
    public override string ToString() => Kind == "GELU" ? "GELU(approximate='none')" : Kind + "()";
}

/// <summary>A reduction over time (<see cref="ReduceAttribute"/>); PyTorch writes it inline in <c>forward</c>.</summary>
public sealed class Reduction(string name, ReduceMode mode) : GraphModule(name)
{
    /// <summary>How the steps are reduced.</summary>
    public ReduceMode Mode { get; } = mode;

    /// <inheritdoc/>
    public override string ToString() => Mode switch
    {
        ReduceMode.Last => "x[arange(B), lengths - 1]",
        ReduceMode.FinalHidden => "cat([h_n[-D + d] for d in range(D)], dim=1)",
        ReduceMode.Mean => "x.sum(1) / lengths[:, None]",
        _ => "x.masked_fill(t >= lengths, -inf).max(1).values",
    };
}

/// <summary>
/// Attention over an encoder's outputs (<see cref="AttentionAttribute"/>): scores, softmax over the source steps
/// and the context appended to the module's input. PyTorch has no such class; it prints as the tutorial's modules do.
/// </summary>
public sealed class Attention(ModelBuffers buffers, string name, AttentionScore score, int querySize, int keySize, int attentionSize)
    : ParameterModule(buffers, name)
{
    /// <summary>How a query is scored against a source step.</summary>
    public AttentionScore Score { get; } = score;

    /// <summary>Q: features of the query.</summary>
    public int QuerySize { get; } = querySize;

    /// <summary>K: features per source step of the memory.</summary>
    public int KeySize { get; } = keySize;

    /// <summary>A: the additive score's hidden size (0 for the others).</summary>
    public int AttentionSize { get; } = attentionSize;

    /// <inheritdoc/>
    public override string ToString() => Score switch
    {
        AttentionScore.Dot => "DotAttention()",
        AttentionScore.General => $"GeneralAttention(\n    (Wa): Linear(in_features={Lit(KeySize)}, out_features={Lit(QuerySize)}, bias=False)\n  )",
        _ => $"BahdanauAttention(\n    (Wa): Linear(in_features={Lit(QuerySize)}, out_features={Lit(AttentionSize)}, bias=True)\n"
            + $"    (Ua): Linear(in_features={Lit(KeySize)}, out_features={Lit(AttentionSize)}, bias=True)\n"
            + $"    (Va): Linear(in_features={Lit(AttentionSize)}, out_features=1, bias=True)\n  )",
    };
}
