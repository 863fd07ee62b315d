using System.Collections.Generic;

namespace ModelGen.Generator;

/// <summary>What flows into and out of one module: features per row, and whether rows are steps (B·T) or sequences (B).</summary>
/// <param name="Recurrent">For a FinalHidden reduction, the index of the recurrent module whose h_n it reads; for an
/// attention module, the one whose hidden state is its query; else -1.</param>
/// <param name="QueryFeatures">For an attention module, the features of its query; else 0.</param>
internal sealed record ModuleShape(int InFeatures, int OutFeatures, bool PerStep, bool OutPerStep, int Recurrent, int QueryFeatures = 0);

/// <summary>Why a graph's modules do not fit together.</summary>
internal enum FlowProblemKind
{
    /// <summary>The module's input size argument differs from the features flowing in.</summary>
    InputSizeMismatch,

    /// <summary>An Embedding that is not the first module: token ids exist only at the graph's input.</summary>
    EmbeddingNotFirst,

    /// <summary>A reduction with no recurrent module before it.</summary>
    ReduceWithoutRecurrent,

    /// <summary>A FinalHidden reduction not right after a recurrent module: it reads that module's h_n.</summary>
    FinalHiddenNotAfterRecurrent,

    /// <summary>A recurrent module or a second reduction after a reduction: there are no steps left.</summary>
    AfterReduce,

    /// <summary>The first module does not say how many features a step has (an activation, dropout or reduction).</summary>
    NoInputSize,

    /// <summary>An attention module neither after a recurrent module nor directly before one: it has no query.</summary>
    AttentionWithoutQuery,

    /// <summary>A second attention module: a graph attends to its memory once.</summary>
    SecondAttention,

    /// <summary>An attention module whose query would come from a bidirectional recurrent module, which cannot run step by step.</summary>
    AttentionOnBidirectional,

    /// <summary>Dot attention whose query and keys differ in size: it scores q · k.</summary>
    DotSizeMismatch,
}

/// <summary>One shape-flow problem: the module (by index), the argument it concerns and the sizes involved.</summary>
internal sealed record FlowProblem(int Module, FlowProblemKind Kind, string? Argument, int Expected, int Actual);

/// <summary>
/// The pure shape propagation of a graph, <c>[B, T, F]</c> through every module, which the parser checks and the
/// emitter writes comments and sizes from: one derivation of every module's sizes.
/// </summary>
internal static class ShapeFlow
{
    /// <summary>The argument of a module that states its input size, or null for modules that take what flows in.</summary>
    public static string? InputArgument(ModuleSpec module) => module switch
    {
        RecurrentModule => "InputSize",
        LinearModule => "InFeatures",
        LayerNormModule => "NormalizedShape",
        _ => null,
    };

    /// <summary>The input size a module declares, or null when it takes what flows in.</summary>
    public static int? DeclaredInput(ModuleSpec module) => module switch
    {
        RecurrentModule r => r.InputSize,
        LinearModule l => l.InFeatures,
        LayerNormModule n => n.NormalizedShape,
        _ => null,
    };

    /// <summary>The shapes of every module (as far as they can be derived) and every problem, in module order.</summary>
    public static (List<ModuleShape> Shapes, List<FlowProblem> Problems) Run(IReadOnlyList<ModuleSpec> modules)
    {
        var shapes = new List<ModuleShape>();
        var problems = new List<FlowProblem>();
        if (modules.Count == 0) return (shapes, problems);
        int features;
        bool perStep = true, reduced = false;
        int lastRecurrent = -1, attention = -1;
        ModuleSpec first = modules[0];
        if (first is EmbeddingModule) features = 0;   // token ids
        else if (DeclaredInput(first) is int declared) features = declared;
        else
        {
            problems.Add(new FlowProblem(0, FlowProblemKind.NoInputSize, null, 0, 0));
            return (shapes, problems);
        }

        for (int i = 0; i < modules.Count; i++)
        {
            ModuleSpec module = modules[i];
            int input = features;
            int? declared = DeclaredInput(module);
            if (declared is int size && size != features && i > 0)
            {
                problems.Add(new FlowProblem(i, FlowProblemKind.InputSizeMismatch, InputArgument(module), features, size));
            }
            int output = features;
            int recurrent = -1, query = 0;
            bool outPerStep = perStep;
            switch (module)
            {
                case EmbeddingModule e:
                    if (i > 0) problems.Add(new FlowProblem(i, FlowProblemKind.EmbeddingNotFirst, null, 0, 0));
                    output = e.EmbeddingDim;
                    break;
                case RecurrentModule r:
                    if (reduced) problems.Add(new FlowProblem(i, FlowProblemKind.AfterReduce, null, 0, 0));
                    input = r.InputSize;
                    output = r.OutputFeatures;
                    lastRecurrent = i;
                    break;
                case LinearModule l:
                    input = l.InFeatures;
                    output = l.OutFeatures;
                    break;
                case LayerNormModule n:
                    input = output = n.NormalizedShape;
                    break;
                case ReduceModule reduce:
                    if (reduced) problems.Add(new FlowProblem(i, FlowProblemKind.AfterReduce, null, 0, 0));
                    else if (lastRecurrent < 0) problems.Add(new FlowProblem(i, FlowProblemKind.ReduceWithoutRecurrent, null, 0, 0));
                    else if (reduce.Mode == ReduceMode.FinalHidden && lastRecurrent != i - 1)
                    {
                        problems.Add(new FlowProblem(i, FlowProblemKind.FinalHiddenNotAfterRecurrent, null, 0, 0));
                    }
                    else if (reduce.Mode == ReduceMode.FinalHidden)
                    {
                        recurrent = lastRecurrent;
                        output = ((RecurrentModule)modules[lastRecurrent]).OutputFeatures;
                    }
                    reduced = true;
                    outPerStep = false;
                    break;
                case AttentionModule a:
                    // After a recurrent module (Luong), the query is what flows in; directly before one (Bahdanau),
                    // it is that module's top-layer hidden state before the step.
                    recurrent = lastRecurrent >= 0 ? lastRecurrent : i + 1 < modules.Count && modules[i + 1] is RecurrentModule ? i + 1 : -1;
                    if (reduced) problems.Add(new FlowProblem(i, FlowProblemKind.AfterReduce, null, 0, 0));
                    else if (attention >= 0) problems.Add(new FlowProblem(i, FlowProblemKind.SecondAttention, null, 0, 0));
                    else if (recurrent < 0) problems.Add(new FlowProblem(i, FlowProblemKind.AttentionWithoutQuery, null, 0, 0));
                    else if (((RecurrentModule)modules[recurrent]).Bidirectional) problems.Add(new FlowProblem(i, FlowProblemKind.AttentionOnBidirectional, null, 0, 0));
                    else query = recurrent < i ? features : ((RecurrentModule)modules[recurrent]).StateSize;
                    if (query > 0 && a.Score == AttentionScore.Dot && query != a.KeySize)
                    {
                        problems.Add(new FlowProblem(i, FlowProblemKind.DotSizeMismatch, "KeySize", query, a.KeySize));
                    }
                    attention = i;
                    output = features + a.KeySize;
                    break;
            }
            shapes.Add(new ModuleShape(input, output, perStep, outPerStep, recurrent, query));
            features = output;
            perStep = outPerStep;
        }
        return (shapes, problems);
    }
}
