namespace ModelGen.Generator;

/// <summary>
/// The parameter layout as the generated code spells it out: the tensors of the first <see cref="NamedLayers"/>
/// layers and of the head, each with a named accessor and a row in the class documentation, and the deeper layers
/// as one summary (their tensors are reached by name through <c>GetParameter</c>). Built from the shared layout of
/// the named layers alone, so that neither the generated code nor the work of writing and checking it grows with
/// NumLayers: the compiler, the IDE and the analyzers pay for every generated member.
/// </summary>
internal sealed class NamedLayout
{
    /// <summary>Layers whose tensors have named accessors; PyTorch models seldom stack more.</summary>
    public const int NamedLayers = 8;

    public NamedLayout(ModelSpec spec)
    {
        int named = Math.Min(spec.NumLayers, NamedLayers);
        // The layers come first in the buffer, so the named layers have the full model's offsets; only the head moves.
        var geometry = new ModelGeometry(spec.Cell, spec.InputSize, spec.HiddenSize, named, spec.Bias,
            spec.Bidirectional, spec.ProjSize, spec.OutputSize);
        NumDirections = geometry.NumDirections;
        GateCount = geometry.GateCount;
        StateSize = geometry.StateSize;
        OutputFeatures = geometry.OutputFeatures;
        UnnamedLayers = spec.NumLayers - named;
        // Every layer after the first reads D * Hout features, so each unnamed layer is as long as layer 1.
        UnnamedLayerLength = UnnamedLayers > 0
            ? geometry.OffsetOf("rnn.weight_ih_l2") - geometry.OffsetOf("rnn.weight_ih_l1")
            : 0;
        UnnamedOffset = spec.OutputSize > 0 ? geometry.OffsetOf("head.weight") : geometry.ParameterCount;
        long shift = UnnamedLayers * UnnamedLayerLength;
        Tensors = [.. geometry.Parameters.Select(slot => IsHead(slot) ? new TensorSlot(slot.Name, slot.Shape, slot.Offset + shift) : slot)];
        ParameterCount = geometry.ParameterCount + shift;
    }

    /// <summary>Whether the tensor is the linear head's, which comes after every layer.</summary>
    public static bool IsHead(TensorSlot slot) => slot.Name.StartsWith("head.", StringComparison.Ordinal);

    /// <summary>D: 2 for a bidirectional model, else 1.</summary>
    public int NumDirections { get; }

    /// <summary>Gates per unit: LSTM 4, GRU 3, RNN 1.</summary>
    public int GateCount { get; }

    /// <summary>Hout: the size of h, the projection size when there is one.</summary>
    public long StateSize { get; }

    /// <summary>D * Hout: features per step of the recurrent output.</summary>
    public long OutputFeatures { get; }

    /// <summary>Floats in the parameter buffer, the unnamed layers included.</summary>
    public long ParameterCount { get; }

    /// <summary>The tensors of the named layers and of the head, at their offsets in the full buffer.</summary>
    public IReadOnlyList<TensorSlot> Tensors { get; }

    /// <summary>Layers from <see cref="NamedLayers"/> on, which have no named accessors.</summary>
    public int UnnamedLayers { get; }

    /// <summary>Where the first unnamed layer starts.</summary>
    public long UnnamedOffset { get; }

    /// <summary>Floats of each unnamed layer, both directions.</summary>
    public long UnnamedLayerLength { get; }
}
