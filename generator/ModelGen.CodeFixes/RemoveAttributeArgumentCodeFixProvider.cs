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

/// <summary>
/// MG0003: removes an impossible <c>ProjSize</c> (the model then has no projection, which is what
/// <c>ProjSize = 0</c> means). MG0004: removes an option that the cell does not have.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveAttributeArgumentCodeFixProvider)), Shared]
public sealed class RemoveAttributeArgumentCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        [DiagnosticDescriptors.ProjSizeOutOfRangeId, DiagnosticDescriptors.OptionNotOnCellId];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (root?.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeArgumentSyntax>() is not
                { NameEquals: { } nameEquals, Parent: AttributeArgumentListSyntax } argument)
            {
                continue;
            }
            string name = nameEquals.Name.Identifier.ValueText;
            string title = diagnostic.Id == DiagnosticDescriptors.ProjSizeOutOfRangeId
                ? "Remove ProjSize (no projection)"
                : $"Remove {name}";
            context.RegisterCodeFix(
                CodeAction.Create(title,
                    cancellation => RemoveAsync(context.Document, argument, cancellation),
                    equivalenceKey: nameof(RemoveAttributeArgumentCodeFixProvider) + diagnostic.Id),
                diagnostic);
        }
    }

    private static async Task<Document> RemoveAsync(Document document, AttributeArgumentSyntax argument, CancellationToken cancellation)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellation).ConfigureAwait(false))!;
        var list = (AttributeArgumentListSyntax)argument.Parent!;
        AttributeArgumentListSyntax updated = list.WithArguments(list.Arguments.Remove(argument));
        if (list.Arguments.Count > 1 && list.Arguments[0] == argument)
        {
            // The next argument moves to the front: drop the space it had after the comma.
            updated = updated.ReplaceNode(updated.Arguments[0], updated.Arguments[0].WithoutLeadingTrivia());
        }
        return document.WithSyntaxRoot(root.ReplaceNode(list, updated));
    }
}
