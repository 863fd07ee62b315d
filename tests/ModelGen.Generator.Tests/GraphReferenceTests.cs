using System.Globalization;
using System.Text;
using System.Text.Json;
using Xunit.Sdk;

namespace ModelGen.Generator.Tests;

/// <summary>
/// One test per graph reference file (tests/TestData/graphs, or <c>$MODELGEN_GRAPH_REFERENCE_DIR</c>), computed by
/// libtorch: the harness reads the file's <c>graph</c> metadata, writes the <c>[SequenceModel]</c> declaration a
/// user would write, runs the real generator in memory, compiles, loads the file's weights by name and checks
/// <c>y</c>, every <c>grad.*</c>, <c>ce.*</c> and three Adam steps. A file it cannot express fails; none is skipped.
/// </summary>
/// <remarks>
/// Tolerance of the forward, the gradients and the cross-entropy: |actual − expected| ≤ 1e-5 + 1e-5·|expected|, as
/// for the single-stack files: the expected values are float64 results of float32 inputs, and the graphs' float32
/// kernels accumulate O(10²) terms per output, whose rounding (≈ n·2⁻²⁴ relative) stays below 1e-5.
/// Adam: where a parameter's first gradient is near eps, the float64 step amplifies a float32 rounding of the
/// gradient a thousandfold, and libtorch's own float32 run (<c>f32.adam3.*</c>) misses the float64 result too. A
/// float32 implementation is as good as libtorch's when its error is within the usual bound plus a small multiple
/// of libtorch's own float32 error at that element: 3×, since ours and libtorch's are two independent float32
/// roundings of the same computation (each about as large as the other; 3× leaves room for one being twice the
/// other), and never a blanket loosening: where libtorch's float32 run is exact, the usual bound alone applies.
/// </remarks>
public class GraphReferenceTests
{
    public const string DirectoryVariable = "MODELGEN_GRAPH_REFERENCE_DIR";
    private const double Absolute = 1e-5, Relative = 1e-5;
    private const double Float32Multiple = 3;

    public static string Directory => ReferenceFolder.Resolve(DirectoryVariable, "graphs");

    public static TheoryData<string> Files() => ReferenceFolder.Files(Directory);

    [Fact]
    [Trait("Category", "GraphReference")]
    public void Graph_reference_directory_holds_cases()
    {
        Assert.True(System.IO.Directory.Exists(Directory), $"graph reference directory {Directory} is missing");
        Assert.NotEmpty(Files());
    }

    [Theory]
    [Trait("Category", "GraphReference")]
    [MemberData(nameof(Files))]
    public void Generated_graph_reproduces_libtorch(string file)
    {
        var reference = new GraphCase(Path.Combine(Directory, file));
        ISequenceModel model = reference.CreateModel();
        reference.Load(model);

        // Forward from a zero state, padding positions included.
        float[] y = reference.Forward(model, training: false);
        AssertClose(reference.Name, "y", reference.Tensor("y"), y);

        // Gradients of sum(y * dy).
        float[] dy = reference.Tensor("dy");
        float[] trained = reference.Forward(model, training: true);
        AssertClose(reference.Name, "y (training forward)", reference.Tensor("y"), trained);
        float[] inputGradient = reference.Backward(model, dy);
        foreach (ParameterInfo parameter in reference.Parameters(model))
        {
            AssertClose(reference.Name, "grad." + parameter.Name, reference.Tensor("grad." + parameter.Name), Slice(model.Gradients, parameter));
        }
        if (!reference.Tokens) AssertClose(reference.Name, "grad.input", reference.Tensor("grad.input"), inputGradient);

        // Mean cross-entropy of y as logits, ignoring -100 targets.
        model.ZeroGradients();
        (float loss, float[] gradient) = reference.CrossEntropy(reference.Forward(model, training: true), model.OutputSize);
        AssertClose(reference.Name, "ce.loss", reference.Tensor("ce.loss"), [loss]);
        reference.Backward(model, gradient);
        foreach (ParameterInfo parameter in reference.Parameters(model))
        {
            AssertClose(reference.Name, "ce.grad." + parameter.Name, reference.Tensor("ce.grad." + parameter.Name), Slice(model.Gradients, parameter));
        }
    }

    [Theory]
    [Trait("Category", "GraphReference")]
    [MemberData(nameof(Files))]
    public void Generated_graph_trains_like_torch_optim_adam(string file)
    {
        var reference = new GraphCase(Path.Combine(Directory, file));
        ISequenceModel model = reference.CreateModel();
        reference.Load(model);
        var adam = new Adam(model.ParameterCount, learningRate: 0.01f);
        var losses = new float[3];
        for (int step = 0; step < 3; step++)
        {
            model.ZeroGradients();
            (losses[step], float[] gradient) = reference.CrossEntropy(reference.Forward(model, training: true), model.OutputSize);
            reference.Backward(model, gradient);
            adam.Step(model);
        }
        AssertClose(reference.Name, "adam3.loss", reference.Tensor("adam3.loss"), losses);
        foreach (ParameterInfo parameter in reference.Parameters(model))
        {
            float[] expected = reference.Tensor("adam3." + parameter.Name);
            float[]? libtorch32 = reference.HasTensor("f32.adam3." + parameter.Name) ? reference.Tensor("f32.adam3." + parameter.Name) : null;
            AssertClose(reference.Name, "adam3." + parameter.Name, expected, Slice(model.Parameters, parameter), libtorch32);
        }
    }

    internal static float[] Slice(ReadOnlySpan<float> buffer, ParameterInfo parameter) => buffer.Slice(parameter.Offset, parameter.Length).ToArray();

    internal static void AssertClose(string caseName, string what, float[] expected, float[] actual, float[]? float32Reference = null)
    {
        Assert.True(expected.Length == actual.Length, $"{caseName} {what}: {actual.Length} values, the file has {expected.Length}");
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = Absolute + Relative * Math.Abs(expected[i]);
            if (float32Reference is not null) bound += Float32Multiple * Math.Abs(float32Reference[i] - (double)expected[i]);
            double excess = Math.Abs(actual[i] - (double)expected[i]) / bound;
            if (!(excess <= 1) && (worstIndex < 0 || excess > worst || double.IsNaN(excess)))
            {
                worst = excess;
                worstIndex = i;
            }
        }
        if (worstIndex >= 0)
        {
            throw new XunitException(
                $"{caseName} {what}[{worstIndex}]: expected {expected[worstIndex]:R}, got {actual[worstIndex]:R} ({worst:0.##}× the bound)");
        }
    }
}

/// <summary>One graph reference file: its graph description, tensors, and the declaration it stands for.</summary>
internal sealed class GraphCase
{
    private readonly string _path;
    private readonly SafetensorsFile _file;
    private readonly JsonElement _graph;

    public GraphCase(string path)
    {
        _path = path;
        Name = Path.GetFileNameWithoutExtension(path);
        _file = SafetensorsFile.Read(path);
        if (!_file.Metadata.TryGetValue("graph", out string? graph)) throw new XunitException($"{Name}: __metadata__ has no 'graph'.");
        _graph = JsonDocument.Parse(graph).RootElement;
        Batch = int.Parse(_file.Metadata["batch"], CultureInfo.InvariantCulture);
        Steps = int.Parse(_file.Metadata["seq_len"], CultureInfo.InvariantCulture);
        Tokens = _graph.GetProperty("input").GetProperty("kind").GetString() == "tokens";
        HasLengths = _graph.GetProperty("lengths").GetBoolean();
    }

    public string Name { get; }
    public int Batch { get; }
    public int Steps { get; }
    public bool Tokens { get; }
    public bool HasLengths { get; }

    public bool HasTensor(string name) => _file.Tensors.ContainsKey(name);

    public float[] Tensor(string name) =>
        _file.Tensors.TryGetValue(name, out SafetensorsTensor? tensor) ? tensor.ToFloatArray() : throw new XunitException($"{Name}: no tensor '{name}'.");

    private int[] Ints(string name) => _file.Tensors[name].ToInt32Array();

    /// <summary>The model's parameters, which the file must all hold (the load is strict).</summary>
    public IEnumerable<ParameterInfo> Parameters(ISequenceModel model) =>
        (IEnumerable<ParameterInfo>)model.GetType().GetProperty("ParameterTable")!.GetValue(null)!;

    /// <summary>The declaration a user would write for the file's graph.</summary>
    public string Declaration() =>
        "using ModelGen;\n\n[SequenceModel]\npublic partial class GraphModel\n{\n" + ModuleProperties(_graph.GetProperty("modules"), Name) + "}\n";

    /// <summary>The module properties a user would write for a graph's <c>modules</c> list, one line each.</summary>
    public static string ModuleProperties(JsonElement modules, string caseName)
    {
        var text = new StringBuilder();
        int index = 0;
        foreach (JsonElement module in modules.EnumerateArray())
        {
            string type = module.GetProperty("type").GetString()!;
            string? name = module.TryGetProperty("name", out JsonElement n) ? n.GetString() : null;
            // A named module's property is its name in PascalCase, whose default state_dict name is the file's.
            string property = name is null ? "Module" + index.ToString(CultureInfo.InvariantCulture) : char.ToUpperInvariant(name[0]) + name[1..];
            string Int(string key) => module.GetProperty(key).GetInt32().ToString(CultureInfo.InvariantCulture);
            string Bool(string key) => module.GetProperty(key).GetBoolean() ? "true" : "false";
            (string attribute, string view) = type switch
            {
                "Embedding" => ($"Embedding(NumEmbeddings = {Int("num_embeddings")}, EmbeddingDim = {Int("embedding_dim")}"
                    + (module.TryGetProperty("padding_idx", out JsonElement p) && p.ValueKind == JsonValueKind.Number ? $", PaddingIdx = {p.GetInt32()}" : "") + ")", "Embedding"),
                "LSTM" or "GRU" or "RNN" => ($"{type[0]}{type[1..].ToLowerInvariant()}(InputSize = {Int("input_size")}, HiddenSize = {Int("hidden_size")}, NumLayers = {Int("num_layers")}, Bias = {Bool("bias")}, Bidirectional = {Bool("bidirectional")}"
                    + (type == "LSTM" && module.TryGetProperty("proj_size", out JsonElement proj) ? $", ProjSize = {proj.GetInt32()}" : "")
                    + (type == "RNN" ? $", Nonlinearity = RnnNonlinearity.{(module.GetProperty("nonlinearity").GetString() == "relu" ? "Relu" : "Tanh")}" : "") + ")",
                    type[0] + type[1..].ToLowerInvariant()),
                "Linear" => ($"Linear(InFeatures = {Int("in_features")}, OutFeatures = {Int("out_features")}, Bias = {Bool("bias")})", "Linear"),
                "LayerNorm" => ($"LayerNorm(NormalizedShape = {Int("normalized_shape")}, Eps = {module.GetProperty("eps").GetDouble().ToString("R", CultureInfo.InvariantCulture)}, ElementwiseAffine = {Bool("elementwise_affine")})", "LayerNorm"),
                "Reduce" => ($"Reduce(ReduceMode.{module.GetProperty("mode").GetString() switch { "last" => "Last", "final_hidden" => "FinalHidden", "mean" => "Mean", "max" => "Max", var m => throw new XunitException($"{caseName}: unknown Reduce mode '{m}'") }})", "Reduction"),
                "ReLU" or "Tanh" or "Sigmoid" or "GELU" => (type, "Activation"),
                "Dropout" => ($"Dropout({module.GetProperty("p").GetDouble().ToString("R", CultureInfo.InvariantCulture)}f)", "Dropout"),
                "Attention" => (module.GetProperty("score").GetString() switch
                {
                    "dot" => $"Attention(AttentionScore.Dot, KeySize = {Int("key_size")})",
                    "general" => $"Attention(AttentionScore.General, KeySize = {Int("key_size")})",
                    "additive" => $"Attention(AttentionScore.Additive, KeySize = {Int("key_size")}, AttentionSize = {Int("attention_size")})",
                    var score => throw new XunitException($"{caseName}: unknown attention score '{score}'"),
                }, "Attention"),
                _ => throw new XunitException($"{caseName}: module type '{type}' has no ModelGen attribute"),
            };
            text.Append($"    [{attribute}] public partial {view} {property} {{ get; }}\n");
            index++;
        }
        return text.ToString();
    }

    public ISequenceModel CreateModel()
    {
        Type type = GeneratorHarness.CompileAndLoad(Declaration()).GetType("GraphModel", throwOnError: true)!;
        return (ISequenceModel)Activator.CreateInstance(type)!;
    }

    /// <summary>Loads the file's parameters by name; strict, so a parameter the file lacks fails the test.</summary>
    public void Load(ISequenceModel model)
    {
        using FileStream stream = File.OpenRead(_path);
        LoadResult result = model.LoadSafetensors(stream);
        Assert.Empty(result.MissingKeys);
    }

    private int[]? Lengths => HasLengths ? Ints("lengths") : null;

    public float[] Forward(ISequenceModel model, bool training)
    {
        int rows = model.OutputPerStep ? Batch * Steps : Batch;
        var output = new float[rows * model.OutputSize];
        ReadOnlySpan<int> lengths = Lengths;
        switch (model)
        {
            case ITokenSequenceModel tokens when training: tokens.TrainForward(Ints("tokens"), Batch, output, lengths); break;
            case ITokenSequenceModel tokens: tokens.Forward(Ints("tokens"), Batch, output, lengths); break;
            case IFeatureSequenceModel features when training: features.TrainForward(Tensor("input"), Batch, output, lengths); break;
            case IFeatureSequenceModel features: features.Forward(Tensor("input"), Batch, output, lengths); break;
        }
        return output;
    }

    /// <summary>Backward from <paramref name="upstream"/>; returns dL/d(input) for a features graph (empty for tokens).</summary>
    public float[] Backward(ISequenceModel model, float[] upstream)
    {
        if (model is ITokenSequenceModel tokens)
        {
            tokens.Backward(upstream);
            return [];
        }
        var inputGradient = new float[Batch * Steps * ((IFeatureSequenceModel)model).InputSize];
        ((IFeatureSequenceModel)model).Backward(upstream, inputGradient);
        return inputGradient;
    }

    public (float Loss, float[] Gradient) CrossEntropy(float[] logits, int classes)
    {
        var gradient = new float[logits.Length];
        float loss = Losses.CrossEntropy(logits, classes, Ints("target"), gradient);
        return (loss, gradient);
    }
}
