using System.Globalization;
using System.Reflection;
using ModelGen.Testing;

namespace ModelGen.Generator.Tests;

/// <summary>
/// One test per PyTorch reference file (tests/TestData/reference, or <c>$MODELGEN_REFERENCE_DIR</c>): the
/// harness reads the file's <c>__metadata__</c>, writes the attribute a user would write, runs the real
/// generator in memory, compiles, loads, reads the file's weights with the generated loader and checks every
/// result in the file. A new file in the folder is a new test; a configuration the harness cannot express fails.
/// </summary>
public class ReferenceParityTests
{
    public static TheoryData<string> Files() => ReferenceCase.FileNames();

    [Fact]
    [Trait("Category", "Reference")]
    public void Reference_directory_holds_cases()
    {
        Assert.True(Directory.Exists(ReferenceCase.Directory), $"reference directory {ReferenceCase.Directory} is missing");
        Assert.NotEmpty(Files());
    }

    [Theory]
    [Trait("Category", "Reference")]
    [MemberData(nameof(Files))]
    public void Generated_model_reproduces_pytorch(string file)
    {
        ReferenceCase reference = ReferenceCase.Load(file);
        string source = Declaration(reference);
        Assembly assembly = GeneratorHarness.CompileAndLoad(source);
        var model = (IRecurrentModel)Activator.CreateInstance(assembly.GetType("ReferenceModel", throwOnError: true)!)!;
        reference.CheckForward(model);
    }

    [Theory]
    [Trait("Category", "Reference")]
    [MemberData(nameof(Files))]
    public void Generated_model_gradients_match_pytorch(string file)
    {
        ReferenceCase reference = ReferenceCase.Load(file);
        Assembly assembly = GeneratorHarness.CompileAndLoad(Declaration(reference));
        object model = Activator.CreateInstance(assembly.GetType("ReferenceModel", throwOnError: true)!)!;
        reference.CheckGradients(Assert.IsAssignableFrom<IHeadModel>(model));
    }

    [Theory]
    [Trait("Category", "Reference")]
    [MemberData(nameof(Files))]
    public void Generated_model_trains_like_torch_optim(string file)
    {
        ReferenceCase reference = ReferenceCase.Load(file);
        Type type = GeneratorHarness.CompileAndLoad(Declaration(reference)).GetType("ReferenceModel", throwOnError: true)!;
        reference.CheckOptimizers(() => Assert.IsAssignableFrom<IHeadModel>(Activator.CreateInstance(type)));
    }

    /// <summary>The declaration a user would write for the file's module, e.g. <c>[LstmModel(InputSize = 3, ...)]</c>.</summary>
    internal static string Declaration(ReferenceCase reference)
    {
        string cell = reference.Meta("cell");
        var arguments = new List<string>
        {
            $"InputSize = {reference.MetaInt("input_size")}",
            $"HiddenSize = {reference.MetaInt("hidden_size")}",
            $"NumLayers = {reference.MetaInt("num_layers")}",
            $"Bias = {Bool(reference.MetaBool("bias"))}",
            $"Bidirectional = {Bool(reference.MetaBool("bidirectional"))}",
            $"OutputSize = {reference.MetaInt("output_size")}",
        };
        int projSize = reference.MetaInt("proj_size");
        string nonlinearity = reference.Meta("nonlinearity");
        string attribute = cell switch
        {
            "lstm" => "LstmModel",
            "gru" => "GruModel",
            "rnn" => "RnnModel",
            _ => throw new Xunit.Sdk.XunitException($"{reference.Name}: unknown cell '{cell}'."),
        };
        if (projSize != 0)
        {
            if (cell != "lstm") throw new Xunit.Sdk.XunitException($"{reference.Name}: proj_size on a {cell}.");
            arguments.Add($"ProjSize = {projSize.ToString(CultureInfo.InvariantCulture)}");
        }
        if (cell == "rnn")
        {
            arguments.Add(nonlinearity switch
            {
                "tanh" => "Nonlinearity = ModelGen.RnnNonlinearity.Tanh",
                "relu" => "Nonlinearity = ModelGen.RnnNonlinearity.Relu",
                _ => throw new Xunit.Sdk.XunitException($"{reference.Name}: unknown nonlinearity '{nonlinearity}'."),
            });
        }
        return $"[ModelGen.{attribute}({string.Join(", ", arguments)})]\npublic partial class ReferenceModel;\n";
    }

    private static string Bool(bool value) => value ? "true" : "false";
}
