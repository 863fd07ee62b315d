namespace ModelGen.Generator;

/// <summary>A type that contains the model class, e.g. <c>partial class Outer</c>.</summary>
/// <param name="Keyword">The declaration keyword: <c>class</c>, <c>struct</c>, <c>record</c>, <c>record struct</c> or <c>interface</c>.</param>
/// <param name="Name">The name with its type parameter list, e.g. <c>Outer&lt;T&gt;</c>.</param>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>
/// Everything the emitter needs to know about one model declaration: names, the attribute's values, nothing
/// from Roslyn, so that the incremental pipeline can compare it by value and skip unchanged models.
/// </summary>
/// <param name="MetadataName">The type's full metadata name, e.g. <c>Demo.Outer`1+Model</c>: no two types of a
/// compilation share it, and it keeps the case of every name.</param>
internal sealed record ModelSpec(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string TypeKeyword,
    string TypeName,
    string MetadataName,
    string AttributeName,
    CellKind Cell,
    int InputSize,
    int HiddenSize,
    int NumLayers,
    bool Bias,
    bool Bidirectional,
    int ProjSize,
    bool Relu,
    int OutputSize)
{
    /// <summary>The part of the parameter layout that the generated code spells out.</summary>
    public NamedLayout Layout() => new(this);

    /// <summary><c>Namespace.Outer.Type</c>, the model's full name without <c>global::</c>.</summary>
    public string FullName =>
        string.Join(".", new[] { Namespace }.Concat(ContainingTypes.Select(t => t.Name)).Append(TypeName)
            .Where(part => !string.IsNullOrEmpty(part)));
}
