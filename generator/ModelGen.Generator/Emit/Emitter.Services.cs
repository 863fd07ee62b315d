using System.Collections.Generic;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Emit;

// The model's summary (Summary, ToString) and its services: ShareWeights, and the nested SharedWeights and
// InferenceContext classes, whose inference methods carry the same shapes as the model's.
internal static partial class Emitter
{
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

        // The model's own inference calls, on the context's core.
        WriteForward(w, spec, "_core", "IInferenceContext", training: false);
        if (spec.OutputSize > 0) WritePredictions(w, spec, "_core", "IHeadInferenceContext", training: false);
        if (!spec.Bidirectional) WriteStreaming(w, spec, "_core", "IStreamingInferenceContext");
        w.Close()
         .Line();
    }
}
