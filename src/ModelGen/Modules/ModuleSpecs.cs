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
