using Microsoft.CodeAnalysis;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Diagnostics;

/// <summary>
/// Every diagnostic ModelGen reports. IDs are never reused: a retired rule keeps its number. Each has a help page
/// docs/diagnostics/&lt;ID&gt;.md, named at the end of its description, and an entry in AnalyzerReleases.Unshipped.md
/// (moved to Shipped.md on release).
/// </summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "ModelGen";

    /// <summary>
    /// The folder of the help pages, relative to the repository root (the package carries them at the same path).
    /// No rule has a help link: the project has no public address to point to. Each rule's description ends
    /// with "See docs/diagnostics/&lt;ID&gt;.md." instead.
    /// </summary>
    public const string HelpPageFolder = "docs/diagnostics/";

    public const string RequiredSizeMissingId = "MG0001";
    public const string SizeOutOfRangeId = "MG0002";
    public const string ProjSizeOutOfRangeId = "MG0003";
    public const string OptionNotOnCellId = "MG0004";
    public const string InvalidNonlinearityId = "MG0005";
    public const string LayoutOverflowId = "MG0006";
    public const string TypeNotPartialId = "MG0007";
    public const string TypeStaticId = "MG0008";
    public const string TypeGenericId = "MG0009";
    public const string ContainingTypeNotPartialId = "MG0010";
    public const string DuplicateModelAttributeId = "MG0011";
    public const string MemberNameCollisionId = "MG0012";
    public const string InheritedMemberHiddenId = "MG0013";
    public const string TypeNameCollisionId = "MG0014";
    public const string FileLocalTypeId = "MG0015";
    public const string LanguageVersionTooLowId = "MG0016";
    public const string ShapeMismatchId = "MG0017";
    public const string InvalidBatchSizeId = "MG0018";
    public const string ModuleInputMismatchId = "MG0019";
    public const string ModuleMisplacedId = "MG0020";
    public const string PaddingIdxOutOfRangeId = "MG0021";
    public const string ModuleNameCollisionId = "MG0022";
    public const string ModulePropertyInvalidId = "MG0023";
    public const string GraphWithoutModulesId = "MG0024";
    public const string Seq2SeqPartInvalidId = "MG0025";
    public const string BridgeMismatchId = "MG0026";

    public static readonly DiagnosticDescriptor RequiredSizeMissing = new(
        RequiredSizeMissingId,
        "A required size of the model is missing",
        "[{0}] needs {1}: {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "InputSize and HiddenSize have no default, so every model attribute must set both. See docs/diagnostics/MG0001.md.");

    public static readonly DiagnosticDescriptor SizeOutOfRange = new(
        SizeOutOfRangeId,
        "A size of the model is out of range",
        "{0} must be {1}, but it is {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A size argument (InputSize, HiddenSize, NumLayers or OutputSize) has a value that no model can have. See docs/diagnostics/MG0002.md.");

    public static readonly DiagnosticDescriptor ProjSizeOutOfRange = new(
        ProjSizeOutOfRangeId,
        "ProjSize must be 0 or below HiddenSize",
        "ProjSize must be 0 (no projection) or between 1 and HiddenSize - 1 = {1}, as PyTorch requires, but it is {0}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "As PyTorch's nn.LSTM requires, ProjSize must be 0 (no projection) or between 1 and HiddenSize - 1. See docs/diagnostics/MG0003.md.");

    public static readonly DiagnosticDescriptor OptionNotOnCell = new(
        OptionNotOnCellId,
        "The option does not exist on this cell",
        "{0} is not an option of [{1}]: {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "ProjSize exists only on [LstmModel] and Nonlinearity only on [RnnModel]. See docs/diagnostics/MG0004.md.");

    public static readonly DiagnosticDescriptor InvalidNonlinearity = new(
        InvalidNonlinearityId,
        "Nonlinearity is not a defined value",
        "Nonlinearity must be RnnNonlinearity.Tanh or RnnNonlinearity.Relu, but it is {0}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "Nonlinearity must be RnnNonlinearity.Tanh or RnnNonlinearity.Relu; a cast of another number names no non-linearity. See docs/diagnostics/MG0005.md.");

    public static readonly DiagnosticDescriptor LayoutOverflow = new(
        LayoutOverflowId,
        "The model is too large for the generated layout",
        "The model does not fit the generated layout's int offsets: {0}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "The model's parameter count or one of its workspace rows would not fit the int offsets of the generated layout. See docs/diagnostics/MG0006.md.");

    public static readonly DiagnosticDescriptor TypeNotPartial = new(
        TypeNotPartialId,
        "A model type must be partial",
        "'{0}' must be declared partial for ModelGen to add the model's members",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "ModelGen adds the model's members in a generated part of the class, which C# allows only for a partial type. See docs/diagnostics/MG0007.md.");

    public static readonly DiagnosticDescriptor TypeStatic = new(
        TypeStaticId,
        "A model type must not be static",
        "'{0}' must not be static: a model is an instance that holds its parameters and state",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A model is an instance that holds its parameters, workspace and streaming state, which a static class cannot have. See docs/diagnostics/MG0008.md.");

    public static readonly DiagnosticDescriptor TypeGeneric = new(
        TypeGenericId,
        "A model type must not be generic",
        "'{0}' must not be generic: a model's sizes and members do not depend on type parameters",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A model's sizes and generated members do not depend on type parameters, so a model type cannot be generic. See docs/diagnostics/MG0009.md.");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = new(
        ContainingTypeNotPartialId,
        "A type containing a model must be partial",
        "'{0}' contains the model '{1}' and must be declared partial for ModelGen to add the model's members",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A nested model is generated inside a second part of each containing type, so every containing type must be partial. See docs/diagnostics/MG0010.md.");

    public static readonly DiagnosticDescriptor DuplicateModelAttribute = new(
        DuplicateModelAttributeId,
        "A type can have only one model attribute",
        "'{0}' already has [{1}]; remove [{2}]: a type holds one model",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "Each model attribute generates the same members, so a type can carry only one of [LstmModel], [GruModel] and [RnnModel]. See docs/diagnostics/MG0011.md.");

    public static readonly DiagnosticDescriptor MemberNameCollision = new(
        MemberNameCollisionId,
        "A member collides with a generated member",
        "'{0}' collides with the member '{1}' that ModelGen generates on '{2}'; rename or remove it",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A member declared in the model class has the name of a member that ModelGen generates and is not a legal overload of it. See docs/diagnostics/MG0012.md.");

    public static readonly DiagnosticDescriptor InheritedMemberHidden = new(
        InheritedMemberHiddenId,
        "A generated member would hide an inherited member",
        "The members that ModelGen generates on '{0}' would hide {1} inherited from '{2}'",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "The model class inherits accessible members that the generated members of the same names would hide. See docs/diagnostics/MG0013.md.");

    public static readonly DiagnosticDescriptor TypeNameCollision = new(
        TypeNameCollisionId,
        "The model type has the name of a generated member",
        "A model type cannot be named '{0}': ModelGen generates a member of that name, and members cannot have the name of their type",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "C# forbids a member named like its enclosing type, so a model type cannot have the name of a generated member. See docs/diagnostics/MG0014.md.");

    public static readonly DiagnosticDescriptor FileLocalType = new(
        FileLocalTypeId,
        "A model type cannot be file-local",
        "'{0}' is file-local, but ModelGen adds the model's members in another file; remove the 'file' modifier",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A file-local type exists only in its own file, but ModelGen adds the model's members in a generated file. See docs/diagnostics/MG0015.md.");

    public static readonly DiagnosticDescriptor LanguageVersionTooLow = new(
        LanguageVersionTooLowId,
        "ModelGen requires C# 11 or later",
        "ModelGen generates static abstract interface members, which require C# 11 or later, but the project uses C# {0}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "The generated code implements static abstract interface members, which need C# 11 or later. See docs/diagnostics/MG0016.md.");

    public static readonly DiagnosticDescriptor ShapeMismatch = new(
        ShapeMismatchId,
        "A buffer's length does not fit the parameter's shape",
        "'{0}' of {1} has {2} {5}, but its shape {3} needs {4}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A buffer whose length is a compile-time constant cannot have the [TensorShape] that the generated method's parameter requires. See docs/diagnostics/MG0017.md.");

    public static readonly DiagnosticDescriptor InvalidBatchSize = new(
        InvalidBatchSizeId,
        "The batch size must be at least 1",
        "'{0}' of {1} is the batch size B and must be at least 1, but it is {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A constant batchSize below 1 makes the generated method throw ArgumentOutOfRangeException. See docs/diagnostics/MG0018.md.");

    public static readonly DiagnosticDescriptor ModuleInputMismatch = new(
        ModuleInputMismatchId,
        "A module's input size differs from the features that flow into it",
        "{0} of '{1}' must be {2}, the features per row that '{3}' passes on, but it is {4}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "In a [SequenceModel] graph each module reads what the module before it writes: D*Hout after a recurrent module, the same features after a reduction, out_features after a Linear. See docs/diagnostics/MG0019.md.");

    public static readonly DiagnosticDescriptor ModuleMisplaced = new(
        ModuleMisplacedId,
        "A module cannot come at this place in the graph",
        "'{0}' cannot come here: {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "Token ids exist only at a graph's input, so an Embedding must come first; a reduction needs a recurrent module before it and leaves no steps for another recurrent module or reduction; the first module must state the input size. See docs/diagnostics/MG0020.md.");

    public static readonly DiagnosticDescriptor PaddingIdxOutOfRange = new(
        PaddingIdxOutOfRangeId,
        "PaddingIdx must lie inside the vocabulary",
        "PaddingIdx must be in [-{0}, {0}) for NumEmbeddings = {0}, as PyTorch requires, but it is {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "nn.Embedding's padding_idx names a row of the embedding matrix: from 0 to num_embeddings - 1, or negative counting from the end. See docs/diagnostics/MG0021.md.");

    public static readonly DiagnosticDescriptor ModuleNameCollision = new(
        ModuleNameCollisionId,
        "Two modules have the same state_dict name, or a name is not valid",
        "'{0}' cannot have the state_dict name '{1}': {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "Each module's parameters are stored under its name, so names must be distinct, non-empty, without spaces and without a leading or trailing dot. See docs/diagnostics/MG0022.md.");

    public static readonly DiagnosticDescriptor ModulePropertyInvalid = new(
        ModulePropertyInvalidId,
        "A module must be declared as a partial get-only instance property of the module's type",
        "'{0}' holds [{1}] and must be declared as 'partial {2} {0} {{ get; }}': {3}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "ModelGen implements each module property in the generated part of the class, which C# allows only for a partial property declaration; its type is the module's view type. See docs/diagnostics/MG0023.md.");

    public static readonly DiagnosticDescriptor GraphWithoutModules = new(
        GraphWithoutModulesId,
        "A sequence model needs its modules in one declaration",
        "[SequenceModel] '{0}' {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A graph applies the module properties of the declaration that carries [SequenceModel] in the order they are written, so it needs at least one, and modules in other parts of the class would have no defined order. See docs/diagnostics/MG0024.md.");

    public static readonly DiagnosticDescriptor Seq2SeqPartInvalid = new(
        Seq2SeqPartInvalidId,
        "The encoder or decoder of a sequence-to-sequence model is not a graph it can use",
        "'{0}' cannot be the {1} of [Seq2SeqModel] '{2}': {3}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "[Seq2SeqModel] joins two [SequenceModel] graphs that read token ids and have one unidirectional recurrent module each: the encoder's outputs per step are the memory an attention module reads, and the decoder's output per step is the logits over the target vocabulary. See docs/diagnostics/MG0025.md.");

    public static readonly DiagnosticDescriptor BridgeMismatch = new(
        BridgeMismatchId,
        "The decoder's recurrent module cannot start from the encoder's final state",
        "The decoder '{0}' cannot start from the final state of the encoder '{1}': {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "The decoder's recurrent module starts from the encoder's h_n (and c_n), so both must be the same cell with the same num_layers, hidden_size and proj_size. See docs/diagnostics/MG0026.md.");
}
