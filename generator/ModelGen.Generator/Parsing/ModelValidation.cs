using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;

namespace ModelGen.Generator.Parsing;

/// <summary>One thing wrong with a model declaration: a diagnostic to report, already located.</summary>
internal sealed class ModelProblem(DiagnosticDescriptor descriptor, Location location, params object[] arguments)
{
    public DiagnosticDescriptor Descriptor { get; } = descriptor;

    /// <summary>
    /// The type whose declaration holds <see cref="Location"/>, when it is not the model type itself (a containing
    /// type that must be partial): an analyzer reports the problem while analysing that type, so that the
    /// diagnostic stays local to the symbol it is reported for.
    /// </summary>
    public INamedTypeSymbol? Owner { get; init; }

    public Location Location { get; } = location;

    public object[] Arguments { get; } = arguments;

    /// <summary>What a code fix needs to know, e.g. the value an argument should have.</summary>
    public ImmutableDictionary<string, string?>? Properties { get; init; }

    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, Properties, Arguments);

    public override string ToString() => ToDiagnostic().ToString();
}

/// <summary>What <see cref="ModelValidation.Validate"/> found: the spec to generate, or the reasons there is none.</summary>
internal sealed class ModelValidationResult(ModelSpec? spec, IReadOnlyList<ModelProblem> problems)
{
    public static readonly ModelValidationResult NotAModel = new(null, []);

    /// <summary>The model to generate; null when anything is wrong, reported or not.</summary>
    public ModelSpec? Spec { get; } = spec;

    /// <summary>The problems ModelGen reports. Errors the compiler reports itself (an unknown constant, a wrong
    /// attribute target) are not repeated here, but they leave <see cref="Spec"/> null all the same.</summary>
    public IReadOnlyList<ModelProblem> Problems { get; } = problems;
}

/// <summary>
/// The one place that decides whether a model declaration can be generated. The generator's parser emits the
/// spec only when this finds nothing wrong, and the declaration analyzer reports what it finds, so every ModelGen
/// declaration either compiles cleanly or fails with a ModelGen diagnostic at the user's code, never with a
/// compiler error inside generated code.
/// </summary>
internal static class ModelValidation
{
    public const string LstmAttribute = "ModelGen.LstmModelAttribute";
    public const string GruAttribute = "ModelGen.GruModelAttribute";
    public const string RnnAttribute = "ModelGen.RnnModelAttribute";

    /// <summary>Most stacked layers a model may have: the runtime's state and workspace rows grow with the layers.</summary>
    public const int MaxLayers = 1024;

    /// <summary>Most floats in one workspace row, so that a batch of 1024 rows still fits int offsets.</summary>
    public const long MaxWorkspaceRow = int.MaxValue / 1024;

    /// <summary>The cell of a ModelGen model attribute class, or null for any other class.</summary>
    public static CellKind? CellOf(INamedTypeSymbol? attributeClass)
    {
        if (attributeClass is null
            || attributeClass.ContainingNamespace is not { Name: "ModelGen", ContainingNamespace.IsGlobalNamespace: true })
        {
            return null;
        }
        return attributeClass.Name switch
        {
            "LstmModelAttribute" => CellKind.Lstm,
            "GruModelAttribute" => CellKind.Gru,
            "RnnModelAttribute" => CellKind.Rnn,
            _ => null,
        };
    }

    /// <summary>Checks everything about a type that carries a model attribute; <see cref="ModelValidationResult.NotAModel"/> when it carries none.</summary>
    public static ModelValidationResult Validate(INamedTypeSymbol type, Compilation compilation, CancellationToken cancellation)
    {
        var modelAttributes = new List<AttributeData>();
        foreach (AttributeData candidate in type.GetAttributes())
        {
            if (CellOf(candidate.AttributeClass) is not null) modelAttributes.Add(candidate);
        }
        if (modelAttributes.Count == 0) return ModelValidationResult.NotAModel;
        cancellation.ThrowIfCancellationRequested();

        var problems = new List<ModelProblem>();
        // Set when something is wrong that the compiler reports itself: nothing is generated, nothing repeated.
        bool silentError = false;

        AttributeData attribute = modelAttributes[0];
        CellKind cell = CellOf(attribute.AttributeClass)!.Value;
        string attributeName = ShortName(attribute.AttributeClass!);
        AttributeSyntax? attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellation) as AttributeSyntax;
        Location attributeLocation = attributeSyntax?.Name.GetLocation() ?? FirstLocation(type);
        TypeDeclarationSyntax? primary = attributeSyntax?.Parent?.Parent as TypeDeclarationSyntax;
        // Half-typed code: the compiler reports the syntax error, and names or values read from it are not final.
        if (primary is not null && IsIncomplete(primary)) return ModelValidationResult.NotAModel;

        foreach (AttributeData duplicate in modelAttributes.Skip(1))
        {
            Location where = duplicate.ApplicationSyntaxReference?.GetSyntax(cancellation).GetLocation() ?? FirstLocation(type);
            problems.Add(new ModelProblem(DiagnosticDescriptors.DuplicateModelAttribute, where,
                type.Name, attributeName, ShortName(duplicate.AttributeClass!)));
        }

        // The attribute's targets are classes; the compiler rejects it on anything else (CS0592).
        if (type.TypeKind != TypeKind.Class) return new ModelValidationResult(null, problems);

        var declarations = new List<TypeDeclarationSyntax>();
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellation) is TypeDeclarationSyntax declaration) declarations.Add(declaration);
        }
        primary ??= declarations.FirstOrDefault();
        if (primary is null) return new ModelValidationResult(null, problems);

        CheckDeclaration(type, primary, declarations, problems, ref silentError);
        if (primary.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: < LanguageVersion.CSharp11 } options)
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.LanguageVersionTooLow, attributeLocation,
                options.LanguageVersion.ToDisplayString()));
        }

        ModelSpec? spec = ReadArguments(type, primary, cell, attribute, attributeSyntax, attributeName, attributeLocation,
            problems, ref silentError);
        if (spec is not null)
        {
            CheckCollisions(type, GeneratedMembers.Of(Emitter.Emit(spec), type.Name, cancellation), primary, compilation, problems, cancellation);
        }
        return problems.Count == 0 && !silentError ? new ModelValidationResult(spec, problems) : new ModelValidationResult(null, problems);
    }

    internal static void CheckDeclaration(INamedTypeSymbol type, TypeDeclarationSyntax primary,
        List<TypeDeclarationSyntax> declarations, List<ModelProblem> problems, ref bool silentError)
    {
        foreach (TypeDeclarationSyntax declaration in declarations)
        {
            if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.TypeNotPartial, declaration.Identifier.GetLocation(), type.Name));
            }
            if (declaration.Modifiers.Any(SyntaxKind.StaticKeyword))
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.TypeStatic, declaration.Identifier.GetLocation(), type.Name));
            }
        }
        if (type.TypeParameters.Length > 0)
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.TypeGeneric, primary.Identifier.GetLocation(), type.Name));
        }
        if (type.IsFileLocal)
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.FileLocalType, primary.Identifier.GetLocation(), type.Name));
        }
        if (HasMisplacedAccessibility(type)) silentError = true;

        // The containing types, innermost first, beside the declarations that contain the model's.
        SyntaxNode? syntax = primary.Parent;
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            while (syntax is not null and not TypeDeclarationSyntax) syntax = syntax.Parent;
            if (syntax is not TypeDeclarationSyntax outerDeclaration)
            {
                silentError = true;
                return;
            }
            syntax = outerDeclaration.Parent;
            if (!outerDeclaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.ContainingTypeNotPartial,
                    outerDeclaration.Identifier.GetLocation(), outer.Name, type.Name) { Owner = outer });
            }
            else if (!IsPartial(outer))
            {
                // Another part of the containing type lacks 'partial': the compiler reports it (CS0260).
                silentError = true;
            }
            if (outer.IsFileLocal)
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.FileLocalType, outerDeclaration.Identifier.GetLocation(), outer.Name) { Owner = outer });
            }
            if (outer.TypeKind != TypeKind.Interface && outer.TypeParameters.Any(p => p.Variance != VarianceKind.None))
            {
                // Variance outside an interface (CS1960): the generated declaration would repeat the error.
                silentError = true;
            }
            if (HasMisplacedAccessibility(outer)) silentError = true;
        }
    }

    private static ModelSpec? ReadArguments(INamedTypeSymbol type, TypeDeclarationSyntax primary, CellKind cell,
        AttributeData attribute, AttributeSyntax? attributeSyntax, string attributeName, Location attributeLocation,
        List<ModelProblem> problems, ref bool silentError)
    {
        if (attribute.AttributeClass is IErrorTypeSymbol || attribute.ConstructorArguments.Length != 0)
        {
            silentError = true;
            return null;
        }

        // Where each named argument is written, to point at it.
        var written = new Dictionary<string, AttributeArgumentSyntax>();
        foreach (AttributeArgumentSyntax argument in attributeSyntax?.ArgumentList?.Arguments ?? default)
        {
            if (argument.NameEquals is { } nameEquals)
            {
                written[nameEquals.Name.Identifier.ValueText] = argument;
            }
            else
            {
                // A positional argument: there is no such constructor (CS1729); nothing more to say.
                silentError = true;
                return null;
            }
        }
        Location LocationOf(string name) => written.TryGetValue(name, out AttributeArgumentSyntax? argument)
            ? argument.GetLocation()
            : attributeLocation;

        int inputSize = 0, hiddenSize = 0, numLayers = 1, projSize = 0, outputSize = 0, nonlinearity = 0;
        bool bias = true, bidirectional = false;
        // Arguments with a value, and arguments the compiler knows but could not evaluate (it reports those).
        var bound = new HashSet<string>();
        var present = new HashSet<string>(written.Keys);
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            present.Add(argument.Key);
            object? value = argument.Value.Kind == TypedConstantKind.Error ? null : argument.Value.Value;
            switch (argument.Key)
            {
                case "InputSize" when value is int v: inputSize = v; break;
                case "HiddenSize" when value is int v: hiddenSize = v; break;
                case "NumLayers" when value is int v: numLayers = v; break;
                case "ProjSize" when value is int v: projSize = v; break;
                case "OutputSize" when value is int v: outputSize = v; break;
                case "Nonlinearity" when value is int v: nonlinearity = v; break;
                case "Bias" when value is bool v: bias = v; break;
                case "Bidirectional" when value is bool v: bidirectional = v; break;
                default: silentError = true; continue; // An argument the compiler could not bind.
            }
            bound.Add(argument.Key);
        }

        int before = problems.Count;
        foreach (string name in present.OrderBy(name => LocationOf(name).SourceSpan.Start).ThenBy(name => name, System.StringComparer.Ordinal))
        {
            // An option of another cell. Every attribute declares the options of all cells (hidden, "not an option
            // of this cell"), so the compiler binds it and this is the one error a command-line build reports; an
            // older runtime without them leaves it unbound, with the compiler's CS0246 beside this.
            string? reason = name switch
            {
                "ProjSize" when cell != CellKind.Lstm => "only an LSTM has a projection (use [LstmModel] or remove it)",
                "Nonlinearity" when cell != CellKind.Rnn => "only an Elman RNN has a choice of non-linearity (use [RnnModel] or remove it)",
                _ => null,
            };
            if (reason is not null)
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.OptionNotOnCell, LocationOf(name), name, attributeName, reason));
                bound.Remove(name);   // its value is not checked (MG0003, MG0005): the option itself is the mistake
            }
            else if (!bound.Contains(name) && !attribute.NamedArguments.Any(a => a.Key == name))
            {
                silentError = true;   // written but not bound: a name the attribute does not have (CS0246)
            }
        }

        void Required(string name, string meaning)
        {
            if (!present.Contains(name))
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.RequiredSizeMissing, attributeLocation, attributeName, name, meaning));
            }
        }
        Required("InputSize", "the number of features per time step, PyTorch's input_size");
        Required("HiddenSize", "the number of features of the hidden state, PyTorch's hidden_size");

        void Range(string name, int value, bool valid, string expected)
        {
            if (bound.Contains(name) && !valid)
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.SizeOutOfRange, LocationOf(name), name, expected, Lit(value)));
            }
        }
        Range("InputSize", inputSize, inputSize >= 1, "at least 1");
        Range("HiddenSize", hiddenSize, hiddenSize >= 1, "at least 1");
        Range("NumLayers", numLayers, numLayers is >= 1 and <= MaxLayers, "between 1 and " + Lit(MaxLayers));
        Range("OutputSize", outputSize, outputSize >= 0, "0 (no head) or more");
        if (bound.Contains("ProjSize") && (projSize < 0 || (projSize > 0 && hiddenSize >= 1 && projSize >= hiddenSize)))
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.ProjSizeOutOfRange, LocationOf("ProjSize"),
                Lit(projSize), Lit(System.Math.Max(hiddenSize - 1, 0))));
        }
        if (bound.Contains("Nonlinearity") && nonlinearity is not (0 or 1))
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.InvalidNonlinearity, LocationOf("Nonlinearity"),
                "(RnnNonlinearity)" + Lit(nonlinearity)));
        }
        if (problems.Count != before || silentError || !bound.Contains("InputSize") || !bound.Contains("HiddenSize")) return null;

        // Checked before any layout is built: a huge NumLayers must not make the generator build a huge table.
        string? overflow = Overflow(cell, inputSize, hiddenSize, numLayers, bias, bidirectional, projSize, outputSize);
        if (overflow is not null)
        {
            // Point at the largest size: it is the one to shrink.
            string culprit = new[] { "HiddenSize", "InputSize", "OutputSize", "ProjSize", "NumLayers" }
                .Where(written.ContainsKey)
                .OrderByDescending(name => name switch
                {
                    "HiddenSize" => hiddenSize,
                    "InputSize" => inputSize,
                    "OutputSize" => outputSize,
                    "ProjSize" => projSize,
                    _ => numLayers,
                })
                .FirstOrDefault() ?? "HiddenSize";
            problems.Add(new ModelProblem(DiagnosticDescriptors.LayoutOverflow, LocationOf(culprit), overflow));
            return null;
        }

        var containing = new List<ContainingType>();
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            containing.Insert(0, new ContainingType(Keyword(outer), NameWithTypeParameters(outer)));
        }
        return new ModelSpec(
            type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : null,
            new EquatableArray<ContainingType>([.. containing]),
            Keyword(type),
            Identifier(type.Name),
            MetadataName(type),
            attribute.AttributeClass!.Name,
            cell, inputSize, hiddenSize, numLayers, bias, bidirectional, projSize, nonlinearity == 1, outputSize);
    }

    /// <summary>
    /// Whether the declaration, or a type or namespace around it, has a syntax error in what the generated code
    /// would repeat or depend on: its attribute lists, keyword, name and type parameters, the names of the
    /// namespaces. Errors in member bodies do not count: typing inside the class keeps its generated members.
    /// </summary>
    internal static bool IsIncomplete(TypeDeclarationSyntax declaration)
    {
        foreach (AttributeListSyntax list in declaration.AttributeLists)
        {
            if (HasSyntaxError(list.GetDiagnostics())) return true;
        }
        for (SyntaxNode? node = declaration; node is not null and not CompilationUnitSyntax; node = node.Parent)
        {
            switch (node)
            {
                case TypeDeclarationSyntax type:
                    if (type.Keyword.IsMissing || type.Identifier.IsMissing
                        || HasSyntaxError(type.Identifier.GetDiagnostics())
                        || (type.TypeParameterList is { } parameters && HasSyntaxError(parameters.GetDiagnostics())))
                    {
                        return true;
                    }
                    break;
                case BaseNamespaceDeclarationSyntax ns:
                    if (HasSyntaxError(ns.Name.GetDiagnostics())) return true;
                    break;
                default:
                    // A type inside a member or statement: only recovery from a syntax error puts it there.
                    return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether syntax diagnostics include an error (Roslyn enumerates none for syntax without diagnostics, so this
    /// costs nothing on complete code). Warnings do not count, such as a badly formed documentation comment in
    /// the leading trivia of the attribute list (CS1570).
    /// </summary>
    private static bool HasSyntaxError(IEnumerable<Diagnostic> diagnostics) =>
        diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>
    /// Whether the type's accessibility is one its place does not allow: not public or internal in a namespace
    /// (CS1527), protected in a struct (CS0666). The compiler reports it, and keeps the accessibility, which makes
    /// the generated members inconsistently accessible (CS0052) in generated code.
    /// </summary>
    private static bool HasMisplacedAccessibility(INamedTypeSymbol type) => type.ContainingType switch
    {
        null => type.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal),
        { TypeKind: TypeKind.Struct } => type.DeclaredAccessibility
            is Accessibility.Protected or Accessibility.ProtectedOrInternal or Accessibility.ProtectedAndInternal,
        _ => false,
    };

    /// <summary>The type's metadata name, e.g. <c>Demo.Outer`1+Model</c>.</summary>
    internal static string MetadataName(INamedTypeSymbol type)
    {
        string name = type.MetadataName;
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            name = outer.MetadataName + "+" + name;
        }
        for (INamespaceSymbol? ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
        {
            name = ns.MetadataName + "." + name;
        }
        return name;
    }

    /// <summary>Why the layout would not fit int offsets, or null when it fits.</summary>
    public static string? Overflow(CellKind cell, int inputSize, int hiddenSize, int numLayers, bool bias,
        bool bidirectional, int projSize, int outputSize)
    {
        double parameters = ParameterCount(cell, inputSize, hiddenSize, numLayers, bias, bidirectional, projSize, outputSize);
        if (parameters > int.MaxValue)
        {
            return $"its parameters would take {parameters:0} floats, more than int.MaxValue = {int.MaxValue}";
        }
        double widestRow = System.Math.Max(ModelGeometry.GateCountOf(cell) * (double)hiddenSize, (bidirectional ? 2.0 : 1.0) * (projSize > 0 ? projSize : hiddenSize));
        if (widestRow > MaxWorkspaceRow)
        {
            return $"a workspace row would take {widestRow:0} floats, more than {MaxWorkspaceRow} (int.MaxValue / 1024)";
        }
        return null;
    }

    /// <summary>
    /// <see cref="ModelGeometry.ParameterCount"/> without building the layout, in doubles: exact far beyond
    /// int, and cheap for any sizes (the layout of a billion layers would not be).
    /// </summary>
    public static double ParameterCount(CellKind cell, int inputSize, int hiddenSize, int numLayers, bool bias,
        bool bidirectional, int projSize, int outputSize)
    {
        double gates = ModelGeometry.GateCountOf(cell), hidden = hiddenSize, directions = bidirectional ? 2 : 1;
        double state = projSize > 0 ? projSize : hiddenSize;
        double features = directions * state;
        double PerDirection(double input) =>
            (gates * hidden * input) + (gates * hidden * state) + (bias ? 2 * gates * hidden : 0) + (projSize > 0 ? projSize * hidden : 0);
        return (directions * (PerDirection(inputSize) + ((numLayers - 1) * PerDirection(features))))
            + (outputSize > 0 ? (outputSize * features) + outputSize : 0);
    }

    /// <summary>
    /// Reports the user's members that collide with a generated one (MG0012), a type named like a generated member
    /// (MG0014) and inherited members the generated ones would hide (MG0013). <paramref name="members"/> are what
    /// the emitter writes (<see cref="GeneratedMembers.Of"/>).
    /// </summary>
    internal static void CheckCollisions(INamedTypeSymbol type, IEnumerable<GeneratedMember> members, TypeDeclarationSyntax primary,
        Compilation compilation, List<ModelProblem> problems, CancellationToken cancellation)
    {
        var generated = new Dictionary<string, List<GeneratedMember>>();
        foreach (GeneratedMember member in members)
        {
            // An explicit interface implementation neither hides nor blocks a name; implementing the same
            // interface member twice is reported by the compiler at the user's declaration (CS8646).
            if (member.IsExplicitImplementation) continue;
            if (!generated.TryGetValue(member.Name, out List<GeneratedMember>? list)) generated[member.Name] = list = [];
            list.Add(member);
        }

        if (generated.ContainsKey(type.Name))
        {
            problems.Add(new ModelProblem(DiagnosticDescriptors.TypeNameCollision, primary.Identifier.GetLocation(), type.Name));
        }

        var generatedTrees = new Dictionary<SyntaxTree, bool>();
        bool InGeneratedTree(SyntaxReference reference)
        {
            if (!generatedTrees.TryGetValue(reference.SyntaxTree, out bool isGenerated))
            {
                generatedTrees[reference.SyntaxTree] = isGenerated = IsGeneratedByModelGen(reference.SyntaxTree, cancellation);
            }
            return isGenerated;
        }
        foreach (ISymbol member in type.GetMembers())
        {
            if (!generated.TryGetValue(MemberKey(member), out List<GeneratedMember>? candidates)) continue;
            if (member.IsImplicitlyDeclared && member.DeclaringSyntaxReferences.Length == 0) continue;
            // A record's synthesized ToString gives way to the generated override.
            if (member.IsImplicitlyDeclared && candidates.All(candidate => candidate.IsOverride)) continue;
            cancellation.ThrowIfCancellationRequested();
            // Members that ModelGen itself generated (the analyzer sees the generated files) are not the user's.
            if (member.DeclaringSyntaxReferences.Length > 0 && member.DeclaringSyntaxReferences.All(InGeneratedTree))
            {
                continue;
            }
            GeneratedMember? clash = candidates.FirstOrDefault(candidate => Collides(candidate, member));
            if (clash is null) continue;
            Location where = member.Locations.FirstOrDefault(l => l.IsInSource) ?? primary.Identifier.GetLocation();
            problems.Add(new ModelProblem(DiagnosticDescriptors.MemberNameCollision, where, MemberKey(member), clash.ToString(), type.Name));
        }

        // Inherited members that a generated member would hide (CS0108 / CS0114 in generated code otherwise).
        for (INamedTypeSymbol? baseType = type.BaseType;
             baseType is not null && baseType.SpecialType != SpecialType.System_Object;
             baseType = baseType.BaseType)
        {
            var hidden = new List<string>();
            // A base that is itself a model gets the same members; the generator cannot see them yet (they are
            // generated in the same run), so a model base is reported as such.
            if (baseType.GetAttributes().Any(a => CellOf(a.AttributeClass) is not null
                || a.AttributeClass?.ToDisplayString() == GraphParser.SequenceModelAttribute))
            {
                problems.Add(new ModelProblem(DiagnosticDescriptors.InheritedMemberHidden,
                    BaseTypeLocation(type, primary, cancellation) ?? primary.Identifier.GetLocation(),
                    type.Name, "the model members", baseType.ToDisplayString()));
                break;
            }
            foreach (KeyValuePair<string, List<GeneratedMember>> entry in generated)
            {
                foreach (ISymbol inherited in baseType.GetMembers(entry.Key))
                {
                    if (inherited.IsImplicitlyDeclared || inherited is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor }) continue;
                    if (!compilation.IsSymbolAccessibleWithin(inherited, type)) continue;
                    // An override (ToString) hides nothing, unless what it would override is sealed or not virtual.
                    if (entry.Value.Any(candidate => Collides(candidate, inherited)
                        && !(candidate.IsOverride && inherited is IMethodSymbol { IsSealed: false } overridden
                             && (overridden.IsVirtual || overridden.IsOverride || overridden.IsAbstract))))
                    {
                        hidden.Add("'" + inherited.Name + "'");
                        break;
                    }
                }
            }
            if (hidden.Count == 0) continue;
            Location where = BaseTypeLocation(type, primary, cancellation) ?? primary.Identifier.GetLocation();
            hidden.Sort(System.StringComparer.Ordinal);
            problems.Add(new ModelProblem(DiagnosticDescriptors.InheritedMemberHidden, where,
                type.Name, string.Join(", ", hidden), baseType.ToDisplayString()));
        }
    }

    /// <summary>
    /// The name a member is compared by: its name, or for an explicit interface implementation the interface's
    /// full name, a dot and the implemented member's name, however the declaration spells the interface.
    /// </summary>
    public static string MemberKey(ISymbol member)
    {
        ISymbol? implemented = member switch
        {
            IPropertySymbol { ExplicitInterfaceImplementations.Length: > 0 } property => property.ExplicitInterfaceImplementations[0],
            IMethodSymbol { ExplicitInterfaceImplementations.Length: > 0 } method => method.ExplicitInterfaceImplementations[0],
            IEventSymbol { ExplicitInterfaceImplementations.Length: > 0 } @event => @event.ExplicitInterfaceImplementations[0],
            _ => null,
        };
        return implemented is null ? member.Name : implemented.ContainingType.ToDisplayString() + "." + implemented.Name;
    }

    /// <summary>Whether a generated member and another of the same name cannot both exist on the type.</summary>
    private static bool Collides(GeneratedMember generated, ISymbol other)
    {
        if (!generated.IsMethod || other is not IMethodSymbol method) return true;
        if (method.MethodKind is not (MethodKind.Ordinary or MethodKind.ExplicitInterfaceImplementation) || method.TypeParameters.Length > 0) return false;
        string[] types = generated.ParameterTypes!;
        if (method.Parameters.Length != types.Length) return false;
        for (int i = 0; i < types.Length; i++)
        {
            IParameterSymbol parameter = method.Parameters[i];
            if (parameter.RefKind != RefKind.None
                || parameter.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) != types[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The direct base class as written in a base list, where the user would change it.</summary>
    private static Location? BaseTypeLocation(INamedTypeSymbol type, TypeDeclarationSyntax primary, CancellationToken cancellation)
    {
        string? name = type.BaseType?.Name;
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            // The base class, when a part names one, comes first in its base list.
            if (reference.GetSyntax(cancellation) is TypeDeclarationSyntax { BaseList.Types.Count: > 0 } declaration
                && RightmostName(declaration.BaseList.Types[0].Type) == name)
            {
                return declaration.BaseList.Types[0].GetLocation();
            }
        }
        return primary.BaseList?.Types.FirstOrDefault()?.GetLocation();
    }

    private static string? RightmostName(TypeSyntax type) => type switch
    {
        QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
        AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
        SimpleNameSyntax simple => simple.Identifier.ValueText,
        _ => null,
    };

    /// <summary>Whether a tree is a file that ModelGen generated (its second line starts with the marker).</summary>
    public static bool IsGeneratedByModelGen(SyntaxTree tree, CancellationToken cancellation)
    {
        if (!tree.FilePath.EndsWith(".g.cs", System.StringComparison.OrdinalIgnoreCase)) return false;
        SourceText text = tree.GetText(cancellation);
        if (text.Lines.Count < 2) return false;
        TextLine second = text.Lines[1];
        return second.Span.Length >= Emitter.GeneratedMarker.Length
            && text.ToString(new TextSpan(second.Start, Emitter.GeneratedMarker.Length)) == Emitter.GeneratedMarker;
    }

    private static bool IsPartial(INamedTypeSymbol type) =>
        type.DeclaringSyntaxReferences.Length > 0
        && type.DeclaringSyntaxReferences.All(reference =>
            reference.GetSyntax() is TypeDeclarationSyntax declaration
            && declaration.Modifiers.Any(SyntaxKind.PartialKeyword));

    private static Location FirstLocation(ISymbol symbol) => symbol.Locations.FirstOrDefault() ?? Location.None;

    /// <summary><c>LstmModel</c> for <c>LstmModelAttribute</c>: the name as users write it.</summary>
    public static string ShortName(INamedTypeSymbol attributeClass) =>
        attributeClass.Name.EndsWith("Attribute", System.StringComparison.Ordinal)
            ? attributeClass.Name.Substring(0, attributeClass.Name.Length - "Attribute".Length)
            : attributeClass.Name;

    internal static string Keyword(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    /// <summary>The name as a declaration writes it: keywords escaped, type parameters with their variance.</summary>
    internal static string NameWithTypeParameters(INamedTypeSymbol type) =>
        type.TypeParameters.Length == 0
            ? Identifier(type.Name)
            : Identifier(type.Name) + "<" + string.Join(", ", type.TypeParameters.Select(p => p.Variance switch
            {
                VarianceKind.In => "in ",
                VarianceKind.Out => "out ",
                _ => "",
            } + Identifier(p.Name))) + ">";

    /// <summary>An identifier that compiles wherever a name goes: keywords and contextual keywords get an <c>@</c>.</summary>
    public static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None
            ? "@" + name
            : name;

    private static string Lit(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
