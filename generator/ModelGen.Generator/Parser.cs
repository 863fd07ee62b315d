using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ModelGen.Generator;

/// <summary>Turns a class marked with a model attribute into a <see cref="ModelSpec"/>, or null when it cannot be honoured.</summary>
internal static class Parser
{
    public const string LstmAttribute = "ModelGen.LstmModelAttribute";
    public const string GruAttribute = "ModelGen.GruModelAttribute";
    public const string RnnAttribute = "ModelGen.RnnModelAttribute";

    private static readonly string[] ModelAttributes = [LstmAttribute, GruAttribute, RnnAttribute];

    public static ModelSpec? Parse(GeneratorAttributeSyntaxContext context, CellKind cell, CancellationToken cancellation)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length != 1) return null;
        cancellation.ThrowIfCancellationRequested();

        // One model attribute per type: two would generate the same members twice.
        int modelAttributes = type.GetAttributes().Count(a =>
            a.AttributeClass is { } c && ModelAttributes.Contains(c.ToDisplayString()));
        if (modelAttributes != 1) return null;

        if (type.TypeKind != TypeKind.Class || type.IsStatic || type.TypeParameters.Length > 0 || !IsPartial(type)) return null;

        var containing = new List<ContainingType>();
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (!IsPartial(outer)) return null;
            containing.Insert(0, new ContainingType(Keyword(outer), NameWithTypeParameters(outer)));
        }

        AttributeData attribute = context.Attributes[0];
        if (attribute.ConstructorArguments.Length != 0) return null;
        int inputSize = 0, hiddenSize = 0, numLayers = 1, projSize = 0, outputSize = 0;
        bool bias = true, bidirectional = false, relu = false;
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            object? value = argument.Value.Value;
            switch (argument.Key)
            {
                case "InputSize" when value is int v: inputSize = v; break;
                case "HiddenSize" when value is int v: hiddenSize = v; break;
                case "NumLayers" when value is int v: numLayers = v; break;
                case "ProjSize" when value is int v: projSize = v; break;
                case "OutputSize" when value is int v: outputSize = v; break;
                case "Bias" when value is bool v: bias = v; break;
                case "Bidirectional" when value is bool v: bidirectional = v; break;
                case "Nonlinearity" when value is int v && (v == 0 || v == 1): relu = v == 1; break;
                default: return null;
            }
        }

        var spec = new ModelSpec(
            type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : null,
            new EquatableArray<ContainingType>([.. containing]),
            Keyword(type),
            type.Name,
            attribute.AttributeClass!.Name,
            cell, inputSize, hiddenSize, numLayers, bias, bidirectional, projSize, relu, outputSize);
        return IsValid(spec) ? spec : null;
    }

    /// <summary>The shapes PyTorch accepts and whose layout fits <c>int</c> offsets.</summary>
    public static bool IsValid(ModelSpec spec)
    {
        if (spec.InputSize <= 0 || spec.HiddenSize <= 0 || spec.NumLayers < 1 || spec.OutputSize < 0) return false;
        if (spec.ProjSize < 0 || (spec.ProjSize > 0 && spec.ProjSize >= spec.HiddenSize)) return false;
        ModelGeometry geometry = spec.Geometry();
        // Every offset and every workspace row must fit an int.
        long widestRow = System.Math.Max((long)geometry.GateCount * spec.HiddenSize, geometry.OutputFeatures);
        return geometry.ParameterCount <= int.MaxValue && widestRow <= int.MaxValue / 1024;
    }

    private static bool IsPartial(INamedTypeSymbol type) =>
        type.DeclaringSyntaxReferences.Length > 0
        && type.DeclaringSyntaxReferences.All(reference =>
            reference.GetSyntax() is TypeDeclarationSyntax declaration
            && declaration.Modifiers.Any(SyntaxKind.PartialKeyword));

    private static string Keyword(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    private static string NameWithTypeParameters(INamedTypeSymbol type) =>
        type.TypeParameters.Length == 0
            ? type.Name
            : type.Name + "<" + string.Join(", ", type.TypeParameters.Select(p => p.Name)) + ">";
}
