namespace ModelGen.Generator;

/// <summary>The module kinds of a graph, one per module attribute.</summary>
internal enum ModuleKind
{
    Embedding,
    Lstm,
    Gru,
    Rnn,
    Linear,
    LayerNorm,
    Dropout,
    ReLU,
    Tanh,
    Sigmoid,
    GELU,
    Reduce,
    Attention,
}

/// <summary>How a Reduce module reduces over time; the values of the runtime's <c>ReduceMode</c>.</summary>
internal enum ReduceMode
{
    Last = 0,
    FinalHidden = 1,
    Mean = 2,
    Max = 3,
}

/// <summary>
/// One module of a graph: the property that declares it, its <c>state_dict</c> name and the PyTorch constructor
/// arguments. Equatable by value (no Roslyn objects), so the incremental pipeline can compare specs.
/// </summary>
/// <param name="Property">The partial property's name, as an identifier.</param>
/// <param name="Accessibility">The property's accessibility keywords, e.g. <c>public</c>.</param>
/// <param name="Name">The <c>state_dict</c> prefix, e.g. <c>embed</c> or <c>layers.0</c>.</param>
internal abstract record ModuleSpec(ModuleKind Kind, string Property, string Accessibility, string Name);

/// <summary><c>nn.Embedding(num_embeddings, embedding_dim, padding_idx)</c>; <paramref name="PaddingIdx"/> -1 for none, else normalised to [0, N).</summary>
internal sealed record EmbeddingModule(string Property, string Accessibility, string Name, int NumEmbeddings, int EmbeddingDim, int PaddingIdx)
    : ModuleSpec(ModuleKind.Embedding, Property, Accessibility, Name);

/// <summary><c>nn.LSTM</c> / <c>nn.GRU</c> / <c>nn.RNN</c> with <c>batch_first=True</c>.</summary>
internal sealed record RecurrentModule(ModuleKind Kind, string Property, string Accessibility, string Name, int InputSize, int HiddenSize,
    int NumLayers, bool Bias, bool Bidirectional, float Dropout, int ProjSize, bool Relu)
    : ModuleSpec(Kind, Property, Accessibility, Name)
{
    public CellKind Cell => Kind switch { ModuleKind.Lstm => CellKind.Lstm, ModuleKind.Gru => CellKind.Gru, _ => CellKind.Rnn };

    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Hout: the projection size, or H.</summary>
    public int StateSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>D · Hout: features per step of the output.</summary>
    public int OutputFeatures => Directions * StateSize;

    /// <summary>L · D: rows of h_n.</summary>
    public int StateLayers => NumLayers * Directions;

    /// <summary>The tensors of the module, named and laid out as PyTorch's, offsets from the module's first float.</summary>
    public ModelGeometry Geometry() =>
        new(Cell, InputSize, HiddenSize, NumLayers, Bias, Bidirectional, ProjSize, outputSize: 0);
}

/// <summary><c>nn.Linear(in_features, out_features, bias)</c>.</summary>
internal sealed record LinearModule(string Property, string Accessibility, string Name, int InFeatures, int OutFeatures, bool Bias)
    : ModuleSpec(ModuleKind.Linear, Property, Accessibility, Name);

/// <summary><c>nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)</c>.</summary>
internal sealed record LayerNormModule(string Property, string Accessibility, string Name, int NormalizedShape, double Eps, bool Affine, bool Bias)
    : ModuleSpec(ModuleKind.LayerNorm, Property, Accessibility, Name);

/// <summary><c>nn.Dropout(p)</c>.</summary>
internal sealed record DropoutModule(string Property, string Accessibility, string Name, float P)
    : ModuleSpec(ModuleKind.Dropout, Property, Accessibility, Name);

/// <summary>An activation: <c>nn.ReLU()</c>, <c>nn.Tanh()</c>, <c>nn.Sigmoid()</c> or <c>nn.GELU()</c>.</summary>
internal sealed record ActivationModule(ModuleKind Kind, string Property, string Accessibility, string Name)
    : ModuleSpec(Kind, Property, Accessibility, Name);

/// <summary>A reduction over time.</summary>
internal sealed record ReduceModule(string Property, string Accessibility, string Name, ReduceMode Mode)
    : ModuleSpec(ModuleKind.Reduce, Property, Accessibility, Name);

/// <summary>How an attention module scores a query against a source step; the values of the runtime's <c>AttentionScore</c>.</summary>
internal enum AttentionScore
{
    Dot = 0,
    General = 1,
    Additive = 2,
}

/// <summary>
/// Attention over an encoder's outputs <c>[B, Ts, KeySize]</c>: appends the context to what flows in. Its query
/// size follows from its place (see <see cref="ShapeFlow"/>); <paramref name="AttentionSize"/> is 0 unless additive.
/// </summary>
internal sealed record AttentionModule(string Property, string Accessibility, string Name, AttentionScore Score, int KeySize, int AttentionSize)
    : ModuleSpec(ModuleKind.Attention, Property, Accessibility, Name);

/// <summary>Where a generated part goes: the type's namespace, containing types, keyword and names.</summary>
/// <param name="MetadataName">The type's full metadata name, unique in the compilation (see <see cref="ModelSpec"/>).</param>
internal sealed record TypeTarget(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string TypeKeyword,
    string TypeName,
    string MetadataName)
{
    /// <summary><c>Namespace.Outer.Type</c>, the model's full name without <c>global::</c>.</summary>
    public string FullName =>
        string.Join(".", new[] { Namespace }.Concat(ContainingTypes.Select(t => t.Name)).Append(TypeName)
            .Where(part => !string.IsNullOrEmpty(part)));
}

/// <summary>
/// Everything the emitter needs to know about one <c>[SequenceModel]</c> declaration: where the type lives and its
/// modules in forward order. Built only from declarations without errors, so <see cref="ShapeFlow"/> holds.
/// </summary>
/// <param name="SharesBuffers">
/// Whether the type declares no constructor of its own, so the generated part declares two: a model with its own
/// buffers, and a model that is part of a larger one (an encoder–decoder's encoder or decoder) over its buffers.
/// </param>
internal sealed record GraphSpec(TypeTarget Target, EquatableArray<ModuleSpec> Modules, bool SharesBuffers = true)
{
    public string? Namespace => Target.Namespace;
    public EquatableArray<ContainingType> ContainingTypes => Target.ContainingTypes;
    public string TypeKeyword => Target.TypeKeyword;
    public string TypeName => Target.TypeName;
    public string MetadataName => Target.MetadataName;
    public string FullName => Target.FullName;

    /// <summary>Whether the graph reads token ids (its first module is an Embedding) rather than feature vectors.</summary>
    public bool TokenInput => Modules[0].Kind == ModuleKind.Embedding;
}

/// <summary>A partial module property to implement with a stub: as declared, without <c>partial</c>.</summary>
/// <param name="Accessors">Each accessor keyword with its modifiers, e.g. <c>get</c>, <c>private set</c>.</param>
internal sealed record StubProperty(string Modifiers, string Type, string Name, EquatableArray<string> Accessors);

/// <summary>The stubs of an invalid graph's module properties: they throw, and the graph's MG errors say why.</summary>
internal sealed record GraphStubs(TypeTarget Target, EquatableArray<StubProperty> Properties);

/// <summary>What the generator writes for one <c>[SequenceModel]</c>: the model, or the stubs of an invalid one.</summary>
internal sealed record GraphOutput(GraphSpec? Spec, GraphStubs? Stubs);
