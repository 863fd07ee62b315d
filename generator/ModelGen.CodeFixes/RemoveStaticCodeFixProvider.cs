using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.CodeFixes;

/// <summary>
/// MG0008: removes <c>static</c> from the model type's declaration. Not offered when the type declares extension
/// methods, which need a static class: then the user has to choose where they go.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveStaticCodeFixProvider)), Shared]
public sealed class RemoveStaticCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticDescriptors.TypeStaticId];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        SemanticModel? model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (Syntax.DeclarationAt(root, diagnostic) is not { } declaration
                || !declaration.Modifiers.Any(SyntaxKind.StaticKeyword)
                || model?.GetDeclaredSymbol(declaration, context.CancellationToken) is not INamedTypeSymbol type
                || type.GetMembers().OfType<IMethodSymbol>().Any(m => m.IsExtensionMethod))
            {
                continue;
            }
            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Remove 'static' from '{declaration.Identifier.ValueText}'",
                    cancellation => RemoveStaticAsync(context.Document, declaration, cancellation),
                    equivalenceKey: nameof(RemoveStaticCodeFixProvider)),
                diagnostic);
        }
    }

    private static async Task<Document> RemoveStaticAsync(Document document, TypeDeclarationSyntax declaration, CancellationToken cancellation)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellation).ConfigureAwait(false))!;
        SyntaxToken keyword = declaration.Modifiers.First(m => m.IsKind(SyntaxKind.StaticKeyword));
        int index = declaration.Modifiers.IndexOf(keyword);
        SyntaxTokenList modifiers = declaration.Modifiers.RemoveAt(index);
        TypeDeclarationSyntax updated;
        if (index == 0)
        {
            // The first token carries the declaration's leading trivia (indentation, comments): keep it.
            updated = modifiers.Count > 0
                ? declaration.WithModifiers(modifiers.Replace(modifiers[0], modifiers[0].WithLeadingTrivia(keyword.LeadingTrivia)))
                : declaration.WithModifiers(modifiers).WithKeyword(declaration.Keyword.WithLeadingTrivia(keyword.LeadingTrivia));
        }
        else
        {
            updated = declaration.WithModifiers(modifiers);
        }
        return document.WithSyntaxRoot(root.ReplaceNode(declaration, updated));
    }
}
