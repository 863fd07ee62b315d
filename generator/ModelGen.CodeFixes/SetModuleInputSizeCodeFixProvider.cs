using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
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
/// MG0019: sets a module's input size argument (<c>InputSize</c>, <c>InFeatures</c> or <c>NormalizedShape</c>) to the
/// features that flow into it, which the diagnostic carries in its <c>Expected</c> property, e.g.
/// <c>InFeatures = 64</c> → <c>InFeatures = 128</c> after a bidirectional LSTM of hidden size 64.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SetModuleInputSizeCodeFixProvider)), Shared]
public sealed class SetModuleInputSizeCodeFixProvider : CodeFixProvider
{
    /// <summary>The diagnostic property that names the argument, e.g. <c>InFeatures</c>.</summary>
    public const string ArgumentProperty = "Argument";

    /// <summary>The diagnostic property with the value the argument must have, in invariant digits.</summary>
    public const string ExpectedProperty = "Expected";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticDescriptors.ModuleInputMismatchId];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(ExpectedProperty, out string? expectedText)
                || !int.TryParse(expectedText, NumberStyles.None, CultureInfo.InvariantCulture, out int expected)
                || !diagnostic.Properties.TryGetValue(ArgumentProperty, out string? name) || name is null)
            {
                continue;
            }
            // The diagnostic is on the whole argument, e.g. 'InFeatures = 64'; only an argument of that name is changed.
            if (root?.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<AttributeArgumentSyntax>() is not
                { NameEquals: { } nameEquals } argument
                || nameEquals.Name.Identifier.ValueText != name)
            {
                continue;
            }
            string value = expected.ToString(CultureInfo.InvariantCulture);
            context.RegisterCodeFix(
                CodeAction.Create($"Set {name} to {value}",
                    cancellation => SetAsync(context.Document, argument, expected, cancellation),
                    equivalenceKey: nameof(SetModuleInputSizeCodeFixProvider)),
                diagnostic);
        }
    }

    private static async Task<Document> SetAsync(Document document, AttributeArgumentSyntax argument, int value, CancellationToken cancellation)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellation).ConfigureAwait(false))!;
        ExpressionSyntax literal = SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(value))
            .WithTriviaFrom(argument.Expression);
        return document.WithSyntaxRoot(root.ReplaceNode(argument.Expression, literal));
    }
}
