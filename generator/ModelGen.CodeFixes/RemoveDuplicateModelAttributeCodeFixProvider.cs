using System.Collections.Generic;
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

/// <summary>MG0011: removes a second model attribute; the type keeps the first.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveDuplicateModelAttributeCodeFixProvider)), Shared]
public sealed class RemoveDuplicateModelAttributeCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticDescriptors.DuplicateModelAttributeId];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => FixAll.Instance;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (AttributeAt(root, diagnostic) is not { } attribute) continue;
            context.RegisterCodeFix(
                CodeAction.Create($"Remove [{attribute.Name}]",
                    cancellation => RemoveAsync(context.Document, [diagnostic], cancellation),
                    equivalenceKey: nameof(RemoveDuplicateModelAttributeCodeFixProvider)),
                diagnostic);
        }
    }

    private static AttributeSyntax? AttributeAt(SyntaxNode? root, Diagnostic diagnostic) =>
        root?.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeSyntax>() is
            { Parent: AttributeListSyntax { Parent: MemberDeclarationSyntax } } attribute
            ? attribute
            : null;

    /// <summary>Removes the attributes the diagnostics point at, all at once, declaration by declaration.</summary>
    private static async Task<Document> RemoveAsync(Document document, IEnumerable<Diagnostic> diagnostics, CancellationToken cancellation)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellation).ConfigureAwait(false))!;
        var attributes = new HashSet<AttributeSyntax>(diagnostics.Select(d => AttributeAt(root, d)).OfType<AttributeSyntax>());
        var declarations = attributes.Select(a => (MemberDeclarationSyntax)a.Parent!.Parent!).Distinct().ToList();
        SyntaxNode updated = root.ReplaceNodes(declarations, (original, rewritten) => Without(original, rewritten, attributes));
        return document.WithSyntaxRoot(updated);
    }

    /// <summary>
    /// The declaration without those attributes. A list left empty goes with its line; the first list's leading
    /// trivia (doc comment, indentation) belongs to the declaration and moves to what now comes first.
    /// </summary>
    private static MemberDeclarationSyntax Without(MemberDeclarationSyntax original, MemberDeclarationSyntax rewritten,
        HashSet<AttributeSyntax> attributes)
    {
        var lists = new List<AttributeListSyntax>();
        bool firstRemoved = false;
        for (int i = 0; i < original.AttributeLists.Count; i++)
        {
            AttributeListSyntax list = original.AttributeLists[i];
            var kept = list.Attributes.Where(a => !attributes.Contains(a)).ToList();
            if (kept.Count == list.Attributes.Count)
            {
                lists.Add(list);
            }
            else if (kept.Count > 0)
            {
                // The first kept attribute may have been after a comma: drop the space it had there.
                kept[0] = kept[0].WithoutLeadingTrivia();
                lists.Add(list.WithAttributes(SyntaxFactory.SeparatedList(kept)));
            }
            else if (i == 0)
            {
                firstRemoved = true;
            }
        }
        MemberDeclarationSyntax result = rewritten.WithAttributeLists(SyntaxFactory.List(lists));
        if (firstRemoved)
        {
            SyntaxToken first = result.GetFirstToken();
            result = result.ReplaceToken(first, first.WithLeadingTrivia(original.GetLeadingTrivia()));
        }
        return result;
    }

    private sealed class FixAll : DocumentBasedFixAllProvider
    {
        public static readonly FixAll Instance = new();

        protected override async Task<Document?> FixAllAsync(FixAllContext fixAllContext, Document document, ImmutableArray<Diagnostic> diagnostics) =>
            await RemoveAsync(document, diagnostics, fixAllContext.CancellationToken).ConfigureAwait(false);
    }
}
