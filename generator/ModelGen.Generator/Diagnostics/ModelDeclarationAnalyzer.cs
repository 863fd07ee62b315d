using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ModelGen.Generator.Diagnostics;

/// <summary>
/// Reports what is wrong with a model declaration (MG0001–MG0016), at the attribute argument or identifier at
/// fault. It runs the same <see cref="ModelValidation"/> as the generator, which generates nothing for a
/// declaration with any error, so a ModelGen diagnostic is never followed by errors inside generated code.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ModelDeclarationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
    [
        DiagnosticDescriptors.RequiredSizeMissing,
        DiagnosticDescriptors.SizeOutOfRange,
        DiagnosticDescriptors.ProjSizeOutOfRange,
        DiagnosticDescriptors.OptionNotOnCell,
        DiagnosticDescriptors.InvalidNonlinearity,
        DiagnosticDescriptors.LayoutOverflow,
        DiagnosticDescriptors.TypeNotPartial,
        DiagnosticDescriptors.TypeStatic,
        DiagnosticDescriptors.TypeGeneric,
        DiagnosticDescriptors.ContainingTypeNotPartial,
        DiagnosticDescriptors.DuplicateModelAttribute,
        DiagnosticDescriptors.MemberNameCollision,
        DiagnosticDescriptors.InheritedMemberHidden,
        DiagnosticDescriptors.TypeNameCollision,
        DiagnosticDescriptors.FileLocalType,
        DiagnosticDescriptors.LanguageVersionTooLow,
    ];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            // Resolved once per compilation; a compilation without the ModelGen runtime has no models.
            INamedTypeSymbol? lstm = start.Compilation.GetTypeByMetadataName(ModelValidation.LstmAttribute);
            INamedTypeSymbol? gru = start.Compilation.GetTypeByMetadataName(ModelValidation.GruAttribute);
            INamedTypeSymbol? rnn = start.Compilation.GetTypeByMetadataName(ModelValidation.RnnAttribute);
            if (lstm is null && gru is null && rnn is null) return;
            start.RegisterSymbolAction(symbolContext =>
            {
                var type = (INamedTypeSymbol)symbolContext.Symbol;
                if (type.TypeKind != TypeKind.Class) return;
                bool isModel = false;
                foreach (AttributeData attribute in type.GetAttributes())
                {
                    INamedTypeSymbol? attributeClass = attribute.AttributeClass;
                    if (SymbolEqualityComparer.Default.Equals(attributeClass, lstm)
                        || SymbolEqualityComparer.Default.Equals(attributeClass, gru)
                        || SymbolEqualityComparer.Default.Equals(attributeClass, rnn))
                    {
                        isModel = true;
                        break;
                    }
                }
                if (!isModel) return;
                ModelValidationResult result = ModelValidation.Validate(type, symbolContext.Compilation, symbolContext.CancellationToken);
                foreach (ModelProblem problem in result.Problems)
                {
                    symbolContext.ReportDiagnostic(problem.ToDiagnostic());
                }
            }, SymbolKind.NamedType);
        });
    }
}
