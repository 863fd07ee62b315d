using Microsoft.CodeAnalysis;

namespace ModelGen.Generator;

/// <summary>
/// Expands <c>[LstmModel]</c>, <c>[GruModel]</c> and <c>[RnnModel]</c> on partial classes into specialised
/// recurrent models. Pipeline: attribute → <see cref="ModelSpec"/> (Parser) → source text (Emitter).
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
