using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;

namespace ModelGen.Generator.Parsing;

/// <summary>
/// Reads a <c>[SequenceModel]</c> class into a <see cref="GraphSpec"/> and the problems of its declaration. The
/// generator uses the spec (null when anything is wrong); the declaration analyzer reports the problems.
/// </summary>
internal static class GraphParser
{
    public const string SequenceModelAttribute = "ModelGen.SequenceModelAttribute";

    /// <summary>Module attribute → (kind, the view type the property must have).</summary>
    private static readonly Dictionary<string, (ModuleKind Kind, string View)> Modules = new()
    {
        ["EmbeddingAttribute"] = (ModuleKind.Embedding, "Embedding"),
        ["LstmAttribute"] = (ModuleKind.Lstm, "Lstm"),
        ["GruAttribute"] = (ModuleKind.Gru, "Gru"),
        ["RnnAttribute"] = (ModuleKind.Rnn, "Rnn"),
        ["LinearAttribute"] = (ModuleKind.Linear, "Linear"),
        ["LayerNormAttribute"] = (ModuleKind.LayerNorm, "LayerNorm"),
        ["DropoutAttribute"] = (ModuleKind.Dropout, "Dropout"),
        ["ReLUAttribute"] = (ModuleKind.ReLU, "Activation"),
        ["TanhAttribute"] = (ModuleKind.Tanh, "Activation"),
        ["SigmoidAttribute"] = (ModuleKind.Sigmoid, "Activation"),
        ["GELUAttribute"] = (ModuleKind.GELU, "Activation"),
        ["ReduceAttribute"] = (ModuleKind.Reduce, "Reduction"),
        ["AttentionAttribute"] = (ModuleKind.Attention, "Attention"),
    };

    /// <summary>The largest parameter count and row width of a graph: offsets are ints.</summary>
    private const long MaxFloats = int.MaxValue / 2;

    /// <summary>The view type a module kind's property has, e.g. <c>Linear</c>.</summary>
    public static string ViewType(ModuleKind kind) => Modules.Values.First(m => m.Kind == kind).View;

    /// <summary>The module attribute on a property, if it has one of ModelGen's.</summary>
    public static AttributeData? ModuleAttribute(IPropertySymbol property) =>
        property.GetAttributes().FirstOrDefault(a => a.AttributeClass is { } c && IsModelGen(c) && Modules.ContainsKey(c.Name));

    private static bool IsModelGen(INamedTypeSymbol type) =>
        type.ContainingNamespace is { Name: "ModelGen", ContainingNamespace.IsGlobalNamespace: true };

    public static GraphParseResult Parse(INamedTypeSymbol type, Compilation compilation, CancellationToken cancellation)
    {
        AttributeData? attribute = type.GetAttributes().FirstOrDefault(a =>
            a.AttributeClass is { Name: "SequenceModelAttribute" } c && IsModelGen(c));
        if (attribute is null) return GraphParseResult.None;
        var problems = new List<ModelProblem>();
        bool silentError = false;
        var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellation) as AttributeSyntax;
        TypeDeclarationSyntax? primary = attributeSyntax?.Parent?.Parent as TypeDeclarationSyntax;
        if (primary is null || ModelValidation.IsIncomplete(primary) || type.TypeKind != TypeKind.Class)
        {
            return GraphParseResult.None;
        }
        Location attributeLocation = attributeSyntax!.Name.GetLocation();
        var declarations = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellation)).OfType<TypeDeclarationSyntax>().ToList();
        ModelValidation.CheckDeclaration(type, primary, declarations, problems, ref silentError);
        // Stubs go into another part of the type: only where such a part compiles.
        bool stubsCompile = problems.Count == 0 && !silentError && type.TypeParameters.Length == 0;
        foreach (AttributeData recurrent in type.GetAttributes().Where(a => ModelValidation.CellOf(a.AttributeClass) is not null))
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.DuplicateModelAttribute, attributeLocation,
                type.Name, ModelValidation.ShortName(recurrent.AttributeClass!), "SequenceModel"));
        }
        var stubs = new List<StubProperty>();

        var modules = new List<ModuleSpec>();
        var argumentsOf = new List<Dictionary<string, Location>>();
        var locations = new List<Location>();
        foreach (TypeDeclarationSyntax declaration in declarations)
        {
            foreach (PropertyDeclarationSyntax propertySyntax in declaration.Members.OfType<PropertyDeclarationSyntax>())
            {
                cancellation.ThrowIfCancellationRequested();
                IPropertySymbol? property = type.GetMembers(propertySyntax.Identifier.ValueText).OfType<IPropertySymbol>()
                    .FirstOrDefault(p => p.DeclaringSyntaxReferences.Any(r => r.Span == propertySyntax.Span && r.SyntaxTree == propertySyntax.SyntaxTree)
                        || (p.PartialImplementationPart is null && p.Locations.Any(l => l.SourceSpan == propertySyntax.Identifier.Span && l.SourceTree == propertySyntax.SyntaxTree)));
                if (property is null) continue;
                AttributeData? moduleAttribute = ModuleAttribute(property);
                if (moduleAttribute is null) continue;
                if (Stub(property, propertySyntax) is { } stub) stubs.Add(stub);
                if (declaration != primary)
                {
                    problems.Add(new ModelProblem(DiagnosticDescriptors.GraphWithoutModules, propertySyntax.Identifier.GetLocation(), type.Name,
                        $"must declare its modules in the part that carries the attribute; '{property.Name}' is in another part, where its order is not defined"));
                    continue;
                }
                ModuleSpec? module = ReadModule(property, propertySyntax, moduleAttribute, cancellation, problems, ref silentError, out var arguments);
                if (module is null) continue;
                modules.Add(module);
                argumentsOf.Add(arguments);
                locations.Add(propertySyntax.Identifier.GetLocation());
            }
        }
        if (modules.Count == 0 && problems.Count == 0 && !silentError)
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.GraphWithoutModules, attributeLocation, type.Name,
                "has no modules: declare them as partial properties with module attributes, e.g. [Linear(InFeatures = 8, OutFeatures = 4)] public partial Linear Fc { get; }"));
        }
        int before = problems.Count;
        CheckNames(modules, locations, argumentsOf, problems);
        if (problems.Count == 0 && !silentError) CheckFlow(modules, locations, argumentsOf, problems);
        if (problems.Count == 0 && !silentError && CountFloats(modules) is string overflow)
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.LayoutOverflow, attributeLocation, overflow));
        }
        if (problems.Count > 0 || silentError)
        {
            return new GraphParseResult(null, problems, stubsCompile && stubs.Count > 0 ? new GraphStubs(Target(type), new EquatableArray<StubProperty>([.. stubs])) : null);
        }

        // A type with constructors of its own (a primary one included) keeps them; the generated part adds none.
        bool sharesBuffers = type.InstanceConstructors.All(c => c.IsImplicitlyDeclared
            || c.DeclaringSyntaxReferences.All(r => ModelValidation.IsGeneratedByModelGen(r.SyntaxTree, cancellation)));
        var spec = new GraphSpec(Target(type), new EquatableArray<ModuleSpec>([.. modules]), sharesBuffers);
        ModelValidation.CheckCollisions(type, GeneratedMembers.Of(GraphEmitter.Emit(spec), type.Name, cancellation),
            primary, compilation, problems, cancellation);
        if (problems.Count > 0)
        {
            return new GraphParseResult(null, problems, stubsCompile && stubs.Count > 0 ? new GraphStubs(Target(type), new EquatableArray<StubProperty>([.. stubs])) : null);
        }
        return new GraphParseResult(spec, problems);
    }

    internal static TypeTarget Target(INamedTypeSymbol type)
    {
        var containing = new List<ContainingType>();
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            containing.Insert(0, new ContainingType(ModelValidation.Keyword(outer), ModelValidation.NameWithTypeParameters(outer)));
        }
        return new TypeTarget(
            type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : null,
            new EquatableArray<ContainingType>([.. containing]),
            ModelValidation.Keyword(type),
            ModelValidation.Identifier(type.Name),
            ModelValidation.MetadataName(type));
    }

    /// <summary>
    /// The implementing part a partial module property of an invalid graph needs, so that the compiler's CS9248
    /// (a declaration error, which stops a command-line build before any analyzer runs) does not hide the graph's
    /// MG diagnostics; null when the property is not a partial definition or has an implementation already.
    /// </summary>
    private static StubProperty? Stub(IPropertySymbol property, PropertyDeclarationSyntax syntax)
    {
        if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword) || property.PartialImplementationPart is not null
            || property.IsPartialDefinition is false || property.Type is IErrorTypeSymbol
            || syntax.AccessorList is null || syntax.AccessorList.Accessors.Any(a => a.Body is not null || a.ExpressionBody is not null))
        {
            return null;
        }
        string modifiers = string.Join(" ", syntax.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(m => m.Text));
        string[] accessors = [.. syntax.AccessorList.Accessors.Select(a =>
            (a.Modifiers.Count > 0 ? string.Join(" ", a.Modifiers.Select(m => m.Text)) + " " : "") + a.Keyword.Text)];
        return new StubProperty(modifiers, property.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            ModelValidation.Identifier(property.Name), new EquatableArray<string>(accessors));
    }

    private static ModuleSpec? ReadModule(IPropertySymbol property, PropertyDeclarationSyntax syntax, AttributeData attribute,
        CancellationToken cancellation, List<ModelProblem> problems, ref bool silentError, out Dictionary<string, Location> written)
    {
        (ModuleKind kind, string view) = Modules[attribute.AttributeClass!.Name];
        string attributeName = ModelValidation.ShortName(attribute.AttributeClass!);
        var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellation) as AttributeSyntax;
        Location attributeLocation = attributeSyntax?.Name.GetLocation() ?? syntax.Identifier.GetLocation();
        written = new Dictionary<string, Location>();
        foreach (AttributeArgumentSyntax argument in attributeSyntax?.ArgumentList?.Arguments ?? default)
        {
            written[argument.NameEquals?.Name.Identifier.ValueText ?? "(" + written.Count.ToString(CultureInfo.InvariantCulture) + ")"] = argument.GetLocation();
        }
        var where = written;
        Location LocationOf(string name) => where.TryGetValue(name, out Location? location) ? location : attributeLocation;

        // The declaration: a partial, get-only instance property of the module's view type.
        string? shapeProblem =
            !syntax.Modifiers.Any(SyntaxKind.PartialKeyword) ? "it is not partial"
            : property.IsStatic ? "it is static"
            : syntax.Modifiers.FirstOrDefault(m => m.Kind() is SyntaxKind.VirtualKeyword or SyntaxKind.OverrideKeyword or SyntaxKind.SealedKeyword
                or SyntaxKind.NewKeyword or SyntaxKind.AbstractKeyword or SyntaxKind.ExternKeyword or SyntaxKind.RequiredKeyword) is { RawKind: not 0 } modifier
                ? $"it is {modifier.Text}, but a module belongs to this class alone"
            : property.SetMethod is not null || property.GetMethod is null ? "it must have a get accessor only"
            : property.Type is not INamedTypeSymbol { Name: var typeName } propertyType || typeName != view || !IsModelGen(propertyType)
                ? $"its type is {property.Type.ToDisplayString()}, not ModelGen.{view}"
            : null;
        if (property.Type is IErrorTypeSymbol || attribute.AttributeClass is IErrorTypeSymbol)
        {
            silentError = true;
            return null;
        }
        if (shapeProblem is not null)
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.ModulePropertyInvalid, syntax.Identifier.GetLocation(),
                property.Name, attributeName, view, shapeProblem));
            return null;
        }

        var values = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            if (argument.Value.Kind == TypedConstantKind.Error) silentError = true;
            values[argument.Key] = argument.Value.Value;
        }
        if (attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)) silentError = true;
        int Int(string name, int fallback) => values.TryGetValue(name, out object? v) && v is int i ? i : fallback;
        bool Bool(string name, bool fallback) => values.TryGetValue(name, out object? v) && v is bool b ? b : fallback;
        int before = problems.Count;
        int Required(string name)
        {
            if (!values.ContainsKey(name))
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.RequiredSizeMissing, attributeLocation, attributeName, name,
                    $"set it on '{property.Name}', e.g. [{attributeName}({name} = 16, …)]"));
                return 0;
            }
            int value = Int(name, 0);
            if (value < 1) problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange, LocationOf(name), name, "at least 1", Lit(value)));
            return value;
        }

        string accessibility = SyntaxFacts.GetText(property.DeclaredAccessibility);
        string name = values.TryGetValue("Name", out object? explicitName) && explicitName is string n ? n : SnakeCase(property.Name);
        string propertyName = ModelValidation.Identifier(property.Name);
        ModuleSpec? module;
        switch (kind)
        {
            case ModuleKind.Embedding:
            {
                int count = Required("NumEmbeddings"), dim = Required("EmbeddingDim");
                int padding = -1;
                if (values.ContainsKey("PaddingIdx"))
                {
                    int raw = Int("PaddingIdx", 0);
                    if (count > 0 && (raw < -count || raw >= count))
                    {
                        problems.Add(new ModelProblem(DiagnosticDescriptors.PaddingIdxOutOfRange, LocationOf("PaddingIdx"), Lit(count), Lit(raw)));
                    }
                    padding = raw < 0 ? raw + count : raw;
                }
                module = new EmbeddingModule(propertyName, accessibility, name, count, dim, padding);
                break;
            }
            case ModuleKind.Lstm or ModuleKind.Gru or ModuleKind.Rnn:
            {
                int input = Required("InputSize"), hidden = Required("HiddenSize");
                int layers = Int("NumLayers", 1);
                if (layers < 1 || layers > ModelValidation.MaxLayers)
                {
                    problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange, LocationOf("NumLayers"), "NumLayers",
                        "between 1 and " + Lit(ModelValidation.MaxLayers), Lit(layers)));
                }
                float dropout = values.TryGetValue("Dropout", out object? d) && d is float f ? f : 0f;
                if (!(dropout >= 0 && dropout < 1))
                {
                    problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange, LocationOf("Dropout"), "Dropout", "in [0, 1)",
                        dropout.ToString("R", CultureInfo.InvariantCulture)));
                }
                int proj = Int("ProjSize", 0);
                if (proj != 0 && (proj < 1 || proj >= hidden))
                {
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ProjSizeOutOfRange, LocationOf("ProjSize"), Lit(proj), Lit(hidden - 1)));
                }
                int nonlinearity = Int("Nonlinearity", 0);
                if (nonlinearity is not (0 or 1))
                {
                    problems.Add(new ModelProblem(DiagnosticDescriptors.InvalidNonlinearity, LocationOf("Nonlinearity"), "(RnnNonlinearity)" + Lit(nonlinearity)));
                }
                module = new RecurrentModule(kind, propertyName, accessibility, name, input, hidden, layers, Bool("Bias", true),
                    Bool("Bidirectional", false), dropout, proj, nonlinearity == 1);
                break;
            }
            case ModuleKind.Linear:
                module = new LinearModule(propertyName, accessibility, name, Required("InFeatures"), Required("OutFeatures"), Bool("Bias", true));
                break;
            case ModuleKind.LayerNorm:
            {
                int shape = Required("NormalizedShape");
                double eps = values.TryGetValue("Eps", out object? e) && e is double v ? v : 1e-5;
                if (!(eps > 0 && eps < 1))
                {
                    problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange, LocationOf("Eps"), "Eps", "above 0 and below 1",
                        eps.ToString("R", CultureInfo.InvariantCulture)));
                }
                bool affine = Bool("ElementwiseAffine", true);
                module = new LayerNormModule(propertyName, accessibility, name, shape, eps, affine, affine && Bool("Bias", true));
                break;
            }
            case ModuleKind.Dropout:
            {
                float p = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is float value ? value : 0.5f;
                if (!(p >= 0 && p < 1))
                {
                    problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange, written.Count > 0 ? written.Values.First() : attributeLocation,
                        "p", "in [0, 1)", p.ToString("R", CultureInfo.InvariantCulture)));
                }
                module = new DropoutModule(propertyName, accessibility, name, p);
                break;
            }
            case ModuleKind.Reduce:
            {
                int mode = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int m ? m : -1;
                if (mode is < 0 or > 3)
                {
                    if (attribute.ConstructorArguments.Length == 1)
                    {
                        problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange, written.Count > 0 ? written.Values.First() : attributeLocation,
                            "mode", "a defined ReduceMode", "(ReduceMode)" + Lit(mode)));
                    }
                    else silentError = true;
                }
                module = new ReduceModule(propertyName, accessibility, name, (ReduceMode)mode);
                break;
            }
            case ModuleKind.Attention:
            {
                int score = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int sc ? sc : -1;
                if (score is < 0 or > 2)
                {
                    if (attribute.ConstructorArguments.Length == 1)
                    {
                        problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange, written.Count > 0 ? written.Values.First() : attributeLocation,
                            "score", "a defined AttentionScore", "(AttentionScore)" + Lit(score)));
                    }
                    else silentError = true;
                }
                int keys = Required("KeySize");
                int attentionSize = 0;
                if (score == (int)AttentionScore.Additive) attentionSize = Required("AttentionSize");
                else if (values.ContainsKey("AttentionSize"))
                {
                    problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange, LocationOf("AttentionSize"), "AttentionSize",
                        "unset: only AttentionScore.Additive has a hidden layer", Lit(Int("AttentionSize", 0))));
                }
                module = new AttentionModule(propertyName, accessibility, name, (AttentionScore)score, keys, attentionSize);
                break;
            }
            default:
                module = new ActivationModule(kind, propertyName, accessibility, name);
                break;
        }
        return problems.Count == before ? module : null;
    }

    private static void CheckNames(List<ModuleSpec> modules, List<Location> locations, List<Dictionary<string, Location>> arguments,
        List<ModelProblem> problems)
    {
        var seen = new Dictionary<string, ModuleSpec>();
        for (int i = 0; i < modules.Count; i++)
        {
            ModuleSpec module = modules[i];
            Location where = arguments[i].TryGetValue("Name", out Location? l) ? l : locations[i];
            string? invalid = module.Name.Length == 0 ? "it is empty"
                : module.Name.StartsWith(".", System.StringComparison.Ordinal) || module.Name.EndsWith(".", System.StringComparison.Ordinal) || module.Name.Contains("..")
                    ? "a name cannot start or end with a dot or have an empty part"
                : module.Name.Any(c => !(c == '.' || c == '_' || (c < 128 && char.IsLetterOrDigit(c))))
                    ? "each part of a name is made of ASCII letters, digits and underscores, as PyTorch's attribute names and nn.Sequential's indices are"
                : null;
            if (invalid is not null)
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleNameCollision, where, module.Property, module.Name, invalid));
                continue;
            }
            ModuleSpec? sameButCase = modules.Take(i).FirstOrDefault(other =>
                string.Equals(other.Property, module.Property, System.StringComparison.OrdinalIgnoreCase) && other.Property != module.Property);
            if (sameButCase is not null)
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleNameCollision, locations[i], module.Property, module.Name,
                    $"'{sameButCase.Property}' differs from it only in case, and the generated names of the two would be the same"));
                continue;
            }
            if (!HasParameters(module)) continue;
            foreach (KeyValuePair<string, ModuleSpec> other in seen)
            {
                bool nested = other.Key.StartsWith(module.Name + ".", System.StringComparison.Ordinal)
                    || module.Name.StartsWith(other.Key + ".", System.StringComparison.Ordinal);
                if (other.Key == module.Name || nested)
                {
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleNameCollision, where, module.Property, module.Name,
                        other.Key == module.Name ? $"'{other.Value.Property}' has that name already" : $"it nests with '{other.Value.Property}' ('{other.Key}'), so their keys would mix"));
                }
            }
            seen[module.Name] = module;
        }
    }

    /// <summary>Whether the module has parameters (and so a <c>state_dict</c> name that must be unique).</summary>
    public static bool HasParameters(ModuleSpec module) =>
        module is EmbeddingModule or RecurrentModule or LinearModule || module is LayerNormModule { Affine: true }
        || module is AttentionModule { Score: not AttentionScore.Dot };

    private static void CheckFlow(List<ModuleSpec> modules, List<Location> locations, List<Dictionary<string, Location>> arguments,
        List<ModelProblem> problems)
    {
        (List<ModuleShape> _, List<FlowProblem> flow) = ShapeFlow.Run(modules);
        foreach (FlowProblem problem in flow)
        {
            ModuleSpec module = modules[problem.Module];
            switch (problem.Kind)
            {
                case FlowProblemKind.InputSizeMismatch:
                {
                    Location where = arguments[problem.Module].TryGetValue(problem.Argument!, out Location? l) ? l : locations[problem.Module];
                    var properties = System.Collections.Immutable.ImmutableDictionary.CreateRange(new Dictionary<string, string?>
                    {
                        ["Argument"] = problem.Argument,
                        ["Expected"] = Lit(problem.Expected),
                    });
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleInputMismatch, where, problem.Argument!, module.Property,
                        Lit(problem.Expected), modules[problem.Module - 1].Property, Lit(problem.Actual)) { Properties = properties });
                    break;
                }
                case FlowProblemKind.EmbeddingNotFirst:
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleMisplaced, locations[problem.Module], module.Property,
                        "an Embedding reads token ids, which only the graph's input has, so it must be the first module"));
                    break;
                case FlowProblemKind.ReduceWithoutRecurrent:
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleMisplaced, locations[problem.Module], module.Property,
                        "a reduction over time needs a recurrent module (Lstm, Gru or Rnn) before it"));
                    break;
                case FlowProblemKind.FinalHiddenNotAfterRecurrent:
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleMisplaced, locations[problem.Module], module.Property,
                        "ReduceMode.FinalHidden reads the final hidden state h_n of the recurrent module right before it; put it directly after the Lstm, Gru or Rnn"));
                    break;
                case FlowProblemKind.AfterReduce:
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleMisplaced, locations[problem.Module], module.Property,
                        "it needs steps, but the reduction before it has already reduced them to one row per sequence"));
                    break;
                case FlowProblemKind.AttentionWithoutQuery:
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleMisplaced, locations[problem.Module], module.Property,
                        "attention takes its query from a recurrent module: put it after the Lstm, Gru or Rnn (Luong: the query is the step's output) or directly before it (Bahdanau: the query is the hidden state before the step)"));
                    break;
                case FlowProblemKind.SecondAttention:
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleMisplaced, locations[problem.Module], module.Property,
                        "a graph attends to its memory once; it already has an attention module"));
                    break;
                case FlowProblemKind.AttentionOnBidirectional:
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleMisplaced, locations[problem.Module], module.Property,
                        "its query would come from a bidirectional recurrent module, and a decoder runs one step at a time; make that module unidirectional"));
                    break;
                case FlowProblemKind.DotSizeMismatch:
                    problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange,
                        arguments[problem.Module].TryGetValue("KeySize", out Location? keys) ? keys : locations[problem.Module], "KeySize",
                        $"{Lit(problem.Expected)}, the features of the query: dot attention scores q · k (General or Additive score keys of another size)",
                        Lit(problem.Actual)));
                    break;
                case FlowProblemKind.NoInputSize:
                    problems.Add(new ModelProblem(DiagnosticDescriptors.ModuleMisplaced, locations[problem.Module], module.Property,
                        "the first module must say what the graph reads: an Embedding (token ids), a recurrent module (InputSize), a Linear (InFeatures) or a LayerNorm"));
                    break;
            }
        }
    }

    /// <summary>Null when the graph's parameters and rows fit int offsets; else what does not.</summary>
    private static string? CountFloats(List<ModuleSpec> modules)
    {
        double parameters = 0, widest = 0;
        foreach (ModuleSpec module in modules)
        {
            switch (module)
            {
                case EmbeddingModule e: parameters += (double)e.NumEmbeddings * e.EmbeddingDim; widest = System.Math.Max(widest, e.EmbeddingDim); break;
                case RecurrentModule r:
                    parameters += ModelValidation.ParameterCount(r.Cell, r.InputSize, r.HiddenSize, r.NumLayers, r.Bias, r.Bidirectional, r.ProjSize, 0);
                    widest = System.Math.Max(widest, 4.0 * r.HiddenSize * r.StateLayers);
                    break;
                case LinearModule l: parameters += (double)l.OutFeatures * (l.InFeatures + 1); widest = System.Math.Max(widest, l.OutFeatures); break;
                case LayerNormModule n: parameters += 2.0 * n.NormalizedShape; break;
                case AttentionModule a: parameters += (double)a.KeySize * (a.KeySize + a.AttentionSize + 2) + 2.0 * a.AttentionSize; widest = System.Math.Max(widest, a.KeySize); break;
            }
        }
        if (parameters > MaxFloats) return $"{parameters:0} parameters, more than {MaxFloats}";
        return widest > ModelValidation.MaxWorkspaceRow ? $"a row of {widest:0} floats, more than {ModelValidation.MaxWorkspaceRow}" : null;
    }

    /// <summary>PyTorch's attribute spelling of a property name: <c>OutputHead</c> → <c>output_head</c>, <c>Fc1</c> → <c>fc1</c>, <c>LSTMLayer</c> → <c>lstm_layer</c>.</summary>
    public static string SnakeCase(string name)
    {
        var text = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool upper = char.IsUpper(c);
            bool boundary = upper && i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1])
                || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
            if (boundary && text.Length > 0 && text[text.Length - 1] != '_') text.Append('_');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }

    private static string Lit(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// A parse result: the spec (null when anything is wrong), the problems to report, and for an invalid graph
/// the stubs that keep its partial module properties compiling (see <see cref="GraphStubs"/>).
/// </summary>
internal sealed class GraphParseResult(GraphSpec? spec, IReadOnlyList<ModelProblem> problems, GraphStubs? stubs = null)
{
    public static readonly GraphParseResult None = new(null, []);

    public GraphSpec? Spec { get; } = spec;

    public IReadOnlyList<ModelProblem> Problems { get; } = problems;

    public GraphStubs? Stubs { get; } = stubs;

    /// <summary>What the generator writes: the model, or the stubs of an invalid one, or nothing.</summary>
    public GraphOutput? Output => Spec is not null ? new GraphOutput(Spec, null) : Stubs is not null ? new GraphOutput(null, Stubs) : null;
}
