using System.Threading;
using Microsoft.CodeAnalysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;

namespace ModelGen.Generator.Parsing;

/// <summary>Turns a class marked with a model attribute into a <see cref="ModelSpec"/>, or null when it cannot be honoured.</summary>
internal static class Parser
{
    public const string LstmAttribute = ModelValidation.LstmAttribute;
    public const string GruAttribute = ModelValidation.GruAttribute;
    public const string RnnAttribute = ModelValidation.RnnAttribute;

    /// <summary>
    /// The spec of the model, or null when <see cref="ModelValidation"/> finds anything wrong (the declaration
    /// analyzer reports it; the compiler reports the rest): nothing is generated for an invalid declaration.
    /// </summary>
    public static ModelSpec? Parse(GeneratorAttributeSyntaxContext context, CellKind cell, CancellationToken cancellation)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type) return null;
        cancellation.ThrowIfCancellationRequested();
        ModelSpec? spec = ModelValidation.Validate(type, context.SemanticModel.Compilation, cancellation).Spec;
        // A type with attributes of two cells is invalid, so the spec's cell is this pipeline's.
        return spec is not null && spec.Cell == cell ? spec : null;
    }
}
