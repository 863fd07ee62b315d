using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;

namespace ModelGen.Generator.Parsing;

/// <summary>
/// Reads a <c>[Seq2SeqModel]</c> class into a <see cref="Seq2SeqSpec"/> and the problems of its declaration: the
/// two graphs it names must be valid <c>[SequenceModel]</c> declarations (whose own problems their analysis
/// reports) that read tokens, and the decoder's recurrent module must be able to start from the encoder's state.
/// </summary>
internal static class Seq2SeqParser
{
    public const string Seq2SeqModelAttribute = "ModelGen.Seq2SeqModelAttribute";

    public static Seq2SeqParseResult Parse(INamedTypeSymbol type, Compilation compilation, CancellationToken cancellation)
    {
        AttributeData? attribute = type.GetAttributes().FirstOrDefault(a =>
            a.AttributeClass is { Name: "Seq2SeqModelAttribute", ContainingNamespace: { Name: "ModelGen", ContainingNamespace.IsGlobalNamespace: true } });
        if (attribute is null) return Seq2SeqParseResult.None;
        var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellation) as AttributeSyntax;
        TypeDeclarationSyntax? primary = attributeSyntax?.Parent?.Parent as TypeDeclarationSyntax;
        if (primary is null || ModelValidation.IsIncomplete(primary) || type.TypeKind != TypeKind.Class) return Seq2SeqParseResult.None;
        var problems = new List<ModelProblem>();
        bool silentError = false;
        var declarations = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellation)).OfType<TypeDeclarationSyntax>().ToList();
        ModelValidation.CheckDeclaration(type, primary, declarations, problems, ref silentError);
        Location attributeLocation = attributeSyntax!.Name.GetLocation();
        foreach (AttributeData other in type.GetAttributes().Where(a => ModelValidation.CellOf(a.AttributeClass) is not null
            || a.AttributeClass is { Name: "SequenceModelAttribute" }))
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.DuplicateModelAttribute, attributeLocation,
                type.Name, ModelValidation.ShortName(other.AttributeClass!), "Seq2SeqModel"));
        }
        if (attribute.ConstructorArguments.Length != 2
            || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error || a.Value is not INamedTypeSymbol { TypeKind: not TypeKind.Error }))
        {
            return new Seq2SeqParseResult(null, problems);
        }
        var arguments = attributeSyntax.ArgumentList?.Arguments ?? default;
        // The argument of a parameter, written by name (encoder: typeof(…)) or by position.
        Location ArgumentLocation(int index)
        {
            string parameter = index == 0 ? "encoder" : "decoder";
            AttributeArgumentSyntax? named = arguments.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == parameter);
            if (named is not null) return named.GetLocation();
            return index < arguments.Count && arguments[index].NameColon is null ? arguments[index].GetLocation() : attributeLocation;
        }

        var encoderType = (INamedTypeSymbol)attribute.ConstructorArguments[0].Value!;
        var decoderType = (INamedTypeSymbol)attribute.ConstructorArguments[1].Value!;
        GraphSpec? encoder = Part(encoderType, "encoder", type, ArgumentLocation(0), compilation, cancellation, problems, ref silentError);
        GraphSpec? decoder = Part(decoderType, "decoder", type, ArgumentLocation(1), compilation, cancellation, problems, ref silentError);
        if (encoder is null || decoder is null || problems.Count > 0 || silentError) return new Seq2SeqParseResult(null, problems);

        var encoderRecurrent = encoder.Modules.OfType<RecurrentModule>().Single();
        var decoderRecurrent = decoder.Modules.OfType<RecurrentModule>().Single();
        string? mismatch =
            encoderRecurrent.Cell != decoderRecurrent.Cell ? $"the encoder's '{encoderRecurrent.Property}' is {Cell(encoderRecurrent)}, the decoder's '{decoderRecurrent.Property}' {Cell(decoderRecurrent)}"
            : encoderRecurrent.NumLayers != decoderRecurrent.NumLayers ? $"NumLayers of the decoder's '{decoderRecurrent.Property}' is {decoderRecurrent.NumLayers}, the encoder's '{encoderRecurrent.Property}' has {encoderRecurrent.NumLayers}"
            : encoderRecurrent.HiddenSize != decoderRecurrent.HiddenSize ? $"HiddenSize of the decoder's '{decoderRecurrent.Property}' is {decoderRecurrent.HiddenSize}, the encoder's '{encoderRecurrent.Property}' has {encoderRecurrent.HiddenSize}"
            : encoderRecurrent.ProjSize != decoderRecurrent.ProjSize ? $"ProjSize of the decoder's '{decoderRecurrent.Property}' is {decoderRecurrent.ProjSize}, the encoder's '{encoderRecurrent.Property}' has {encoderRecurrent.ProjSize}"
            : null;
        if (mismatch is not null)
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.BridgeMismatch, ArgumentLocation(1), decoderType.Name, encoderType.Name, mismatch));
            return new Seq2SeqParseResult(null, problems);
        }
        (List<ModuleShape> encoderShapes, _) = ShapeFlow.Run(encoder.Modules.ToList());
        int memorySize = encoderShapes[encoderShapes.Count - 1].OutFeatures;
        AttentionModule? attention = decoder.Modules.OfType<AttentionModule>().FirstOrDefault();
        if (attention is not null && attention.KeySize != memorySize)
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.Seq2SeqPartInvalid, ArgumentLocation(1), decoderType.Name, "decoder", type.Name,
                $"KeySize of its attention '{attention.Property}' is {attention.KeySize}, but the encoder '{encoderType.Name}' writes {memorySize} features per step"));
            return new Seq2SeqParseResult(null, problems);
        }
        (List<ModuleShape> decoderShapes, _) = ShapeFlow.Run(decoder.Modules.ToList());
        bool feedsCell = attention is not null && decoderShapes[decoder.Modules.ToList().IndexOf(attention)].Recurrent > decoder.Modules.ToList().IndexOf(attention);
        var spec = new Seq2SeqSpec(
            GraphParser.Target(type),
            encoderType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            decoderType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            encoder.TypeName.TrimStart('@'),
            decoder.TypeName.TrimStart('@'),
            ((EmbeddingModule)encoder.Modules[0]).NumEmbeddings,
            decoderShapes[decoderShapes.Count - 1].OutFeatures,
            memorySize,
            encoderRecurrent,
            attention,
            feedsCell);
        ModelValidation.CheckCollisions(type, GeneratedMembers.Of(Seq2SeqEmitter.Emit(spec), type.Name, cancellation),
            primary, compilation, problems, cancellation);
        return problems.Count > 0 ? new Seq2SeqParseResult(null, problems) : new Seq2SeqParseResult(spec, problems);
    }

    private static string Cell(RecurrentModule r) => r.Kind.ToString();

    /// <summary>The graph of one side, or null with the problem (none when the graph's own analysis reports it).</summary>
    private static GraphSpec? Part(INamedTypeSymbol part, string role, INamedTypeSymbol model, Location location, Compilation compilation,
        CancellationToken cancellation, List<ModelProblem> problems, ref bool silentError)
    {
        void Problem(string why) => problems.Add(new ModelProblem(DiagnosticDescriptors.Seq2SeqPartInvalid, location, part.Name, role, model.Name, why));
        if (SymbolEqualityComparer.Default.Equals(part, model))
        {
            Problem("a model cannot be its own part");
            return null;
        }
        GraphParseResult parsed = GraphParser.Parse(part, compilation, cancellation);
        if (parsed.Spec is null)
        {
            if (parsed.Problems.Count > 0 || part.GetAttributes().Any(a => a.AttributeClass is { Name: "SequenceModelAttribute" })) silentError = true;
            else Problem("it is not a [SequenceModel] graph");
            return null;
        }
        GraphSpec graph = parsed.Spec;
        (List<ModuleShape> shapes, _) = ShapeFlow.Run(graph.Modules.ToList());
        var recurrent = graph.Modules.OfType<RecurrentModule>().ToList();
        string? why =
            !graph.TokenInput ? "it must read token ids: its first module must be an Embedding"
            : recurrent.Count != 1 ? $"it must have exactly one recurrent module (Lstm, Gru or Rnn), which the bridge connects; it has {recurrent.Count}"
            : recurrent[0].Bidirectional ? $"its recurrent module '{recurrent[0].Property}' is bidirectional; the bridge carries a unidirectional state"
            : !shapes[shapes.Count - 1].OutPerStep ? "it must give an output per step, so it cannot reduce over time"
            : role == "encoder" && graph.Modules.Any(m => m is AttentionModule) ? "an encoder has no memory to attend to"
            : !graph.SharesBuffers ? "it declares constructors of its own, but the encoder–decoder model creates its parts over its own parameter buffer"
            : null;
        if (why is not null)
        {
            Problem(why);
            return null;
        }
        return graph;
    }
}

/// <summary>A parse result: the spec (null when anything is wrong) and the problems to report.</summary>
internal sealed class Seq2SeqParseResult(Seq2SeqSpec? spec, IReadOnlyList<ModelProblem> problems)
{
    public static readonly Seq2SeqParseResult None = new(null, []);

    public Seq2SeqSpec? Spec { get; } = spec;

    public IReadOnlyList<ModelProblem> Problems { get; } = problems;
}
