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

/// <summary>Parameter tables of models made of parts.</summary>
public static class ParameterTables
{
    /// <summary>
    /// The table of a model made of <paramref name="parts"/>: each part's tensors renamed <c>prefix.name</c> and laid
    /// out one part after the other, in order (as PyTorch's <c>state_dict</c> lists a module's submodules).
    /// </summary>
    public static ImmutableArray<ParameterInfo> Combine(params ReadOnlySpan<(string Prefix, ImmutableArray<ParameterInfo> Table)> parts)
    {
        var combined = ImmutableArray.CreateBuilder<ParameterInfo>();
        int offset = 0;
        foreach ((string prefix, ImmutableArray<ParameterInfo> table) in parts)
        {
            int floats = 0;
            foreach (ParameterInfo info in table)
            {
                combined.Add(info with { Name = prefix + "." + info.Name, Offset = offset + info.Offset });
                floats = Math.Max(floats, info.Offset + info.Length);
            }
            offset += floats;
        }
        return combined.ToImmutable();
    }
}
