using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Diagnostics;

/// <summary>
/// Reports what is wrong with a model declaration (MG0001–MG0016, and for <c>[SequenceModel]</c> graphs
/// MG0019–MG0024, and for <c>[Seq2SeqModel]</c> encoder–decoders MG0025–MG0026), at the attribute argument or identifier at fault. It runs the same <see cref="ModelValidation"/>
/// and <see cref="GraphParser"/> as the generator, which generates nothing for a declaration with any
/// error, so a ModelGen diagnostic is never followed by errors inside generated code.
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
        DiagnosticDescriptors.ModuleInputMismatch,
        DiagnosticDescriptors.ModuleMisplaced,
        DiagnosticDescriptors.PaddingIdxOutOfRange,
        DiagnosticDescriptors.ModuleNameCollision,
        DiagnosticDescriptors.ModulePropertyInvalid,
        DiagnosticDescriptors.GraphWithoutModules,
        DiagnosticDescriptors.Seq2SeqPartInvalid,
        DiagnosticDescriptors.BridgeMismatch,
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
            INamedTypeSymbol? graph = start.Compilation.GetTypeByMetadataName(GraphParser.SequenceModelAttribute);
            INamedTypeSymbol? seq2seq = start.Compilation.GetTypeByMetadataName(Seq2SeqParser.Seq2SeqModelAttribute);
            if (lstm is null && gru is null && rnn is null && graph is null && seq2seq is null) return;
            // A nested model is validated for itself and for each type that contains it; once is enough.
            var results = new ConcurrentDictionary<INamedTypeSymbol, IReadOnlyList<ModelProblem>>(SymbolEqualityComparer.Default);
            bool IsModel(INamedTypeSymbol type)
            {
                if (type.TypeKind != TypeKind.Class) return false;
                foreach (AttributeData attribute in type.GetAttributes())
                {
                    INamedTypeSymbol? attributeClass = attribute.AttributeClass;
                    if (SymbolEqualityComparer.Default.Equals(attributeClass, lstm)
                        || SymbolEqualityComparer.Default.Equals(attributeClass, gru)
                        || SymbolEqualityComparer.Default.Equals(attributeClass, rnn)
                        || SymbolEqualityComparer.Default.Equals(attributeClass, graph)
                        || SymbolEqualityComparer.Default.Equals(attributeClass, seq2seq))
                    {
                        return true;
                    }
                }
                return false;
            }

            start.RegisterSymbolAction(symbolContext =>
            {
                var type = (INamedTypeSymbol)symbolContext.Symbol;
                Compilation compilation = symbolContext.Compilation;
                System.Threading.CancellationToken cancellation = symbolContext.CancellationToken;
                IReadOnlyList<ModelProblem> Validate(INamedTypeSymbol model) =>
                    results.GetOrAdd(model, m =>
                    {
                        IReadOnlyList<ModelProblem> recurrent = ModelValidation.Validate(m, compilation, cancellation).Problems;
                        IReadOnlyList<ModelProblem> graphs = GraphParser.Parse(m, compilation, cancellation).Problems;
                        IReadOnlyList<ModelProblem> joined = Seq2SeqParser.Parse(m, compilation, cancellation).Problems;
                        return [.. recurrent, .. graphs, .. joined];
                    });

                // Each problem is reported while analysing the type whose declaration it points into.
                if (IsModel(type))
                {
                    foreach (ModelProblem problem in Validate(type))
                    {
                        if (problem.Owner is null) symbolContext.ReportDiagnostic(problem.ToDiagnostic());
                    }
                }
                var nested = new Stack<INamedTypeSymbol>(type.GetTypeMembers());
                while (nested.Count > 0)
                {
                    INamedTypeSymbol inner = nested.Pop();
                    foreach (INamedTypeSymbol deeper in inner.GetTypeMembers()) nested.Push(deeper);
                    if (!IsModel(inner)) continue;
                    foreach (ModelProblem problem in Validate(inner))
                    {
                        if (SymbolEqualityComparer.Default.Equals(problem.Owner, type)) symbolContext.ReportDiagnostic(problem.ToDiagnostic());
                    }
                }
            }, SymbolKind.NamedType);
        });
    }
}
