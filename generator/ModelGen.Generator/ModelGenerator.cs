using Microsoft.CodeAnalysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator;

/// <summary>
/// Expands <c>[LstmModel]</c>, <c>[GruModel]</c> and <c>[RnnModel]</c> on partial classes into specialised
/// recurrent models, <c>[SequenceModel]</c> graphs into their forward and backward schedules, and <c>[Seq2SeqModel]</c>
/// encoder–decoders into the schedule joining two graphs. Pipelines:
/// attribute → <see cref="ModelSpec"/> (Parser) → source text (Emitter); attribute → <see cref="GraphSpec"/>
/// (GraphParser) → source text (GraphEmitter); attribute → <see cref="Seq2SeqSpec"/> (Seq2SeqParser) → source
/// text (Seq2SeqEmitter).
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

        IncrementalValuesProvider<Seq2SeqSpec> seq2seq = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Seq2SeqParser.Seq2SeqModelAttribute,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax
                    or Microsoft.CodeAnalysis.CSharp.Syntax.RecordDeclarationSyntax,
                transform: static (syntax, cancellation) => syntax.TargetSymbol is INamedTypeSymbol type
                    ? Seq2SeqParser.Parse(type, syntax.SemanticModel.Compilation, cancellation).Spec
                    : null)
            .WithTrackingName(TrackingNames.Seq2SeqSpecs)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.ValidSeq2SeqSpecs);
        context.RegisterSourceOutput(seq2seq, static (output, spec) =>
            output.AddSource(Seq2SeqEmitter.HintName(spec.Target), Seq2SeqEmitter.Emit(spec)));
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
