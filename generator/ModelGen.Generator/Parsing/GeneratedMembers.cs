using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;

namespace ModelGen.Generator.Parsing;

/// <summary>One member that a generated part declares on the model type, as the collision checks compare it.</summary>
internal sealed class GeneratedMember(string name, string[]? parameterTypes, bool isOverride)
{
    /// <summary>The name; for an explicit interface implementation, the interface's full name, a dot and the member's.</summary>
    public string Name { get; } = name;

    public string[]? ParameterTypes { get; } = parameterTypes;

    public bool IsMethod => ParameterTypes is not null;

    /// <summary>Whether this is an explicit interface implementation (its name holds the interface's).</summary>
    public bool IsExplicitImplementation => Name.IndexOf('.') >= 0;

    /// <summary>Whether this method overrides an inherited virtual one (<c>ToString</c>) rather than hiding it.</summary>
    public bool IsOverride { get; } = isOverride;

    /// <summary>The member as a message shows it, e.g. <c>Forward(ReadOnlySpan&lt;float&gt;, int, Span&lt;float&gt;)</c>.</summary>
    public override string ToString() =>
        IsMethod
            ? $"{Name}({string.Join(", ", ParameterTypes!.Select(t => t.Replace("global::System.IO.", "").Replace("global::System.", "")))})"
            : Name;
}

/// <summary>
/// The members a generated file declares on the model type, read from the generated text itself: the collision
/// checks compare the user's members with what the emitter really writes, so there is no second list to keep in step.
/// </summary>
internal static class GeneratedMembers
{
    /// <summary>
    /// The members of the type named <paramref name="typeName"/> in <paramref name="source"/> (C# lets neither a
    /// containing nor a nested type have the model's name, so it is the only one).
    /// </summary>
    public static List<GeneratedMember> Of(string source, string typeName, CancellationToken cancellation)
    {
        SyntaxNode root = CSharpSyntaxTree.ParseText(source, cancellationToken: cancellation).GetRoot(cancellation);
        TypeDeclarationSyntax? type = root.DescendantNodes().OfType<TypeDeclarationSyntax>().FirstOrDefault(t => t.Identifier.ValueText == typeName);
        var members = new List<GeneratedMember>();
        if (type is null) return members;
        foreach (MemberDeclarationSyntax member in type.Members)
        {
            // A partial member's implementation part belongs to the user's declaration of it, not beside it.
            if (member.Modifiers.Any(SyntaxKind.PartialKeyword)) continue;
            bool isOverride = member.Modifiers.Any(SyntaxKind.OverrideKeyword);
            switch (member)
            {
                case MethodDeclarationSyntax method:
                    members.Add(new GeneratedMember(Name(method.ExplicitInterfaceSpecifier, method.Identifier),
                        [.. method.ParameterList.Parameters.Select(p => TypeText(p.Type))], isOverride));
                    break;
                case PropertyDeclarationSyntax property:
                    members.Add(new GeneratedMember(Name(property.ExplicitInterfaceSpecifier, property.Identifier), null, isOverride));
                    break;
                case EventDeclarationSyntax @event:
                    members.Add(new GeneratedMember(Name(@event.ExplicitInterfaceSpecifier, @event.Identifier), null, isOverride));
                    break;
                case BaseFieldDeclarationSyntax field:
                    members.AddRange(field.Declaration.Variables.Select(v => new GeneratedMember(v.Identifier.ValueText, null, false)));
                    break;
                case BaseTypeDeclarationSyntax nested:
                    members.Add(new GeneratedMember(nested.Identifier.ValueText, null, false));
                    break;
            }
        }
        return members;
    }

    private static string Name(ExplicitInterfaceSpecifierSyntax? explicitInterface, SyntaxToken identifier) =>
        explicitInterface is null
            ? identifier.ValueText
            : StripGlobal(explicitInterface.Name.ToString()) + "." + identifier.ValueText;

    /// <summary>
    /// A parameter type as <see cref="SymbolDisplayFormat.FullyQualifiedFormat"/> shows the user's: the generated
    /// code writes <c>global::</c>-qualified names and keywords already; only a nullable annotation of a reference
    /// type (which that format omits) is dropped.
    /// </summary>
    private static string TypeText(TypeSyntax? type)
    {
        string text = type?.ToString() ?? "";
        return type is NullableTypeSyntax nullable && text.StartsWith("global::", System.StringComparison.Ordinal) ? nullable.ElementType.ToString() : text;
    }

    private static string StripGlobal(string name) => name.StartsWith("global::", System.StringComparison.Ordinal) ? name.Substring("global::".Length) : name;
}
