using Microsoft.CodeAnalysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator;

/// <summary>
/// Expands <c>[LstmModel]</c>, <c>[GruModel]</c> and <c>[RnnModel]</c> on partial classes into specialised
/// recurrent models, and <c>[SequenceModel]</c> graphs into their forward and backward schedules. Pipelines:
/// attribute → <see cref="ModelSpec"/> (Parser) → source text (Emitter); attribute → <see cref="GraphSpec"/>
/// (GraphParser) → source text (GraphEmitter).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        Register(context, Parser.LstmAttribute, CellKind.Lstm, TrackingNames.LstmSpecs);
        Register(context, Parser.GruAttribute, CellKind.Gru, TrackingNames.GruSpecs);
        Register(context, Parser.RnnAttribute, CellKind.Rnn, TrackingNames.RnnSpecs);

        IncrementalValuesProvider<GraphOutput> graphs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                GraphParser.SequenceModelAttribute,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax
                    or Microsoft.CodeAnalysis.CSharp.Syntax.RecordDeclarationSyntax,
                transform: static (syntax, cancellation) => syntax.TargetSymbol is INamedTypeSymbol type
                    ? GraphParser.Parse(type, syntax.SemanticModel.Compilation, cancellation).Output
                    : null)
            .WithTrackingName(TrackingNames.GraphSpecs)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.ValidGraphSpecs);
        context.RegisterSourceOutput(graphs, static (output, spec) =>
            output.AddSource(GraphEmitter.HintName(spec.Spec?.Target ?? spec.Stubs!.Target), GraphEmitter.Emit(spec)));
    }

    private static void Register(IncrementalGeneratorInitializationContext context, string attribute, CellKind cell,
        string trackingName)
    {
        IncrementalValuesProvider<ModelSpec> specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                attribute,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax
                    or Microsoft.CodeAnalysis.CSharp.Syntax.RecordDeclarationSyntax,
                transform: (syntax, cancellation) => Parser.Parse(syntax, cell, cancellation))
            .WithTrackingName(trackingName)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.ValidSpecs);

        context.RegisterSourceOutput(specs, static (output, spec) =>
            output.AddSource(Emitter.HintName(spec), Emitter.Emit(spec)));
    }
}
