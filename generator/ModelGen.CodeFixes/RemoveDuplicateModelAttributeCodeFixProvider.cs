using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.CodeFixes;

/// <summary>MG0011: removes a second model attribute; the type keeps the first.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveDuplicateModelAttributeCodeFixProvider)), Shared]
public sealed class RemoveDuplicateModelAttributeCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticDescriptors.DuplicateModelAttributeId];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (root?.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>() is not
                { Parent: AttributeListSyntax { Parent: MemberDeclarationSyntax } } attribute)
            {
                continue;
            }
            context.RegisterCodeFix(
                CodeAction.Create($"Remove [{attribute.Name}]",
                    cancellation => RemoveAsync(context.Document, attribute, cancellation),
                    equivalenceKey: nameof(RemoveDuplicateModelAttributeCodeFixProvider)),
                diagnostic);
        }
    }

    private static async Task<Document> RemoveAsync(Document document, AttributeSyntax attribute, CancellationToken cancellation)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellation).ConfigureAwait(false))!;
        var list = (AttributeListSyntax)attribute.Parent!;
        if (list.Attributes.Count > 1)
        {
            AttributeListSyntax shorter = list.WithAttributes(list.Attributes.Remove(attribute));
            if (list.Attributes[0] == attribute)
            {
                shorter = shorter.ReplaceNode(shorter.Attributes[0], shorter.Attributes[0].WithoutLeadingTrivia());
            }
            return document.WithSyntaxRoot(root.ReplaceNode(list, shorter));
        }

        // The whole [Attribute] goes, with its line; the first list's leading trivia (doc comment, indentation)
        // belongs to the declaration and moves to what now comes first.
        var declaration = (MemberDeclarationSyntax)list.Parent!;
        bool first = declaration.AttributeLists[0] == list;
        MemberDeclarationSyntax updated = declaration.RemoveNode(list, SyntaxRemoveOptions.KeepNoTrivia)!;
        if (first) updated = updated.WithLeadingTrivia(list.GetLeadingTrivia());
        return document.WithSyntaxRoot(root.ReplaceNode(declaration, updated));
    }
}
