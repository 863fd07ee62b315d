namespace ModelGen;

/// <summary>
/// Inference over <see cref="SharedWeights{TSpec}"/> with a workspace and a streaming state of its own: the
/// inference calls of <see cref="RecurrentModel{TSpec}"/> (the same argument checks, the same code, bit-identical
/// results for the same weights), for one thread at a time. The generated model's <c>SharedWeights.CreateContext()</c>
/// returns it wrapped in the model's nested <c>InferenceContext</c> class, whose methods carry the model's shapes.
/// </summary>
/// <remarks>
/// <para>Thread safety: not thread-safe; use each context from one thread at a time (give each thread, or each
/// request in flight, its own). Contexts over the same weights share nothing mutable, so they run in parallel
/// without locks.</para>
/// <para>Memory: the constructor allocates the streaming state for batch 1; the first call that needs more rows
/// (B·T) than any call before grows the workspace, which never shrinks; <see cref="ResetState"/> allocates only
/// when the batch size changes. After that, calls allocate nothing.</para>
/// </remarks>
public sealed class InferenceContext<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    private readonly Workspace<TSpec> _workspace;

    internal InferenceContext(SharedWeights<TSpec> weights)
    {
        Weights = weights;
        _workspace = new Workspace<TSpec>(weights.Packed);
    }

    /// <summary>The weights this context reads.</summary>
    public SharedWeights<TSpec> Weights { get; }

    /// <summary>See <see cref="IRecurrentModel.Forward"/>.</summary>
    public void Forward(ReadOnlySpan<float> input, int batchSize, Span<float> output,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN) =>
        RecurrentModel<TSpec>.ForwardWith(_workspace, input, batchSize, output, h0, c0, hN, cN);

    /// <summary>See <see cref="IHeadModel.PredictLast"/>.</summary>
    public void PredictLast(ReadOnlySpan<float> input, int batchSize, Span<float> prediction,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default) =>
        RecurrentModel<TSpec>.PredictLastWith(_workspace, input, batchSize, prediction, h0, c0);

    /// <summary>See <see cref="IHeadModel.PredictSequence"/>.</summary>
    public void PredictSequence(ReadOnlySpan<float> input, int batchSize, Span<float> predictions,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default) =>
        RecurrentModel<TSpec>.PredictSequenceWith(_workspace, input, batchSize, predictions, h0, c0);

    /// <summary>B of the streaming state (1 until <see cref="ResetState"/> says otherwise).</summary>
    public int StreamBatchSize => _workspace.StreamBatchSize;

    /// <summary>The streaming h <c>[L, B, Hout]</c>, readable and writable.</summary>
    public Span<float> HiddenState => _workspace.StreamH;

    /// <summary>The streaming c <c>[L, B, H]</c> (LSTM), readable and writable; empty otherwise.</summary>
    public Span<float> CellState => _workspace.StreamC;

    /// <summary>Zeros the streaming state and sets its batch size (allocates only when the batch size changes).</summary>
    public void ResetState(int batchSize = 1) => RecurrentModel<TSpec>.ResetStateWith(_workspace, batchSize);

    /// <summary>See <see cref="IStreamingModel.Step"/>.</summary>
    public void Step(ReadOnlySpan<float> input, Span<float> output) => RecurrentModel<TSpec>.StepWith(_workspace, input, output);

    /// <summary>See <see cref="IStreamingHeadModel.StepPredict"/>.</summary>
    public void StepPredict(ReadOnlySpan<float> input, Span<float> prediction) =>
        RecurrentModel<TSpec>.StepPredictWith(_workspace, input, prediction);
}
