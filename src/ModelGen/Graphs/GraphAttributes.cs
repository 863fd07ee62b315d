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
