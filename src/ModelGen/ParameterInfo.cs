using System.Collections.Immutable;

namespace ModelGen;

/// <summary>One tensor of a model's parameter buffer.</summary>
/// <param name="Name">The PyTorch <c>state_dict</c> name, e.g. <c>rnn.weight_ih_l0</c> or <c>head.bias</c>.</param>
/// <param name="Shape">The PyTorch shape, row-major.</param>
/// <param name="Offset">Index of the tensor's first float in the parameter buffer.</param>
/// <param name="Length">Number of floats (the product of <paramref name="Shape"/>).</param>
/// <remarks>Thread safety: immutable; any number of threads may read it (the parameter tables are static and shared).</remarks>
public sealed record ParameterInfo(string Name, ImmutableArray<int> Shape, int Offset, int Length)
{
    /// <summary>The shape in PyTorch notation, e.g. <c>[128, 8]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {ShapeText} @ {Offset}";
}
