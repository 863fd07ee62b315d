using ModelGen.Kernels;

namespace ModelGen;

// The inference calls of a model and of an InferenceContext: the same checks and the same forward code, given the
// workspace (which holds the packed weights to read) of the one or the other.
public sealed partial class RecurrentModel<TSpec>
{
    /// <summary>
    /// A snapshot of the parameters as they are now, packed once for the kernels, that any number of
    /// <see cref="InferenceContext{TSpec}"/>s (one per thread) can run on at the same time. Later changes to this
    /// model's parameters do not reach the snapshot; call this again for a new one.
    /// </summary>
    public SharedWeights<TSpec> ShareWeights() => new(_parameters);

    /// <summary>See <see cref="IRecurrentModel.Forward"/>.</summary>
    internal static void ForwardWith(Workspace<TSpec> workspace, ReadOnlySpan<float> input, int batchSize, Span<float> output,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN)
    {
        int steps = CheckCall(ForwardResult.Output, InferenceRowWidth, input, batchSize, output, h0, c0, hN, cN);
        Run(workspace, input, batchSize, steps, h0, c0, hN, cN, output);
    }

    /// <summary>See <see cref="IHeadModel.PredictLast"/>.</summary>
    internal static void PredictLastWith(Workspace<TSpec> workspace, ReadOnlySpan<float> input, int batchSize, Span<float> prediction,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        int steps = CheckCall(ForwardResult.LastPrediction, InferenceRowWidth, input, batchSize, prediction, h0, c0, default, default);
        Predict(workspace, ForwardResult.LastPrediction, RunToWorkspace(workspace, input, batchSize, steps, h0, c0), batchSize, steps, prediction);
    }

    /// <summary>See <see cref="IHeadModel.PredictSequence"/>.</summary>
    internal static void PredictSequenceWith(Workspace<TSpec> workspace, ReadOnlySpan<float> input, int batchSize, Span<float> predictions,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        int steps = CheckCall(ForwardResult.SequencePrediction, InferenceRowWidth, input, batchSize, predictions, h0, c0, default, default);
        Predict(workspace, ForwardResult.SequencePrediction, RunToWorkspace(workspace, input, batchSize, steps, h0, c0), batchSize, steps, predictions);
    }

    /// <summary>Zeros the streaming state and sets its batch size (allocates only when the batch size changes).</summary>
    internal static void ResetStateWith(Workspace<TSpec> workspace, int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        // Also covers the workspace of a step of this batch, so that Step cannot fail on size later.
        ArgumentChecks.Length(nameof(batchSize), "batchSize", batchSize, StreamRowWidth);
        workspace.ResetState(batchSize);
    }

    /// <summary>See <see cref="IStreamingModel.Step"/>.</summary>
    internal static void StepWith(Workspace<TSpec> workspace, ReadOnlySpan<float> input, Span<float> output)
    {
        RequireUnidirectional();
        int batch = workspace.StreamBatchSize;
        float[] h = workspace.StreamH, c = workspace.StreamC;
        CheckLength(nameof(input), input.Length, batch, 1, InputSize, "[B, I]");
        CheckLength(nameof(output), output.Length, batch, 1, StateSize, "[B, Hout]");
        CheckStepAliasing(input, output, nameof(output), h, c);
        if (batch == 1) StreamingStep<TSpec>.Step(workspace.PackedWeights, input, h, c, workspace.StepScratch, output);
        else Run(workspace, input, batch, 1, h, c, h, c, output);
    }

    /// <summary>See <see cref="IStreamingHeadModel.StepPredict"/>.</summary>
    internal static void StepPredictWith(Workspace<TSpec> workspace, ReadOnlySpan<float> input, Span<float> prediction)
    {
        RequireUnidirectional();
        RequireHead();
        int batch = workspace.StreamBatchSize;
        float[] h = workspace.StreamH, c = workspace.StreamC;
        CheckLength(nameof(input), input.Length, batch, 1, InputSize, "[B, I]");
        CheckLength(nameof(prediction), prediction.Length, batch, 1, OutputSize, "[B, O]");
        CheckStepAliasing(input, prediction, nameof(prediction), h, c);
        if (batch == 1)
        {
            StreamingStep<TSpec>.Step(workspace.PackedWeights, input, h, c, workspace.StepScratch, default);
            ApplyHead(workspace, h.AsSpan((NumLayers - 1) * StateSize, StateSize), OutputFeatures, 1, prediction);
        }
        else
        {
            Predict(workspace, ForwardResult.SequencePrediction, RunToWorkspace(workspace, input, batch, 1, h, c, h, c), batch, 1, prediction);
        }
    }

    /// <summary>
    /// A step's aliasing rules: it writes <paramref name="result"/> and the streaming state (the workspace's own
    /// arrays, disjoint) while it still reads <paramref name="input"/> and that state.
    /// </summary>
    private static void CheckStepAliasing(ReadOnlySpan<float> input, ReadOnlySpan<float> result, string resultName, float[] h, float[] c)
    {
        ArgumentChecks.NoOverlap(result, resultName, input, nameof(input));
        ArgumentChecks.NoOverlap(result, resultName, h, "HiddenState");
        ArgumentChecks.NoOverlap(result, resultName, c, "CellState");
        ArgumentChecks.NoOverlap(h, "HiddenState", input, nameof(input));
        ArgumentChecks.NoOverlap(c, "CellState", input, nameof(input));
    }

    /// <summary>Floats of the packed copy of the weights that the kernels read (padding included; depends on the vector width).</summary>
    internal static int PackedWeightCount => PackedLength;

    /// <summary>A new packed copy of <paramref name="parameters"/>.</summary>
    internal static AlignedFloats PackCopy(float[] parameters)
    {
        var packed = new AlignedFloats(PackedLength);
        Pack(parameters, packed.Span);
        return packed;
    }
}
