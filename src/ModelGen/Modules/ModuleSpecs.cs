namespace ModelGen;

/// <summary>
/// The compile-time sizes of one <c>nn.Embedding</c> in a graph. The generator emits one struct per module; the
/// kernels read its static members, which become constants when the JIT or NativeAOT specialises them.
/// </summary>
public interface IEmbeddingSpec
{
    /// <summary><c>num_embeddings</c>: the vocabulary size.</summary>
    static abstract int NumEmbeddings { get; }

    /// <summary><c>embedding_dim</c>: features per token.</summary>
    static abstract int EmbeddingDim { get; }

    /// <summary><c>padding_idx</c>, or -1 for none: the row that gets no gradient.</summary>
    static abstract int PaddingIdx { get; }
}

/// <summary>The compile-time sizes of one <c>nn.Linear</c> in a graph; see <see cref="IEmbeddingSpec"/>.</summary>
public interface ILinearSpec
{
    /// <summary><c>in_features</c>.</summary>
    static abstract int InFeatures { get; }

    /// <summary><c>out_features</c>.</summary>
    static abstract int OutFeatures { get; }

    /// <summary><c>bias</c>: whether the module has a bias vector.</summary>
    static abstract bool Bias { get; }
}

/// <summary>The compile-time sizes of one <c>nn.LayerNorm</c> over the last dimension; see <see cref="IEmbeddingSpec"/>.</summary>
public interface ILayerNormSpec
{
    /// <summary><c>normalized_shape</c>: the features normalised together.</summary>
    static abstract int NormalizedShape { get; }

    /// <summary><c>eps</c>, added to the variance.</summary>
    static abstract float Eps { get; }

    /// <summary><c>elementwise_affine</c>: whether the module has a weight (and, with <see cref="Bias"/>, a bias).</summary>
    static abstract bool ElementwiseAffine { get; }

    /// <summary><c>bias</c>: whether an affine LayerNorm also has a bias vector.</summary>
    static abstract bool Bias { get; }
}

/// <summary>How an attention module scores a query q <c>[Q]</c> against one memory step k <c>[K]</c>.</summary>
public enum AttentionScore
{
    /// <summary>Luong's dot score, <c>q · k</c>; needs Q = K and has no parameters.</summary>
    Dot,

    /// <summary>
    /// Luong's general score, <c>q · (Wa k)</c>, with <c>Wa</c> an <c>nn.Linear(K, Q, bias=False)</c> (weight <c>[Q, K]</c>).
    /// </summary>
    General,

    /// <summary>
    /// Bahdanau's additive score as in PyTorch's seq2seq tutorial, <c>Va(tanh(Wa(q) + Ua(k)))</c>, with
    /// <c>Wa = nn.Linear(Q, A)</c>, <c>Ua = nn.Linear(K, A)</c> and <c>Va = nn.Linear(A, 1)</c>, all with bias.
    /// </summary>
    Additive,
}

/// <summary>
/// The compile-time sizes of one attention module: each row's query attends over its sequence's memory
/// (<c>[Ts, K]</c>, e.g. an encoder's outputs), and the row's input is passed through with the context
/// appended (<c>[In + K]</c>); see <see cref="IEmbeddingSpec"/>.
/// </summary>
public interface IAttentionSpec
{
    /// <summary>In: features per row of the module's input, passed through in front of the context.</summary>
    static abstract int InputSize { get; }

    /// <summary>Q: features per query row.</summary>
    static abstract int QuerySize { get; }

    /// <summary>K: features per memory step (and of the context).</summary>
    static abstract int KeySize { get; }

    /// <summary>A: the additive score's hidden size; 0 for <see cref="AttentionScore.Dot"/> and <see cref="AttentionScore.General"/>.</summary>
    static abstract int AttentionSize { get; }

    /// <summary>The score function.</summary>
    static abstract AttentionScore Score { get; }
}
