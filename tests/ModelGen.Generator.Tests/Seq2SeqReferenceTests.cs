using System.Globalization;
using System.Text.Json;
using Xunit.Sdk;

namespace ModelGen.Generator.Tests;

/// <summary>
/// One test per encoder–decoder reference file (tests/TestData/seq2seq, or <c>$MODELGEN_SEQ2SEQ_REFERENCE_DIR</c>),
/// computed by libtorch: the harness writes the two <c>[SequenceModel]</c> graphs and the <c>[Seq2SeqModel]</c> a
/// user would write for the file's <c>graph</c>, runs the real generator in memory, compiles, loads the weights by
/// name (<c>encoder.*</c>, <c>decoder.*</c>) and checks <c>y</c>, the attention weights, every <c>grad.*</c> (through
/// the decoder, the bridge and the attention into the encoder), <c>ce.*</c> and three Adam steps. A file it cannot
/// express fails; none is skipped.
/// </summary>
/// <remarks>
/// The tolerances are <see cref="GraphReferenceTests"/>'s, for the same reasons: float64 results of float32 inputs,
/// float32 kernels accumulating O(10²) terms; Adam with libtorch's own float32 error as the allowance where the
/// float64 step amplifies roundings. The attention weights are softmax outputs in [0, 1] of scores of O(10) terms.
/// </remarks>
public class Seq2SeqReferenceTests
{
    public const string DirectoryVariable = "MODELGEN_SEQ2SEQ_REFERENCE_DIR";

    public static string Directory => ReferenceFolder.Resolve(DirectoryVariable, "seq2seq");

    public static TheoryData<string> Files() => ReferenceFolder.Files(Directory);

    [Fact]
    [Trait("Category", "Seq2SeqReference")]
    public void Seq2seq_reference_directory_holds_cases()
    {
        Assert.True(System.IO.Directory.Exists(Directory), $"seq2seq reference directory {Directory} is missing");
        Assert.NotEmpty(Files());
    }

    [Theory]
    [Trait("Category", "Seq2SeqReference")]
    [MemberData(nameof(Files))]
    public void Generated_seq2seq_reproduces_libtorch(string file)
    {
        var reference = new Seq2SeqCase(Path.Combine(Directory, file));
        ISeq2SeqModel model = reference.CreateModel();
        reference.Load(model);

        // Teacher-forced forward from the encoder's final state, padding positions included.
        (float[] y, float[] attention) = reference.Forward(model, training: false);
        GraphReferenceTests.AssertClose(reference.Name, "y", reference.Tensor("y"), y);
        if (model.HasAttention) GraphReferenceTests.AssertClose(reference.Name, "attention", reference.Tensor("attention"), attention);

        // Gradients of sum(y * dy), through the decoder, the bridge (and the attention) into the encoder.
        (float[] trained, _) = reference.Forward(model, training: true);
        GraphReferenceTests.AssertClose(reference.Name, "y (training forward)", reference.Tensor("y"), trained);
        model.Backward(reference.Tensor("dy"));
        foreach (ParameterInfo parameter in reference.Parameters(model))
        {
            GraphReferenceTests.AssertClose(reference.Name, "grad." + parameter.Name, reference.Tensor("grad." + parameter.Name),
                GraphReferenceTests.Slice(model.Gradients, parameter));
        }

        // Mean cross-entropy of y as logits against the target, ignoring -100.
        model.ZeroGradients();
        (float loss, float[] gradient) = reference.CrossEntropy(reference.Forward(model, training: true).Logits, model.TargetVocabularySize);
        GraphReferenceTests.AssertClose(reference.Name, "ce.loss", reference.Tensor("ce.loss"), [loss]);
        model.Backward(gradient);
        foreach (ParameterInfo parameter in reference.Parameters(model))
        {
            GraphReferenceTests.AssertClose(reference.Name, "ce.grad." + parameter.Name, reference.Tensor("ce.grad." + parameter.Name),
                GraphReferenceTests.Slice(model.Gradients, parameter));
        }
    }

    [Theory]
    [Trait("Category", "Seq2SeqReference")]
    [MemberData(nameof(Files))]
    public void Generated_seq2seq_trains_like_torch_optim_adam(string file)
    {
        var reference = new Seq2SeqCase(Path.Combine(Directory, file));
        ISeq2SeqModel model = reference.CreateModel();
        reference.Load(model);
        var adam = new Adam(model.ParameterCount, learningRate: 0.01f);
        var losses = new float[3];
        for (int step = 0; step < 3; step++)
        {
            model.ZeroGradients();
            (losses[step], float[] gradient) = reference.CrossEntropy(reference.Forward(model, training: true).Logits, model.TargetVocabularySize);
            model.Backward(gradient);
            adam.Step(model);
        }
        GraphReferenceTests.AssertClose(reference.Name, "adam3.loss", reference.Tensor("adam3.loss"), losses);
        foreach (ParameterInfo parameter in reference.Parameters(model))
        {
            float[]? libtorch32 = reference.HasTensor("f32.adam3." + parameter.Name) ? reference.Tensor("f32.adam3." + parameter.Name) : null;
            GraphReferenceTests.AssertClose(reference.Name, "adam3." + parameter.Name, reference.Tensor("adam3." + parameter.Name),
                GraphReferenceTests.Slice(model.Parameters, parameter), libtorch32);
        }
    }
}

/// <summary>One encoder–decoder reference file: its two graphs, tensors, and the declarations they stand for.</summary>
internal sealed class Seq2SeqCase
{
    private readonly string _path;
    private readonly SafetensorsFile _file;
    private readonly JsonElement _graph;

    public Seq2SeqCase(string path)
    {
        _path = path;
        Name = Path.GetFileNameWithoutExtension(path);
        _file = SafetensorsFile.Read(path);
        if (!_file.Metadata.TryGetValue("graph", out string? graph)) throw new XunitException($"{Name}: __metadata__ has no 'graph'.");
        _graph = JsonDocument.Parse(graph).RootElement;
        if (_graph.GetProperty("kind").GetString() != "seq2seq") throw new XunitException($"{Name}: the graph is not a seq2seq one.");
        if (_graph.GetProperty("bridge").GetString() != "final_state") throw new XunitException($"{Name}: unknown bridge '{_graph.GetProperty("bridge")}'.");
        Batch = int.Parse(_file.Metadata["batch"], CultureInfo.InvariantCulture);
        SourceSteps = int.Parse(_file.Metadata["src_len"], CultureInfo.InvariantCulture);
        TargetSteps = int.Parse(_file.Metadata["tgt_len"], CultureInfo.InvariantCulture);
    }

    public string Name { get; }
    public int Batch { get; }
    public int SourceSteps { get; }
    public int TargetSteps { get; }

    public bool HasTensor(string name) => _file.Tensors.ContainsKey(name);

    public float[] Tensor(string name) =>
        _file.Tensors.TryGetValue(name, out SafetensorsTensor? tensor) ? tensor.ToFloatArray() : throw new XunitException($"{Name}: no tensor '{name}'.");

    private int[] Ints(string name) => _file.Tensors[name].ToInt32Array();

    /// <summary>The model's parameters, which the file must all hold (the load is strict).</summary>
    public IEnumerable<ParameterInfo> Parameters(ISeq2SeqModel model) =>
        (IEnumerable<ParameterInfo>)model.GetType().GetProperty("ParameterTable")!.GetValue(null)!;

    /// <summary>The declarations a user would write: the two graphs and the model joining them.</summary>
    public string Declaration()
    {
        string Graph(string side, string type) =>
            $"[SequenceModel]\npublic partial class {type}\n{{\n" + GraphCase.ModuleProperties(_graph.GetProperty(side).GetProperty("modules"), Name) + "}\n\n";
        return "using ModelGen;\n\n" + Graph("encoder", "SourceEncoder") + Graph("decoder", "TargetDecoder")
            + "[Seq2SeqModel(typeof(SourceEncoder), typeof(TargetDecoder))]\npublic partial class TranslationModel;\n";
    }

    public ISeq2SeqModel CreateModel()
    {
        Type type = GeneratorHarness.CompileAndLoad(Declaration()).GetType("TranslationModel", throwOnError: true)!;
        return (ISeq2SeqModel)Activator.CreateInstance(type)!;
    }

    /// <summary>Loads the file's parameters by name; strict, so a parameter the file lacks fails the test.</summary>
    public void Load(ISeq2SeqModel model)
    {
        using FileStream stream = File.OpenRead(_path);
        LoadResult result = model.LoadSafetensors(stream);
        Assert.Empty(result.MissingKeys);
    }

    /// <summary>The teacher-forced logits <c>[B, Tt, V]</c> and, with attention, the weights <c>[B, Tt, Ts]</c>.</summary>
    public (float[] Logits, float[] Attention) Forward(ISeq2SeqModel model, bool training)
    {
        var logits = new float[Batch * TargetSteps * model.TargetVocabularySize];
        float[] attention = model.HasAttention ? new float[Batch * TargetSteps * SourceSteps] : [];
        if (training)
        {
            model.TrainForward(Ints("src_tokens"), Ints("tgt_in"), Batch, logits, Ints("src_lengths"), Ints("tgt_lengths"), attention);
        }
        else
        {
            model.Forward(Ints("src_tokens"), Ints("tgt_in"), Batch, logits, Ints("src_lengths"), Ints("tgt_lengths"), attention);
        }
        return (logits, attention);
    }

    public (float Loss, float[] Gradient) CrossEntropy(float[] logits, int classes)
    {
        var gradient = new float[logits.Length];
        float loss = Losses.CrossEntropy(logits, classes, Ints("target"), gradient);
        return (loss, gradient);
    }
}
