namespace ModelGen;

/// <summary>
/// Generates a sequence model on the partial class it marks, from the modules the class declares as partial
/// properties, each with a module attribute (<see cref="EmbeddingAttribute"/>, <see cref="LstmAttribute"/>,
/// <see cref="LinearAttribute"/>, …). The forward pass applies the modules in declaration order, like the
/// <c>forward</c> of a PyTorch module that calls its attributes one after the other; each module's
/// <c>state_dict</c> names start with its name (<see cref="ModuleAttribute.Name"/>).
/// </summary>
/// <example>
/// <code>
/// [SequenceModel]
/// public partial class TopicClassifier
/// {
///     [Embedding(NumEmbeddings = 96, EmbeddingDim = 32, PaddingIdx = 0)] public partial Embedding Embed { get; }
///     [Lstm(InputSize = 32, HiddenSize = 64, Bidirectional = true)] public partial Lstm Rnn { get; }
///     [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
///     [Linear(InFeatures = 128, OutFeatures = 12)] public partial Linear Fc { get; }
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SequenceModelAttribute : Attribute
{
}

/// <summary>The base of the module attributes of a <see cref="SequenceModelAttribute"/> graph.</summary>
public abstract class ModuleAttribute : Attribute
{
    /// <summary>
    /// The module's name in <c>state_dict</c> keys (<c>name.weight</c>). Default: the property's name in
    /// snake_case (<c>Embed</c> → <c>embed</c>, <c>OutputHead</c> → <c>output_head</c>); set it for layouts such
    /// as <c>nn.Sequential</c>'s <c>layers.0</c>.
    /// </summary>
    public string? Name { get; set; }
}

/// <summary>PyTorch's <c>nn.Embedding</c>: token ids <c>[B, T]</c> to vectors <c>[B, T, EmbeddingDim]</c>.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class EmbeddingAttribute : ModuleAttribute
{
    /// <summary><c>num_embeddings</c>: the vocabulary size. Required.</summary>
    public int NumEmbeddings { get; set; }

    /// <summary><c>embedding_dim</c>: features per token. Required.</summary>
    public int EmbeddingDim { get; set; }

    /// <summary>
    /// <c>padding_idx</c>: the token whose row is zero-initialised and gets no gradient; a negative value counts
    /// from the end, as in PyTorch. Unset: none.
    /// </summary>
    public int PaddingIdx { get; set; }
}

/// <summary>Options shared by <see cref="LstmAttribute"/>, <see cref="GruAttribute"/> and <see cref="RnnAttribute"/>: PyTorch's recurrent modules with <c>batch_first=True</c>.</summary>
public abstract class RecurrentModuleAttribute : ModuleAttribute
{
    /// <summary><c>input_size</c>: features per step of the module's input. Required.</summary>
    public int InputSize { get; set; }

    /// <summary><c>hidden_size</c>. Required.</summary>
    public int HiddenSize { get; set; }

    /// <summary><c>num_layers</c>.</summary>
    public int NumLayers { get; set; } = 1;

    /// <summary><c>bias</c>.</summary>
    public bool Bias { get; set; } = true;

    /// <summary><c>bidirectional</c>: the output has <c>2 · Hout</c> features per step.</summary>
    public bool Bidirectional { get; set; }

    /// <summary><c>dropout</c>: applied to the output of every layer but the last, in training forwards only.</summary>
    public float Dropout { get; set; }
}

/// <summary>PyTorch's <c>nn.LSTM</c> (gates i, f, g, o).</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class LstmAttribute : RecurrentModuleAttribute
{
    /// <summary><c>proj_size</c>: 0 for none, else below <see cref="RecurrentModuleAttribute.HiddenSize"/>.</summary>
    public int ProjSize { get; set; }
}

/// <summary>PyTorch's <c>nn.GRU</c> (gates r, z, n).</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class GruAttribute : RecurrentModuleAttribute
{
}

/// <summary>PyTorch's <c>nn.RNN</c> (Elman).</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class RnnAttribute : RecurrentModuleAttribute
{
    /// <summary><c>nonlinearity</c>: tanh (default) or ReLU.</summary>
    public RnnNonlinearity Nonlinearity { get; set; }
}

/// <summary>PyTorch's <c>nn.Linear</c> over the last dimension.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class LinearAttribute : ModuleAttribute
{
    /// <summary><c>in_features</c>: must equal the features flowing in. Required.</summary>
    public int InFeatures { get; set; }

    /// <summary><c>out_features</c>. Required.</summary>
    public int OutFeatures { get; set; }

    /// <summary><c>bias</c>.</summary>
    public bool Bias { get; set; } = true;
}

/// <summary>PyTorch's <c>nn.LayerNorm(normalized_shape)</c> over the last dimension.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class LayerNormAttribute : ModuleAttribute
{
    /// <summary><c>normalized_shape</c>: must equal the features flowing in. Required.</summary>
    public int NormalizedShape { get; set; }

    /// <summary><c>eps</c>.</summary>
    public double Eps { get; set; } = 1e-5;

    /// <summary><c>elementwise_affine</c>: a learnable weight (and bias).</summary>
    public bool ElementwiseAffine { get; set; } = true;

    /// <summary><c>bias</c>: whether an affine LayerNorm has a bias.</summary>
    public bool Bias { get; set; } = true;
}

/// <summary>PyTorch's <c>nn.Dropout(p)</c>: active in training forwards only.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class DropoutAttribute : ModuleAttribute
{
    /// <summary>A dropout of probability <paramref name="p"/>, in [0, 1).</summary>
    public DropoutAttribute(float p = 0.5f) => P = p;

    /// <summary><c>p</c>: the probability of zeroing an element.</summary>
    public float P { get; }
}

/// <summary>PyTorch's <c>nn.ReLU()</c>.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class ReLUAttribute : ModuleAttribute
{
}

/// <summary>PyTorch's <c>nn.Tanh()</c>.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class TanhAttribute : ModuleAttribute
{
}

/// <summary>PyTorch's <c>nn.Sigmoid()</c>.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class SigmoidAttribute : ModuleAttribute
{
}

/// <summary>PyTorch's <c>nn.GELU()</c>, exact (<c>approximate='none'</c>): <c>x · Φ(x)</c> with the erf.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class GELUAttribute : ModuleAttribute
{
}

/// <summary>A reduction over time after a recurrent module: <c>[B, T, F]</c> to <c>[B, F]</c>.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class ReduceAttribute : ModuleAttribute
{
    /// <summary>A reduction of the given kind.</summary>
    public ReduceAttribute(ReduceMode mode) => Mode = mode;

    /// <summary>How the steps are reduced.</summary>
    public ReduceMode Mode { get; }
}

/// <summary>How <see cref="ReduceAttribute"/> reduces the steps of each row (only the row's real steps, with lengths).</summary>
public enum ReduceMode
{
    /// <summary><c>x[arange(B), lengths − 1]</c>: the output at each row's last step.</summary>
    Last = 0,

    /// <summary>
    /// <c>cat([h_n[−D + d] for d in range(D)], 1)</c>: the top layer's final hidden state of the recurrent module
    /// before, both directions of a bidirectional one (the reverse direction's state at t = 0).
    /// </summary>
    FinalHidden = 1,

    /// <summary>The mean over each row's steps.</summary>
    Mean = 2,

    /// <summary>The maximum over each row's steps, per feature; the gradient goes to the maximum, as <c>torch.max</c>'s.</summary>
    Max = 3,
}

/// <summary>
/// Attention over an encoder's outputs (the memory <c>[B, Ts, KeySize]</c>) in the decoder of an encoder–decoder
/// model: scores of a query against every source step, masked past each source length, softmax, and the context
/// (the weighted sum of the memory) appended to what flows in: <c>[.., F]</c> to <c>[.., F + KeySize]</c>.
/// </summary>
/// <remarks>
/// <para>Where it stands says what the query is. After the recurrent module (Luong et al. 2015) the query is the
/// recurrent output of the same step; follow it with e.g. <c>[Linear]</c> and <c>[Tanh]</c> for Luong's attentional
/// hidden state <c>tanh(W_c [h_t; c_t])</c>. Between the Embedding and the recurrent module (Bahdanau et al. 2014,
/// PyTorch's tutorial <c>AttnDecoderRNN</c>) the query is the recurrent module's top-layer hidden state before the
/// step, and the context is fed with the embedding into the cell.</para>
/// <para>Parameters, PyTorch's names under the module's: Dot none; General <c>Wa.weight</c> <c>[Q, K]</c>
/// (<c>nn.Linear(K, Q, bias=False)</c>, score <c>q · Wa(k)</c>); Additive <c>Wa</c> = <c>nn.Linear(Q, A)</c>,
/// <c>Ua</c> = <c>nn.Linear(K, A)</c>, <c>Va</c> = <c>nn.Linear(A, 1)</c>, score <c>Va(tanh(Wa(q) + Ua(k)))</c>.</para>
/// </remarks>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class AttentionAttribute : ModuleAttribute
{
    /// <summary>Attention with the given score.</summary>
    public AttentionAttribute(AttentionScore score) => Score = score;

    /// <summary>How a query is scored against a source step.</summary>
    public AttentionScore Score { get; }

    /// <summary>K: features per source step of the memory (the encoder's output size). Required.</summary>
    public int KeySize { get; set; }

    /// <summary>A: the hidden size of the additive score (<see cref="AttentionScore.Additive"/> only). Required there.</summary>
    public int AttentionSize { get; set; }
}

/// <summary>
/// Generates an encoder–decoder model on the partial class it marks from two <see cref="SequenceModelAttribute"/>
/// graphs over token ids: the decoder's recurrent module starts from the encoder's final state (<c>h_n</c>, and
/// <c>c_n</c> for an LSTM), so both need one recurrent module of the same cell, layers and hidden size,
/// unidirectional. Parameters are one buffer named <c>encoder.*</c> then <c>decoder.*</c>, as a PyTorch
/// <c>Seq2Seq(nn.Module)</c> with attributes <c>encoder</c> and <c>decoder</c> names them.
/// </summary>
/// <example>
/// <code>
/// [Seq2SeqModel(typeof(SpellingEncoder), typeof(SpellingDecoder))]
/// public partial class Speller;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class Seq2SeqModelAttribute : Attribute
{
    /// <summary>An encoder–decoder model from an encoder graph and a decoder graph.</summary>
    public Seq2SeqModelAttribute(Type encoder, Type decoder)
    {
        Encoder = encoder;
        Decoder = decoder;
    }

    /// <summary>The encoder: a <c>[SequenceModel]</c> reading token ids, with one unidirectional recurrent module.</summary>
    public Type Encoder { get; }

    /// <summary>The decoder: a <c>[SequenceModel]</c> reading token ids, with one recurrent module like the encoder's, ending in the logits per step.</summary>
    public Type Decoder { get; }
}
