using Microsoft.CodeAnalysis;

namespace ModelGen.Generator.Diagnostics;

/// <summary>
/// Every diagnostic ModelGen reports. IDs are never reused: a retired rule keeps its number. Each has a help page
/// docs/diagnostics/&lt;ID&gt;.md and an entry in AnalyzerReleases.Unshipped.md (moved to Shipped.md on release).
/// </summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "ModelGen";

    /// <summary>Where the help pages live; each rule's page is <c>&lt;ID&gt;.md</c> in that folder.</summary>
    public const string HelpLinkBase = "https://github.com/modelgen/ModelGen/blob/main/docs/diagnostics/";

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

    public static readonly DiagnosticDescriptor RequiredSizeMissing = new(
        RequiredSizeMissingId,
        "A required size of the model is missing",
        "[{0}] needs {1}: {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + RequiredSizeMissingId + ".md");

    public static readonly DiagnosticDescriptor SizeOutOfRange = new(
        SizeOutOfRangeId,
        "A size of the model is out of range",
        "{0} must be {1}, but it is {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + SizeOutOfRangeId + ".md");

    public static readonly DiagnosticDescriptor ProjSizeOutOfRange = new(
        ProjSizeOutOfRangeId,
        "ProjSize must be 0 or below HiddenSize",
        "ProjSize must be 0 (no projection) or between 1 and HiddenSize - 1 = {1}, as PyTorch requires, but it is {0}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + ProjSizeOutOfRangeId + ".md");

    public static readonly DiagnosticDescriptor OptionNotOnCell = new(
        OptionNotOnCellId,
        "The option does not exist on this cell",
        "{0} is not an option of [{1}]: {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + OptionNotOnCellId + ".md");

    public static readonly DiagnosticDescriptor InvalidNonlinearity = new(
        InvalidNonlinearityId,
        "Nonlinearity is not a defined value",
        "Nonlinearity must be RnnNonlinearity.Tanh or RnnNonlinearity.Relu, but it is {0}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + InvalidNonlinearityId + ".md");

    public static readonly DiagnosticDescriptor LayoutOverflow = new(
        LayoutOverflowId,
        "The model is too large for the generated layout",
        "The model does not fit the generated layout's int offsets: {0}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + LayoutOverflowId + ".md");

    public static readonly DiagnosticDescriptor TypeNotPartial = new(
        TypeNotPartialId,
        "A model type must be partial",
        "'{0}' must be declared partial for ModelGen to add the model's members",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + TypeNotPartialId + ".md");

    public static readonly DiagnosticDescriptor TypeStatic = new(
        TypeStaticId,
        "A model type must not be static",
        "'{0}' must not be static: a model is an instance that holds its parameters and state",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + TypeStaticId + ".md");

    public static readonly DiagnosticDescriptor TypeGeneric = new(
        TypeGenericId,
        "A model type must not be generic",
        "'{0}' must not be generic: a model's sizes and members do not depend on type parameters",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + TypeGenericId + ".md");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = new(
        ContainingTypeNotPartialId,
        "A type containing a model must be partial",
        "'{0}' contains the model '{1}' and must be declared partial for ModelGen to add the model's members",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + ContainingTypeNotPartialId + ".md");

    public static readonly DiagnosticDescriptor DuplicateModelAttribute = new(
        DuplicateModelAttributeId,
        "A type can have only one model attribute",
        "'{0}' already has [{1}]; remove [{2}]: a type holds one model",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + DuplicateModelAttributeId + ".md");

    public static readonly DiagnosticDescriptor MemberNameCollision = new(
        MemberNameCollisionId,
        "A member collides with a generated member",
        "'{0}' collides with the member '{1}' that ModelGen generates on '{2}'; rename or remove it",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + MemberNameCollisionId + ".md");

    public static readonly DiagnosticDescriptor InheritedMemberHidden = new(
        InheritedMemberHiddenId,
        "A generated member would hide an inherited member",
        "The members that ModelGen generates on '{0}' would hide {1} inherited from '{2}'",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + InheritedMemberHiddenId + ".md");

    public static readonly DiagnosticDescriptor TypeNameCollision = new(
        TypeNameCollisionId,
        "The model type has the name of a generated member",
        "A model type cannot be named '{0}': ModelGen generates a member of that name, and members cannot have the name of their type",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + TypeNameCollisionId + ".md");

    public static readonly DiagnosticDescriptor FileLocalType = new(
        FileLocalTypeId,
        "A model type cannot be file-local",
        "'{0}' is file-local, but ModelGen adds the model's members in another file; remove the 'file' modifier",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + FileLocalTypeId + ".md");

    public static readonly DiagnosticDescriptor LanguageVersionTooLow = new(
        LanguageVersionTooLowId,
        "ModelGen requires C# 11 or later",
        "ModelGen generates static abstract interface members, which require C# 11 or later, but the project uses C# {0}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + LanguageVersionTooLowId + ".md");

    public static readonly DiagnosticDescriptor ShapeMismatch = new(
        ShapeMismatchId,
        "A buffer's length does not fit the parameter's shape",
        "'{0}' of {1} has {2} floats, but its shape {3} needs {4}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + ShapeMismatchId + ".md");

    public static readonly DiagnosticDescriptor InvalidBatchSize = new(
        InvalidBatchSizeId,
        "The batch size must be at least 1",
        "'{0}' of {1} is the batch size B and must be at least 1, but it is {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + InvalidBatchSizeId + ".md");
}
