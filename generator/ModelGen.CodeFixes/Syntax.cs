using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ModelGen.CodeFixes;

internal static class Syntax
{
    /// <summary>The type declaration whose identifier a diagnostic points at.</summary>
    public static TypeDeclarationSyntax? DeclarationAt(SyntaxNode? root, Diagnostic diagnostic)
    {
        if (root is null || !diagnostic.Location.IsInSource) return null;
        SyntaxToken token = root.FindToken(diagnostic.Location.SourceSpan.Start);
        return token.Parent is TypeDeclarationSyntax declaration && declaration.Identifier == token ? declaration : null;
    }
}
