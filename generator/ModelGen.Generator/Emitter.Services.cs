using System.Collections.Generic;

namespace ModelGen.Generator;

// The model's summary (Summary, ToString) and its services: ShareWeights, and the nested SharedWeights and
// InferenceContext classes, whose inference methods carry the same shapes as the model's.
internal static partial class Emitter
{
    /// <summary>The members that <see cref="WriteServices"/> declares on the model type (nested types included).</summary>
    private static IEnumerable<GeneratedMember> ServiceMembers()
    {
        yield return GeneratedMember.Method("Summary");
        yield return GeneratedMember.Override("ToString");
        yield return GeneratedMember.Method("ShareWeights");
        yield return GeneratedMember.Method("ModelGen.IRecurrentModel.ShareWeights");
        yield return GeneratedMember.Other("SharedWeights");
        yield return GeneratedMember.Other("InferenceContext");
    }

    /// <summary>The context interface of the model's kind; the others come with it.</summary>
    private static string ContextInterface(ModelSpec spec) => (spec.OutputSize > 0, spec.Bidirectional) switch
    {
        (true, false) => "IStreamingHeadInferenceContext",
        (true, true) => "IHeadInferenceContext",
        (false, false) => "IStreamingInferenceContext",
        (false, true) => "IInferenceContext",
    };

    /// <summary>The model class's thread-safety contract, a paragraph of its remarks.</summary>
    private static void WriteThreadSafetyDocs(CodeWriter w) =>
        w.Line("/// <para>Thread safety: a model is not thread-safe, not even for inference (each call uses its workspace, packed weights")
         .Line("/// and streaming state). To serve many threads, take <see cref=\"ShareWeights\"/> once and give each thread its own")
         .Line("/// <see cref=\"InferenceContext\"/> from <see cref=\"SharedWeights.CreateContext\"/>.</para>");

    private static void WriteServices(CodeWriter w, ModelSpec spec)
    {
        w.Line("/// <summary>")
         .Line("/// The model as PyTorch's <c>print(model)</c> and torchinfo's <c>summary</c> show it: the modules in PyTorch's")
         .Line("/// notation, the shapes of the calls with B and T symbolic, every parameter tensor, the total and the memory.")
         .Line("/// </summary>")
         .Line($"public {Rt}ModelSummary Summary() => _modelGenCore.Summary(nameof({spec.TypeName}));")
         .Line()
         .Line("/// <summary>The text of <see cref=\"Summary\"/>: the modules, the layer table, the parameter tensors and the shapes.</summary>")
         .Line("public override string ToString() => Summary().ToString();")
         .Line()
         .Line("/// <summary>")
         .Line("/// A snapshot of the parameters as they are now, packed once for the kernels: read-only weights that any")
         .Line("/// number of <see cref=\"InferenceContext\"/>s, one per thread, run on at the same time without locks. Later")
         .Line("/// changes to this model's parameters do not reach the snapshot; call this again for a new one.")
         .Line("/// </summary>")
         .Line("public SharedWeights ShareWeights() => new(_modelGenCore.ShareWeights());")
         .Line()
         .Line($"{Rt}ISharedWeights {Rt}IRecurrentModel.ShareWeights() => ShareWeights();")
         .Line();
        WriteSharedWeights(w);
        WriteInferenceContext(w, spec);
    }

    private static void WriteSharedWeights(CodeWriter w)
    {
        w.Line("/// <summary>")
         .Line("/// Read-only weights of this model, made by <see cref=\"ShareWeights\"/>: a snapshot of its parameters and the")
         .Line("/// packed copy the kernels read. Immutable: any number of threads may use it, and create contexts from it,")
         .Line("/// at the same time.")
         .Line("/// </summary>")
         .Open($"public sealed class SharedWeights : {Rt}ISharedWeights")
         .Line($"private readonly {Rt}SharedWeights<ModelSpec> _core;")
         .Line()
         .Line($"internal SharedWeights({Rt}SharedWeights<ModelSpec> core) => _core = core;")
         .Line()
         .Line("/// <summary>The snapshot of every parameter, laid out as <see cref=\"ParameterTable\"/> says.</summary>")
         .Line($"public {In} Parameters => _core.Parameters;")
         .Line()
         .Line("/// <summary>The slice of <see cref=\"Parameters\"/> holding the tensor of that PyTorch name.</summary>")
         .Line("/// <exception cref=\"global::System.Collections.Generic.KeyNotFoundException\">The model has no tensor of that name.</exception>")
         .Line($"public {In} GetParameter(string name) => _core.GetParameter(name);")
         .Line()
         .Line("/// <summary>Bytes of the snapshot and of its packed copy.</summary>")
         .Line("public long MemoryBytes => _core.MemoryBytes;")
         .Line()
         .Line("/// <summary>A new inference context over these weights, with its own workspace and streaming state: one per thread.</summary>")
         .Line("public InferenceContext CreateContext() => new(_core.CreateContext(), this);")
         .Line()
         .Line($"global::System.Collections.Generic.IReadOnlyList<{Rt}ParameterInfo> {Rt}ISharedWeights.ParameterTable => ParameterTable;")
         .Line()
         .Line($"{Rt}IInferenceContext {Rt}ISharedWeights.CreateContext() => CreateContext();")
         .Close()
         .Line();
    }

    private static void WriteInferenceContext(CodeWriter w, ModelSpec spec)
    {
        bool lstm = spec.Cell == CellKind.Lstm;
        w.Line("/// <summary>")
         .Line("/// The inference calls of this model over <see cref=\"SharedWeights\"/>, with a workspace and a streaming state")
         .Line("/// of the context's own: the same checks, shapes and results as the model's calls with the same weights. Not")
         .Line("/// thread-safe: use each context from one thread at a time; contexts share nothing mutable, so they run in")
         .Line("/// parallel. Warm calls allocate nothing.")
         .Line("/// </summary>")
         .Open($"public sealed class InferenceContext : {Rt}{ContextInterface(spec)}")
         .Line($"private readonly {Rt}InferenceContext<ModelSpec> _core;")
         .Line()
         .Open($"internal InferenceContext({Rt}InferenceContext<ModelSpec> core, SharedWeights weights)")
         .Line("_core = core;")
         .Line("Weights = weights;")
         .Close()
         .Line()
         .Line("/// <summary>The weights this context reads.</summary>")
         .Line("public SharedWeights Weights { get; }")
         .Line()
         .Line($"{Rt}ISharedWeights {Rt}IInferenceContext.Weights => Weights;")
         .Line();

        string input = Shaped(In, "input", SequenceInput(spec)), output = Shaped(Out, "output", SequenceOutput(spec));
        string h0 = Shaped(In, "h0", HState(spec), allowEmpty: true), c0 = Shaped(In, "c0", CState(spec), allowEmpty: true);
        string hN = Shaped(Out, "hN", HState(spec), allowEmpty: true), cN = Shaped(Out, "cN", CState(spec), allowEmpty: true);
        w.Line("/// <summary>Runs the recurrent layers from a zero state: <c>output = rnn(input)[0]</c>.</summary>")
         .Line("/// <param name=\"input\"><c>[B, T, I]</c>, batch first; T is <c>input.Length / (B * I)</c>.</param>")
         .Line("/// <param name=\"batchSize\">B.</param>")
         .Line("/// <param name=\"output\"><c>[B, T, D*Hout]</c>: the top layer's h at every step, forward then reverse direction.</param>")
         .Line($"public void Forward({input}, int batchSize, {output}) =>")
         .Line("    _core.Forward(input, batchSize, output, default, default, default, default);")
         .Line()
         .Line("/// <summary>Runs the recurrent layers: <c>output, " + (lstm ? "(hN, cN) = rnn(input, (h0, c0))" : "hN = rnn(input, h0)") + "</c>.</summary>")
         .Line("/// <param name=\"input\"><c>[B, T, I]</c>.</param>")
         .Line("/// <param name=\"batchSize\">B.</param>")
         .Line("/// <param name=\"output\"><c>[B, T, D*Hout]</c>.</param>")
         .Line("/// <param name=\"h0\">Initial h <c>[L*D, B, Hout]</c>; empty for zeros.</param>");
        if (lstm) w.Line("/// <param name=\"c0\">Initial c <c>[L*D, B, H]</c>; empty for zeros.</param>");
        w.Line("/// <param name=\"hN\">Final h <c>[L*D, B, Hout]</c>; empty to skip.</param>");
        if (lstm)
        {
            w.Line("/// <param name=\"cN\">Final c <c>[L*D, B, H]</c>; empty to skip.</param>")
             .Line($"public void Forward({input}, int batchSize, {output}, {h0}, {c0}, {hN}, {cN}) =>")
             .Line("    _core.Forward(input, batchSize, output, h0, c0, hN, cN);");
        }
        else
        {
            w.Line($"public void Forward({input}, int batchSize, {output}, {h0}, {hN}) =>")
             .Line("    _core.Forward(input, batchSize, output, h0, default, hN, default);")
             .Line()
             .Line($"void {Rt}IInferenceContext.Forward({In} input, int batchSize, {Out} output, {In} h0, {In} c0, {Out} hN, {Out} cN) =>")
             .Line("    _core.Forward(input, batchSize, output, h0, c0, hN, cN);");
        }

        if (spec.OutputSize > 0)
        {
            foreach ((string name, string result, string doc) in new[]
            {
                ("PredictLast", "prediction", "<c>head(output[:, -1])</c>: one prediction per sequence from its last step."),
                ("PredictSequence", "predictions", "<c>head(output)</c>: a prediction at every step."),
            })
            {
                string steps = name == "PredictLast" ? "" : "T, ";
                string shape = "[B, " + steps + Lit(spec.OutputSize) + "]";
                string states = h0 + " = default" + (lstm ? ", " + c0 + " = default" : "");
                w.Line()
                 .Line($"/// <summary>{doc}</summary>")
                 .Line("/// <param name=\"input\"><c>[B, T, I]</c>.</param>")
                 .Line("/// <param name=\"batchSize\">B.</param>")
                 .Line($"/// <param name=\"{result}\"><c>[B, {steps}O]</c>.</param>")
                 .Line("/// <param name=\"h0\">Initial h <c>[L*D, B, Hout]</c>; empty for zeros.</param>");
                if (lstm) w.Line("/// <param name=\"c0\">Initial c <c>[L*D, B, H]</c>; empty for zeros.</param>");
                w.Line($"public void {name}({input}, int batchSize, {Shaped(Out, result, shape)}, {states}) =>")
                 .Line($"    _core.{name}(input, batchSize, {result}, h0, {(lstm ? "c0" : "default")});");
                if (!lstm)
                {
                    w.Line()
                     .Line($"void {Rt}IHeadInferenceContext.{name}({In} input, int batchSize, {Out} {result}, {In} h0, {In} c0) =>")
                     .Line($"    _core.{name}(input, batchSize, {result}, h0, c0);");
                }
            }
        }

        if (!spec.Bidirectional)
        {
            w.Line()
             .Line("/// <summary>B of the streaming state (1 until <see cref=\"ResetState\"/> says otherwise).</summary>")
             .Line("public int StreamBatchSize => _core.StreamBatchSize;")
             .Line()
             .Line("/// <summary>Zeros the streaming state and sets its batch size.</summary>")
             .Line("public void ResetState(int batchSize = 1) => _core.ResetState(batchSize);")
             .Line()
             .Line("/// <summary>The streaming h <c>[L, B, Hout]</c>, readable and writable.</summary>")
             .Line($"public {Out} HiddenState => _core.HiddenState;")
             .Line();
            if (lstm)
            {
                w.Line("/// <summary>The streaming c <c>[L, B, H]</c>, readable and writable.</summary>")
                 .Line($"public {Out} CellState => _core.CellState;");
            }
            else
            {
                w.Line($"{Out} {Rt}IStreamingInferenceContext.CellState => default;");
            }
            w.Line()
             .Line("/// <summary>Advances the streaming state by one step and writes the top layer's h.</summary>")
             .Line("/// <param name=\"input\"><c>[B, I]</c>.</param>")
             .Line("/// <param name=\"output\"><c>[B, Hout]</c>.</param>")
             .Line($"public void Step({Shaped(In, "input", StepInput(spec), batch: false)}, " +
                   $"{Shaped(Out, "output", $"[B, {Lit(spec.Layout().StateSize)}]", batch: false)}) => _core.Step(input, output);");
            if (spec.OutputSize > 0)
            {
                w.Line()
                 .Line("/// <summary>Advances the streaming state by one step and writes <c>head(h)</c>.</summary>")
                 .Line("/// <param name=\"input\"><c>[B, I]</c>.</param>")
                 .Line("/// <param name=\"prediction\"><c>[B, O]</c>.</param>")
                 .Line($"public void StepPredict({Shaped(In, "input", StepInput(spec), batch: false)}, " +
                       $"{Shaped(Out, "prediction", $"[B, {Lit(spec.OutputSize)}]", batch: false)}) => _core.StepPredict(input, prediction);");
            }
        }
        w.Close()
         .Line();
    }
}
