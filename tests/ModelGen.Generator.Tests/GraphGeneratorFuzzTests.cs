using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using CsCheck;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generator.Diagnostics;
using Xunit.Abstractions;

namespace ModelGen.Generator.Tests;

/// <summary>
/// <c>[SequenceModel]</c> declarations mutated structurally — sizes 0, negative or huge, modules in the wrong order,
/// arguments missing or out of range, wrong property types and modifiers, keyword and dotted names, duplicate
/// names, nested and generic containing types, namespaces, members and types named like generated ones — each still
/// valid C# syntax. For every variant the generator must not throw nor make the driver report anything, and either
/// the declaration analyzer reports an MG error, or no error (and no warning) is located in a generated file; and
/// even with an MG error no error is located in a generated file (the stubs of an invalid graph must compile). Also
/// reported: a graph the analyzer accepts that gets no generated part at all (its partial properties then fail to
/// compile with nothing to say why). Variants whose user code has a C# error of its own (a duplicate member, say)
/// are not judged: the user fixes that first. Seeded (CsCheck PCG): every run checks the same variants.
/// </summary>
public class GraphGeneratorFuzzTests(ITestOutputHelper output)
{
    private const int Variants = 160;
    private const uint Stream = 3;
    private const ulong Seed = 20_250_915;

    /// <summary>Valid graphs the variants start from: tokens and features, per-step and reduced, streaming or not.</summary>
    private static readonly FuzzModule[][] Bases =
    [
        [
            new("Embedding(NumEmbeddings = 96, EmbeddingDim = 32, PaddingIdx = 0)", "Embedding", "Embed"),
            new("Lstm(InputSize = 32, HiddenSize = 64, Bidirectional = true)", "Lstm", "Rnn"),
            new("Reduce(ReduceMode.FinalHidden)", "Reduction", "Pool"),
            new("Dropout(0.1f)", "Dropout", "Drop"),
            new("Linear(InFeatures = 128, OutFeatures = 12)", "Linear", "Fc"),
        ],
        [
            new("Lstm(InputSize = 8, HiddenSize = 16)", "Lstm", "Encoder"),
            new("Gru(InputSize = 16, HiddenSize = 24)", "Gru", "Decoder"),
            new("LayerNorm(NormalizedShape = 24)", "LayerNorm", "Norm"),
            new("Linear(InFeatures = 24, OutFeatures = 3)", "Linear", "Head"),
            new("GELU", "Activation", "Act"),
        ],
        [
            new("Embedding(NumEmbeddings = 50, EmbeddingDim = 8)", "Embedding", "Tokens"),
            new("Rnn(InputSize = 8, HiddenSize = 6, NumLayers = 2, Nonlinearity = RnnNonlinearity.Relu, Dropout = 0.2f)", "Rnn", "Cell"),
            new("Tanh", "Activation", "Squash"),
            new("Linear(InFeatures = 6, OutFeatures = 50, Bias = false)", "Linear", "Logits"),
        ],
        [
            new("Linear(InFeatures = 4, OutFeatures = 6)", "Linear", "Project"),
            new("ReLU", "Activation", "Relu"),
            new("Gru(InputSize = 6, HiddenSize = 5, Bidirectional = true, NumLayers = 2)", "Gru", "Rnn"),
            new("Reduce(ReduceMode.Max)", "Reduction", "Pool"),
            new("LayerNorm(NormalizedShape = 10, ElementwiseAffine = false)", "LayerNorm", "Norm"),
            new("Sigmoid", "Activation", "Gate"),
        ],
        [
            new("Lstm(InputSize = 3, HiddenSize = 4, ProjSize = 2, Name = \"layers.0\")", "Lstm", "First"),
            new("Lstm(InputSize = 2, HiddenSize = 7, Name = \"layers.1\")", "Lstm", "Second"),
            new("Reduce(ReduceMode.Mean)", "Reduction", "Pool"),
            new("Linear(InFeatures = 7, OutFeatures = 2, Name = \"head\")", "Linear", "Out"),
        ],
        // Decoders with attention: Luong (after the GRU, then combine and tanh) and Bahdanau (before a 2-layer LSTM).
        [
            new("Embedding(NumEmbeddings = 40, EmbeddingDim = 16)", "Embedding", "Embed"),
            new("Gru(InputSize = 16, HiddenSize = 24)", "Gru", "Rnn"),
            new("Attention(AttentionScore.General, KeySize = 24)", "Attention", "Attn"),
            new("Linear(InFeatures = 48, OutFeatures = 24)", "Linear", "Combine"),
            new("Tanh", "Activation", "Squash"),
            new("Linear(InFeatures = 24, OutFeatures = 40)", "Linear", "Fc"),
        ],
        [
            new("Embedding(NumEmbeddings = 40, EmbeddingDim = 8, PaddingIdx = 0)", "Embedding", "Embed"),
            new("Attention(AttentionScore.Additive, KeySize = 12, AttentionSize = 10)", "Attention", "Attn"),
            new("Lstm(InputSize = 20, HiddenSize = 12, NumLayers = 2)", "Lstm", "Rnn"),
            new("Linear(InFeatures = 12, OutFeatures = 40)", "Linear", "Fc"),
        ],
    ];

    /// <summary>The recurrent module of the encoder a seq2seq variant joins to the graph: the first two fit bases 5 and 6.</summary>
    private static readonly string[] Seq2SeqEncoders =
    [
        "Gru(InputSize = 8, HiddenSize = 24)", "Lstm(InputSize = 8, HiddenSize = 12, NumLayers = 2)", "Gru(InputSize = 8, HiddenSize = 16)",
        "Lstm(InputSize = 8, HiddenSize = 16, ProjSize = 4)", "Rnn(InputSize = 8, HiddenSize = 24, Bidirectional = true)",
    ];

    /// <summary>A file with an encoder graph and a [Seq2SeqModel] over it and the graph 'Model' (or other types), in namespace <paramref name="ns"/>.</summary>
    internal static string Seq2SeqFile(string? ns, string encoder, string attribute, string header) =>
        "using ModelGen;\n" + (ns is null ? "" : $"namespace {ns};\n")
        + "[SequenceModel]\npublic partial class S2SEncoder\n{\n"
        + "    [Embedding(NumEmbeddings = 50, EmbeddingDim = 8, PaddingIdx = 0)] public partial Embedding Embed { get; }\n"
        + $"    [{encoder}] public partial {encoder[..encoder.IndexOf('(')]} Rnn {{ get; }}\n}}\n"
        + $"{attribute}\n{header}\n";

    /// <summary>Words for names: keywords, generated member and local names, view type names, dotted and odd ones.</summary>
    private static readonly string[] Identifiers =
    [
        "@class", "@event", "@int", "@default", "@out", "Forward", "Backward", "TrainForward", "Parameters", "Gradients",
        "OutputSize", "InputSize", "ParameterCount", "ParameterTable", "Layout", "ArenaPlan", "Run", "Check", "EnsurePacked",
        "Length", "Batch", "Steps", "Input", "Output", "Arena", "A", "a", "_x", "X1", "Embedding", "Linear", "Lstm",
        "DRnn", "Rnn", "RnnOut", "Drop", "D", "Step", "ResetState", "StateLength", "VocabularySize", "ToString", "GetHashCode",
        "SeedDropout", "ZeroGradients", "StreamBatchSize", "Scratch", "Recorded", "Record", "Packed", "Work", "Mask",
    ];

    private static readonly string[] StateDictNames =
    [
        "a.b", "layers.0", ".x", "x.", "a..b", "", "sp ace", "q\\\"uote", "<tag>&amp", "{x}", "fc", "fc.weight", "\\u00e9t\\u00e9", "tab\\t",
    ];

    private static readonly string[] Numbers = ["0", "-1", "-100", "1", "2", "3", "7", "100000", "2147483647", "int.MaxValue", "1 << 20"];

    internal static readonly Gen<FuzzCase> Cases =
        from graph in Gen.Int[0, Bases.Length - 1]
        from mutations in Gen.Int[0, FuzzCase.MutationCount - 1].Array[1, 3]
        from seed in Gen.Int
        select new FuzzCase(graph, mutations, seed);

    /// <summary>Members and types named like the generated ones, and the other declarations the generator must survive.</summary>
    public static TheoryData<string, string> Targeted()
    {
        var data = new TheoryData<string, string>();
        string[] extras =
        [
            "public void Forward(int x) { }",
            "public void Forward(System.ReadOnlySpan<float> a, int b, System.Span<float> c, System.ReadOnlySpan<int> d) { }",
            "public int OutputSize => 1;",
            "public const int InputSize = 8;",
            "private int Layout;",
            "private class ArenaPlan { }",
            "private void Run() { }",
            "private int Check(int a, int b, int c, int d) => 0;",
            "public override string ToString() => \"\";",
            "private readonly int _buffers;",
            "private readonly int _encoderModule;",
            "public System.ReadOnlySpan<float> Parameters => default;",
            "public void EnsurePacked() { }",
            "public void Step() { }",
            "public static int StateLength(int batch) => batch;",
            "public int StreamBatchSize { get; set; }",
        ];
        foreach (string extra in extras) data.Add("member " + extra, FuzzCase.Render(1, "Demo", null, "public partial class Model", Bases[1], [extra]));
        foreach (string name in new[] { "Forward", "Layout", "ArenaPlan", "Parameters", "OutputSize", "Backward", "Run", "Embedding", "Lstm" })
        {
            data.Add($"features graph class {name}", FuzzCase.Render(1, "Demo", null, $"public partial class {name}", Bases[1], []));
            data.Add($"tokens graph class {name}", FuzzCase.Render(0, "Demo", null, $"public partial class {name}", Bases[0], []));
        }
        // Module properties named like generated members, locals and arena slices.
        foreach (string name in new[] { "Parameters", "Gradients", "Forward", "OutputSize", "InputSize", "Length", "Layout", "Batch", "Arena", "Input", "Output" })
        {
            FuzzModule[] modules = [.. Bases[1]];
            modules[3] = modules[3] with { Property = name };
            data.Add($"Linear property {name}", FuzzCase.Render(1, "Demo", null, "public partial class Model", modules, []));
        }
        // Two modules whose generated names coincide: 'a' and 'A' (camelCase), 'Rnn' and 'DRnn' (dRnnOut).
        data.Add("activations A and a", FuzzCase.Render(1, "Demo", null, "public partial class Model",
            [Bases[1][0], Bases[1][1], new("ReLU", "Activation", "A"), new("Tanh", "Activation", "a")], []));
        data.Add("modules Rnn and DRnn", FuzzCase.Render(1, "Demo", null, "public partial class Model",
            [new("Lstm(InputSize = 8, HiddenSize = 16)", "Lstm", "Rnn"), new("ReLU", "Activation", "DRnn"), new("Linear(InFeatures = 16, OutFeatures = 3)", "Linear", "Head")], []));
        // Namespaces that shadow System, generic and nested containing types.
        foreach (string ns in new[] { "Demo.System", "System.Demo", "@class.@event", "ModelGen.Demo" })
        {
            data.Add($"namespace {ns}", FuzzCase.Render(1, ns, null, "public partial class Model", Bases[1], []));
        }
        data.Add("inside class System", FuzzCase.Render(1, "Demo", ["public partial class System"], "public partial class Model", Bases[1], []));
        data.Add("inside Outer<T>.Middle", FuzzCase.Render(1, "Demo", ["public partial class Outer<T> where T : struct", "internal partial struct Middle"], "private partial class Model", Bases[1], []));
        data.Add("inside IOuter<TValue>", FuzzCase.Render(0, "Demo", ["public partial interface IOuter<TValue>"], "public partial class Model", Bases[0], []));
        data.Add("record", FuzzCase.Render(1, "Demo", null, "public partial record Model", Bases[1], []));
        data.Add("generic class", FuzzCase.Render(1, "Demo", null, "public partial class Model<T>", Bases[1], []));
        data.Add("IDisposable", FuzzCase.Render(1, "Demo", null, "public sealed partial class Model : System.IDisposable", Bases[1], ["public void Dispose() { }"]));
        // Encoder–decoders over the attention bases, with members and names the seq2seq part generates.
        foreach (string header in new[] { "public partial class S2S;", "public sealed partial class S2S { public int Rows2 => 0; }",
            "public partial class S2S { public void Step(int x) { } }", "public partial class S2S { private int _buffers; }",
            "public partial record S2S;", "internal partial class Encoder;" })
        {
            data.Add($"seq2seq luong {header}", FuzzCase.Render(5, "Demo", null, "public partial class Model", Bases[5], [])
                + "\n--- file ---\n" + Seq2SeqFile("Demo", Seq2SeqEncoders[0], "[Seq2SeqModel(typeof(S2SEncoder), typeof(Model))]", header));
            data.Add($"seq2seq bahdanau {header}", FuzzCase.Render(6, "Demo", null, "public partial class Model", Bases[6], [])
                + "\n--- file ---\n" + Seq2SeqFile("Demo", Seq2SeqEncoders[1], "[Seq2SeqModel(typeof(S2SEncoder), typeof(Model))]", header));
        }
        // State-dict names the emitter writes into strings and XML comments.
        foreach (string name in StateDictNames)
        {
            FuzzModule[] modules = [.. Bases[1]];
            modules[0] = modules[0] with { Attribute = modules[0].Attribute.TrimEnd(')') + $", Name = \"{name}\")" };
            data.Add($"Name \"{name}\"", FuzzCase.Render(1, "Demo", null, "public partial class Model", modules, []));
        }
        return data;
    }

    [Fact]
    public void Base_graphs_generate_and_compile()
    {
        for (int i = 0; i < Bases.Length; i++)
        {
            string source = FuzzCase.Render(i, "Demo", null, "public partial class Model", Bases[i], []);
            (string? failure, bool accepted, int files) = Check([source]);
            Assert.True(failure is null, failure);
            Assert.True(accepted, $"base graph {i} gets an MG error:\n{source}");
            Assert.Equal(1, files);
        }
    }

    /// <summary>The encoder–decoders over the attention bases (5: Luong, 6: Bahdanau) are accepted and generate three files.</summary>
    [Theory]
    [InlineData(5, 0)]
    [InlineData(6, 1)]
    public void Base_seq2seq_models_generate_and_compile(int graph, int encoder)
    {
        string[] sources =
        [
            FuzzCase.Render(graph, "Demo", null, "public partial class Model", Bases[graph], []),
            Seq2SeqFile("Demo", Seq2SeqEncoders[encoder], "[Seq2SeqModel(typeof(S2SEncoder), typeof(Model))]", "public partial class S2S;"),
        ];
        (string? failure, bool accepted, int files) = Check(sources);
        Assert.True(failure is null, failure);
        Assert.True(accepted, $"the seq2seq over base graph {graph} gets an MG error:\n{string.Join("\n", sources)}");
        Assert.Equal(3, files);
    }

    [Theory]
    [MemberData(nameof(Targeted))]
    public void Targeted_declaration_never_breaks_the_generator(string name, string source)
    {
        (string? failure, _, _) = Check(source.Split("\n--- file ---\n"));
        Assert.True(failure is null, name + ": " + failure + "\n--- source ---\n" + source);
    }

    [Fact]
    public void Mutated_declarations_never_break_the_generator()
    {
        var pcg = new PCG(Stream, Seed);
        var cases = new List<(FuzzCase Case, string Seed)>();
        for (int i = 0; i < Variants; i++)
        {
            ulong state = pcg.State;
            cases.Add((Cases.Generate(pcg, null, out _), pcg.ToString(state)));
        }
        var clock = Stopwatch.StartNew();
        var failures = new ConcurrentBag<string>();
        int accepted = 0, rejected = 0;
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
        {
            string[] sources = c.Case.Sources();
            (string? failure, bool ok, _) = Check(sources);
            Interlocked.Increment(ref ok ? ref accepted : ref rejected);
            if (failure is not null)
            {
                failures.Add($"{failure}\n(mutations {string.Join(", ", c.Case.Applied)}; CsCheck seed \"{c.Seed}\")\n--- source ---\n" +
                    string.Join("\n--- next file ---\n", sources));
            }
        });
        output.WriteLine($"{cases.Count} variants: {accepted} accepted by the analyzer, {rejected} with an MG error, {failures.Count} failures, {clock.Elapsed.TotalSeconds:F1} s");
        foreach (string failure in failures.Order(StringComparer.Ordinal)) output.WriteLine(failure + "\n");

        // Both outcomes must occur, or the mutations test one side only.
        Assert.True(accepted > Variants / 8 && rejected > Variants / 8, $"{accepted} accepted, {rejected} rejected");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases.Count} variants failed; the first:\n\n"
            + string.Join("\n\n", failures.Order(StringComparer.Ordinal).Take(3)));
    }

    /// <summary>
    /// What is wrong with the generator's handling of the sources (null: nothing), whether the analyzer accepted
    /// them (no MG error), and how many files were generated.
    /// </summary>
    private static (string? Failure, bool Accepted, int Files) Check(string[] sources)
    {
        (GeneratorRunResult result, Compilation compilation, ImmutableArray<Diagnostic> driverDiagnostics) =
            GeneratorHarness.RunWithDriverDiagnostics(GeneratorHarness.Compilation(sources));
        int files = result.GeneratedSources.Length;
        if (result.Exception is not null) return ("the generator threw " + result.Exception, false, files);
        if (!driverDiagnostics.IsEmpty) return ("the driver reported " + string.Join("; ", driverDiagnostics), false, files);

        var exceptions = new ConcurrentQueue<Exception>();
        var analysis = compilation.WithAnalyzers([new ModelDeclarationAnalyzer()],
            new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), (exception, _, _) => exceptions.Enqueue(exception),
                concurrentAnalysis: false, logAnalyzerExecutionTime: false));
        ImmutableArray<Diagnostic> diagnostics = analysis.GetAllDiagnosticsAsync().GetAwaiter().GetResult();
        if (exceptions.TryPeek(out Exception? thrown)) return ("the analyzer threw " + thrown, false, files);
        if (diagnostics.FirstOrDefault(d => d.Id == "AD0001") is { } crash) return (crash.ToString(), false, files);
        bool accepted = !diagnostics.Any(d => d.Id.StartsWith("MG", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error);

        // The user's own C# errors (a duplicate member, a required get-only property, …): the user fixes them
        // first, and what they entail in the generated part is not the generator's to prevent. CS9248 (a partial
        // property without implementation) is the generator's business, so it does not count.
        Diagnostic[] userErrors = [.. diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error && !GeneratorHarness.IsGenerated(d.Location)
            && !d.Id.StartsWith("MG", StringComparison.Ordinal) && d.Id != "CS9248")];
        if (userErrors.Length > 0) return (null, accepted, files);
        Diagnostic[] generated = [.. diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning && !d.Id.StartsWith("MG", StringComparison.Ordinal)
            && GeneratorHarness.IsGenerated(d.Location))];
        if (generated.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error) is { } error)
        {
            return ($"{(accepted ? "no MG error, but" : "an MG error, and also")} an error in generated code: {error}\n"
                + Excerpt(error), accepted, files);
        }
        if (accepted && generated.FirstOrDefault() is { } warning)
        {
            return ($"no MG error, but a warning in generated code: {warning}\n" + Excerpt(warning), accepted, files);
        }
        // A graph the analyzer accepts must get its part: else its partial properties have no implementation
        // (CS9248) and nothing says why.
        if (accepted && result.GeneratedSources.All(s => !s.HintName.EndsWith(".graph.g.cs", StringComparison.Ordinal))
            && diagnostics.FirstOrDefault(d => d.Id == "CS9248") is { } missing)
        {
            return ($"no MG error and no generated part: {missing}", accepted, files);
        }
        // An encoder–decoder the analyzer accepts must get its part, or its members are missing with nothing to say why.
        if (accepted && sources.Any(s => s.Contains("[Seq2SeqModel(", StringComparison.Ordinal))
            && result.GeneratedSources.All(s => !s.HintName.EndsWith(".seq2seq.g.cs", StringComparison.Ordinal)))
        {
            return ("no MG error and no generated part for the [Seq2SeqModel]", accepted, files);
        }
        return (null, accepted, files);
    }

    private static string Excerpt(Diagnostic diagnostic)
    {
        SyntaxTree tree = diagnostic.Location.SourceTree!;
        int line = diagnostic.Location.GetLineSpan().StartLinePosition.Line;
        var lines = tree.GetText().Lines;
        var text = new StringBuilder($"--- {tree.FilePath} line {line + 1} ---\n");
        for (int i = Math.Max(0, line - 2); i <= Math.Min(lines.Count - 1, line + 2); i++) text.Append(lines[i].ToString()).Append('\n');
        return text.ToString();
    }

    /// <summary>One module property: the attribute (without ModelGen. and brackets), the view type, the property name, its modifiers and accessors.</summary>
    internal sealed record FuzzModule(string Attribute, string Type, string Property, string Modifiers = "public partial", string Accessors = "{ get; }");

    /// <summary>One variant: a base graph and the mutations applied to it, drawn from the seed.</summary>
    internal sealed class FuzzCase
    {
        public const int MutationCount = 17;

        private readonly int _graph;
        private readonly int[] _mutations;
        private readonly int _seed;

        public FuzzCase(int graph, int[] mutations, int seed)
        {
            _graph = graph;
            _mutations = mutations;
            _seed = seed;
        }

        public List<string> Applied { get; } = [];

        public override string ToString() => $"graph {_graph}, mutations [{string.Join(", ", _mutations)}], seed {_seed}";

        public string[] Sources()
        {
            Applied.Clear();
            var random = new Random(_seed);
            T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
            List<FuzzModule> modules = [.. Bases[_graph]];
            string? ns = "Demo";
            List<string>? containers = null;
            string header = "public partial class Model";
            var extras = new List<string>();
            string? otherFile = null, seq2seqFile = null;
            foreach (int mutation in _mutations)
            {
                int m = random.Next(modules.Count);
                switch (mutation)
                {
                    case 0:
                    {
                        // A number of an argument: 0, negative, huge.
                        string attribute = modules[m].Attribute;
                        int[] digits = [.. Enumerable.Range(0, attribute.Length).Where(i => char.IsDigit(attribute[i]) && (i == 0 || !char.IsLetterOrDigit(attribute[i - 1]) && attribute[i - 1] != '.'))];
                        if (digits.Length == 0) goto case 1;
                        int start = Pick(digits), end = start;
                        while (end < attribute.Length && (char.IsDigit(attribute[end]) || attribute[end] == '.' || attribute[end] == 'f')) end++;
                        string number = Pick(Numbers);
                        if (attribute[end - 1] == 'f' || attribute.Substring(start, end - start).Contains('.')) number = Pick(["0f", "1f", "1.5f", "-0.1f", "float.NaN", "0.999f"]);
                        modules[m] = modules[m] with { Attribute = attribute[..start] + number + attribute[end..] };
                        Applied.Add($"number {number} in {modules[m].Property}");
                        break;
                    }
                    case 1:
                    {
                        // Two modules swapped.
                        int other = random.Next(modules.Count);
                        (modules[m], modules[other]) = (modules[other], modules[m]);
                        Applied.Add($"swap {modules[m].Property} and {modules[other].Property}");
                        break;
                    }
                    case 2:
                    {
                        // A named argument removed.
                        string attribute = modules[m].Attribute;
                        int open = attribute.IndexOf('(');
                        if (open < 0) goto case 1;
                        List<string> arguments = [.. attribute[(open + 1)..^1].Split(", ")];
                        string removed = Pick(arguments);
                        arguments.Remove(removed);
                        modules[m] = modules[m] with { Attribute = attribute[..open] + (arguments.Count > 0 ? "(" + string.Join(", ", arguments) + ")" : "") };
                        Applied.Add($"remove {removed} of {modules[m].Property}");
                        break;
                    }
                    case 3:
                    {
                        string type = Pick(["Linear", "Lstm", "Gru", "Rnn", "Activation", "Reduction", "Dropout", "LayerNorm", "Embedding", "Attention", "int", "object", "ModelGen.GraphModule", "Linear?", "System.Collections.Generic.List<int>"]);
                        modules[m] = modules[m] with { Type = type };
                        Applied.Add($"type {type} for {modules[m].Property}");
                        break;
                    }
                    case 4:
                    {
                        string name = Pick(Identifiers);
                        modules[m] = modules[m] with { Property = name };
                        Applied.Add($"property {name}");
                        break;
                    }
                    case 5:
                    {
                        string name = Pick(StateDictNames);
                        string attribute = modules[m].Attribute;
                        attribute = attribute.Contains('(') ? attribute.TrimEnd(')') + $", Name = \"{name}\")" : attribute + $"(Name = \"{name}\")";
                        modules[m] = modules[m] with { Attribute = attribute };
                        Applied.Add($"Name \"{name}\" on {modules[m].Property}");
                        break;
                    }
                    case 6:
                    {
                        // Two modules of the same state_dict name, or the same property name.
                        int other = random.Next(modules.Count);
                        if (random.Next(2) == 0)
                        {
                            modules[other] = modules[other] with { Property = modules[m].Property };
                            Applied.Add($"duplicate property {modules[m].Property}");
                        }
                        else
                        {
                            string attribute = modules[other].Attribute;
                            string name = GraphNameOf(modules[m]);
                            modules[other] = modules[other] with { Attribute = attribute.Contains('(') ? attribute.TrimEnd(')') + $", Name = \"{name}\")" : attribute + $"(Name = \"{name}\")" };
                            Applied.Add($"duplicate Name {name}");
                        }
                        break;
                    }
                    case 7:
                        containers = Pick<List<string>>([
                            ["public partial class Outer"], ["public partial class Outer<T>"], ["internal partial struct Outer"],
                            ["public partial record Outer"], ["public partial interface IOuter<in T>"], ["public class NotPartial"],
                            ["public static partial class Holder"], ["public partial class A", "private partial class B<T, U> where T : new()"],
                            ["public partial class System"], ["public partial class Forward"],
                        ]);
                        Applied.Add($"inside {string.Join(" / ", containers)}");
                        break;
                    case 8:
                        ns = Pick<string?>([null, "A.B.C", "Demo.System", "System.Demo", "@class", "ModelGen.Inner", "Forward", "Demo.ModelGen"]);
                        Applied.Add($"namespace {ns ?? "(global)"}");
                        break;
                    case 9:
                    {
                        string extra = Pick([
                            "public void Forward(int x) { }", "public void Forward(System.ReadOnlySpan<float> a, int b, System.Span<float> c, System.ReadOnlySpan<int> d) { }",
                            "public int OutputSize => 1;", "public int Parameters;", "private class Layout { }", "private struct ArenaPlan { }",
                            "public void Backward() { }", "public void Backward(System.ReadOnlySpan<float> u) { }", "public static void Run<T>() { }",
                            "public override string ToString() => \"m\";", "public int ParameterCount => 1;", "private int _buffers;",
                            "public event System.Action? Step;", "public int this[int i] => i;", "public Model() { }", "public static int InputSize;",
                        ]);
                        extras.Add(extra);
                        Applied.Add($"member {extra}");
                        break;
                    }
                    case 10:
                        header = Pick([
                            "public partial class Forward", "public partial class Layout", "public partial class ArenaPlan", "public partial class Embedding",
                            "internal sealed partial class Model", "public abstract partial class Model", "public static partial class Model",
                            "public class Model", "public partial class Model<T>", "public partial record Model", "file partial class Model",
                            "public partial class @class", "public partial class model", "public partial class Model(int seed)",
                            "public partial class Model : System.IDisposable",
                        ]);
                        if (header.EndsWith("IDisposable", StringComparison.Ordinal)) extras.Add("public void Dispose() { }");
                        Applied.Add($"header {header}");
                        break;
                    case 11:
                    {
                        string modifiers = Pick(["public", "public static partial", "public virtual partial", "private partial", "internal partial",
                            "protected internal partial", "private protected partial", "public new partial", "public sealed partial", "public required partial"]);
                        string accessors = Pick(["{ get; }", "{ get; }", "{ get; set; }", "{ set; }", "{ get; init; }", "{ get; private set; }"]);
                        modules[m] = modules[m] with { Modifiers = modifiers, Accessors = accessors };
                        Applied.Add($"{modifiers} {accessors} on {modules[m].Property}");
                        break;
                    }
                    case 12:
                    {
                        // A module of another kind inserted, with sizes that may not fit.
                        FuzzModule inserted = Pick<FuzzModule>([
                            new("Embedding(NumEmbeddings = 10, EmbeddingDim = 4)", "Embedding", "Extra"),
                            new("Reduce(ReduceMode.FinalHidden)", "Reduction", "Extra"),
                            new("Reduce(ReduceMode.Last)", "Reduction", "Extra"),
                            new("Reduce((ReduceMode)7)", "Reduction", "Extra"),
                            new("Dropout", "Dropout", "Extra"),
                            new("Dropout(1f)", "Dropout", "Extra"),
                            new("Rnn(InputSize = 16, HiddenSize = 2, Nonlinearity = (RnnNonlinearity)5)", "Rnn", "Extra"),
                            new("Lstm(InputSize = 24, HiddenSize = 4, ProjSize = 4)", "Lstm", "Extra"),
                            new("LayerNorm(NormalizedShape = 3, Eps = 0)", "LayerNorm", "Extra"),
                            new("Linear(InFeatures = 0, OutFeatures = 3)", "Linear", "Extra"),
                            new("GELU", "Activation", "Extra"),
                            new("Attention(AttentionScore.Dot, KeySize = 8)", "Attention", "Extra"),
                            new("Attention(AttentionScore.General, KeySize = 6, AttentionSize = 2)", "Attention", "Extra"),
                            new("Attention(AttentionScore.Additive, KeySize = 4)", "Attention", "Extra"),
                            new("Attention(AttentionScore.Additive, KeySize = 5, AttentionSize = 3)", "Attention", "Extra"),
                            new("Attention((AttentionScore)9, KeySize = 3)", "Attention", "Extra"),
                        ]);
                        modules.Insert(random.Next(modules.Count + 1), inserted);
                        Applied.Add($"insert {inserted.Attribute}");
                        break;
                    }
                    case 13:
                        modules.RemoveAt(m);
                        Applied.Add("remove a module");
                        if (modules.Count == 0) modules.Add(new("ReLU", "Activation", "Only"));
                        break;
                    case 14:
                        // A module in another part of the class.
                        otherFile = "using ModelGen;\nnamespace Demo;\npublic partial class Model\n{\n    [Linear(InFeatures = 3, OutFeatures = 3)] public partial Linear Extra { get; }\n}\n";
                        Applied.Add("module in another part");
                        break;
                    case 16:
                    {
                        // An encoder–decoder over the graph (as decoder, or as encoder), in a file of its own.
                        string attribute = Pick([
                            "[Seq2SeqModel(typeof(S2SEncoder), typeof(Model))]", "[Seq2SeqModel(typeof(S2SEncoder), typeof(Model))]",
                            "[Seq2SeqModel(typeof(Model), typeof(S2SEncoder))]", "[Seq2SeqModel(typeof(Model), typeof(Model))]",
                            "[Seq2SeqModel(typeof(S2S), typeof(Model))]", "[Seq2SeqModel(typeof(S2SEncoder), typeof(int))]",
                            "[Seq2SeqModel(decoder: typeof(Model), encoder: typeof(S2SEncoder))]",
                        ]);
                        string owner = Pick([
                            "public partial class S2S;", "public partial class S2S;", "public class S2S;", "public static partial class S2S;",
                            "public partial class S2S { public void Forward() { } }", "public partial class S2S { public S2S(int x) { } }",
                            "public partial class S2S<T>;", "[SequenceModel] public partial class S2S;",
                        ]);
                        seq2seqFile = Seq2SeqFile(ns, Pick(Seq2SeqEncoders), attribute, owner);
                        Applied.Add($"seq2seq {attribute} {owner}");
                        break;
                    }
                    default:
                        // A second model attribute on the class.
                        extras.Add("// [LstmModel] below");
                        header = "[LstmModel(InputSize = 2, HiddenSize = 3)]\n" + header;
                        Applied.Add("also [LstmModel]");
                        break;
                }
            }
            string main = Render(_graph, ns, containers, header, modules, extras);
            return [main, .. otherFile is null ? [] : new[] { otherFile }, .. seq2seqFile is null ? [] : new[] { seq2seqFile }];
        }

        /// <summary>The module's state_dict name as the parser derives it (near enough: its Name argument or the lower-cased property).</summary>
        private static string GraphNameOf(FuzzModule module)
        {
            int at = module.Attribute.IndexOf("Name = \"", StringComparison.Ordinal);
            if (at >= 0) return module.Attribute[(at + 8)..module.Attribute.IndexOf('"', at + 8)];
            return module.Property.TrimStart('@').ToLowerInvariant();
        }

        public static string Render(int graph, string? ns, IReadOnlyList<string>? containers, string header, IReadOnlyList<FuzzModule> modules, IReadOnlyList<string> extras)
        {
            _ = graph;
            var text = new StringBuilder("using ModelGen;\n\n");
            if (ns is not null) text.Append(CultureInfo.InvariantCulture, $"namespace {ns};\n\n");
            foreach (string container in containers ?? []) text.Append(container).Append("\n{\n");
            string[] headerLines = header.Split('\n');
            foreach (string line in headerLines[..^1]) text.Append(line).Append('\n');
            text.Append("[SequenceModel]\n").Append(headerLines[^1]).Append("\n{\n");
            foreach (FuzzModule module in modules)
            {
                text.Append(CultureInfo.InvariantCulture, $"    [{module.Attribute}] {module.Modifiers} {module.Type} {module.Property} {module.Accessors}\n");
            }
            foreach (string extra in extras) text.Append("    ").Append(extra).Append('\n');
            text.Append("}\n");
            foreach (string _ in containers ?? []) text.Append("}\n");
            return text.ToString();
        }
    }
}
