using Microsoft.CodeAnalysis;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The collision checks (MG0012–MG0014) rely on <see cref="Emitter.GeneratedMembers"/> and the overflow check
/// (MG0006) on <see cref="ModelValidation.ParameterCount"/>: both must agree with what is really generated.
/// </summary>
public class GeneratedMembersTests
{
    public static TheoryData<string> Models() => new()
    {
        "[ModelGen.LstmModel(InputSize = 8, HiddenSize = 32, NumLayers = 2, OutputSize = 4)] public partial class M;",
        "[ModelGen.LstmModel(InputSize = 16, HiddenSize = 24, NumLayers = 2, Bidirectional = true, ProjSize = 8)] public partial class M;",
        "[ModelGen.LstmModel(InputSize = 3, HiddenSize = 5, Bias = false, Bidirectional = true, OutputSize = 2)] public partial class M;",
        "[ModelGen.GruModel(InputSize = 4, HiddenSize = 16, OutputSize = 3)] public partial class M;",
        "[ModelGen.GruModel(InputSize = 4, HiddenSize = 16, NumLayers = 3, Bidirectional = true)] public partial class M;",
        "[ModelGen.RnnModel(InputSize = 5, HiddenSize = 7, Bias = false, Nonlinearity = ModelGen.RnnNonlinearity.Relu, OutputSize = 1)] public partial class M;",
        "[ModelGen.RnnModel(InputSize = 5, HiddenSize = 7)] public partial class M;",
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Listed_members_are_exactly_the_generated_members(string source)
    {
        Compilation before = GeneratorHarness.Compilation(source);
        ModelSpec spec = ModelValidation.Validate(before.GetTypeByMetadataName("M")!, before, default).Spec!;
        string[] listed = [.. Emitter.GeneratedMembers(spec).Select(m => m.ToString()).Order(StringComparer.Ordinal)];

        (_, Compilation output) = GeneratorHarness.Run(source);
        string[] generated = [.. output.GetTypeByMetadataName("M")!.GetMembers()
            .Where(m => !m.IsImplicitlyDeclared && m.DeclaringSyntaxReferences.All(r => GeneratorHarness.IsGenerated(r.GetSyntax().GetLocation())))
            .Where(m => m is not IMethodSymbol { AssociatedSymbol: not null })
            .Select(Describe)
            .Order(StringComparer.Ordinal)];
        Assert.Equal(generated, listed);
    }

    /// <summary>The inference members a model and its nested InferenceContext both have.</summary>
    private static readonly string[] InferenceMembers =
        ["Forward", "PredictLast", "PredictSequence", "StreamBatchSize", "ResetState", "HiddenState", "CellState", "Step", "StepPredict"];

    [Theory]
    [MemberData(nameof(Models))]
    public void The_inference_context_has_the_models_inference_calls_with_the_same_shapes(string source)
    {
        (_, Compilation output) = GeneratorHarness.Run(source);
        INamedTypeSymbol model = output.GetTypeByMetadataName("M")!;
        INamedTypeSymbol context = output.GetTypeByMetadataName("M+InferenceContext")!;
        string[] Signatures(INamedTypeSymbol type) => [.. type.GetMembers()
            .Where(m => m.DeclaredAccessibility == Accessibility.Public && InferenceMembers.Contains(m.Name))
            .Where(m => m is not IMethodSymbol { AssociatedSymbol: not null })
            .Select(m => m is IMethodSymbol method
                ? m.Name + "(" + string.Join(", ", method.Parameters.Select(p =>
                    p.Type.ToDisplayString() + " " + p.Name + (p.HasExplicitDefaultValue ? " = default" : "") + " " +
                    string.Join(" ", p.GetAttributes().Select(a => a.ToString())))) + ")"
                : m.Name + " " + ((IPropertySymbol)m).Type.ToDisplayString())
            .Order(StringComparer.Ordinal)];
        string[] expected = Signatures(model);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, Signatures(context));
        // And the interfaces line up: IHeadModel with IHeadInferenceContext, IStreamingModel with IStreamingInferenceContext, …
        string[] modelInterfaces = [.. model.AllInterfaces.Select(i => i.Name == "IRecurrentModel" ? "IInferenceContext" : i.Name.Replace("Model", "InferenceContext"))
            .Order(StringComparer.Ordinal)];
        Assert.Equal(modelInterfaces, context.AllInterfaces.Select(i => i.Name).Order(StringComparer.Ordinal));
    }

    /// <summary>A member as <see cref="GeneratedMember.ToString"/> writes it.</summary>
    private static string Describe(ISymbol member)
    {
        string name = ModelValidation.MemberKey(member);
        if (member is not IMethodSymbol method) return name;
        IEnumerable<string> types = method.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)
            .Replace("global::System.IO.", "").Replace("global::System.", ""));
        return $"{name}({string.Join(", ", types)})";
    }

    [Fact]
    public void Parameter_count_without_a_layout_equals_the_layouts()
    {
        int checkedCases = 0;
        foreach (CellKind cell in new[] { CellKind.Lstm, CellKind.Gru, CellKind.Rnn })
        foreach (int input in new[] { 1, 3, 8 })
        foreach (int hidden in new[] { 1, 4, 9 })
        foreach (int layers in new[] { 1, 2, 3 })
        foreach (bool bias in new[] { true, false })
        foreach (bool bidirectional in new[] { true, false })
        foreach (int proj in cell == CellKind.Lstm ? Enumerable.Range(0, hidden) : [0])
        foreach (int output in new[] { 0, 2 })
        {
            long expected = new ModelGeometry(cell, input, hidden, layers, bias, bidirectional, proj, output).ParameterCount;
            Assert.Equal(expected, ModelValidation.ParameterCount(cell, input, hidden, layers, bias, bidirectional, proj, output));
            checkedCases++;
        }
        Assert.True(checkedCases > 1000);
    }
}
