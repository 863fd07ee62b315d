namespace ModelGen;

/// <summary>
/// Read-only weights of a model, shared by any number of inference contexts: what
/// <see cref="IRecurrentModel.ShareWeights"/> returns. Each generated model's nested <c>SharedWeights</c> class
/// implements it.
/// </summary>
/// <remarks>
/// Thread safety: immutable, so any number of threads may read it and call <see cref="CreateContext"/> at the same
/// time. It is a snapshot taken by <see cref="IRecurrentModel.ShareWeights"/>: later changes to the model's
/// parameters do not reach it.
/// </remarks>
public interface ISharedWeights
{
    /// <summary>The tensors of <see cref="Parameters"/> in PyTorch's <c>state_dict</c> order.</summary>
    IReadOnlyList<ParameterInfo> ParameterTable { get; }

    /// <summary>The snapshot of every parameter, laid out as <see cref="ParameterTable"/> says.</summary>
    ReadOnlySpan<float> Parameters { get; }

    /// <summary>A new inference context over these weights, with its own workspace and streaming state.</summary>
    IInferenceContext CreateContext();
}

/// <summary>
/// The inference calls of a model, over <see cref="ISharedWeights"/>, with a workspace and a streaming state of
/// the context's own: <see cref="Forward"/> here; predictions and streaming in the interfaces below, as for
/// models. Each generated model's nested <c>InferenceContext</c> class implements the most specific one.
/// </summary>
/// <remarks>
/// Thread safety: a context is not thread-safe; use it from one thread at a time. Contexts over the same weights
/// share nothing mutable and run in parallel without locks.
/// </remarks>
public interface IInferenceContext
{
    /// <summary>The weights this context reads.</summary>
    ISharedWeights Weights { get; }

    /// <summary>
    /// <see cref="IRecurrentModel.Forward"/>: the recurrent layers over <paramref name="input"/> <c>[B, T, I]</c>
    /// into <paramref name="output"/> <c>[B, T, D*Hout]</c>, with the same checks and results as the model's.
    /// </summary>
    /// <param name="input"><c>[B, T, I]</c>; T is <c>input.Length / (B * I)</c>.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="output"><c>[B, T, D*Hout]</c>.</param>
    /// <param name="h0"><c>[L*D, B, Hout]</c> or empty.</param>
    /// <param name="c0"><c>[L*D, B, H]</c> or empty; LSTM only.</param>
    /// <param name="hN"><c>[L*D, B, Hout]</c> or empty.</param>
    /// <param name="cN"><c>[L*D, B, H]</c> or empty; LSTM only.</param>
    void Forward(ReadOnlySpan<float> input, int batchSize, Span<float> output,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN);
}

/// <summary>A context of a model with a linear head: <see cref="IHeadModel.PredictLast"/> and <see cref="IHeadModel.PredictSequence"/>.</summary>
public interface IHeadInferenceContext : IInferenceContext
{
    /// <summary><c>head(output[:, -1])</c>: <paramref name="prediction"/> <c>[B, O]</c> from <paramref name="input"/> <c>[B, T, I]</c>.</summary>
    void PredictLast(ReadOnlySpan<float> input, int batchSize, Span<float> prediction,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default);

    /// <summary><c>head(output)</c>: <paramref name="predictions"/> <c>[B, T, O]</c> from <paramref name="input"/> <c>[B, T, I]</c>.</summary>
    void PredictSequence(ReadOnlySpan<float> input, int batchSize, Span<float> predictions,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default);
}

/// <summary>A context of a unidirectional model: a streaming state of its own, advanced one step per call.</summary>
public interface IStreamingInferenceContext : IInferenceContext
{
    /// <summary>B of the streaming state, set by <see cref="ResetState"/> (1 until then).</summary>
    int StreamBatchSize { get; }

    /// <summary>Zeros the state and sets its batch size.</summary>
    void ResetState(int batchSize = 1);

    /// <summary>The streaming <c>h</c> <c>[L, B, Hout]</c>, readable and writable.</summary>
    Span<float> HiddenState { get; }

    /// <summary>The streaming <c>c</c> <c>[L, B, H]</c> of an LSTM; empty for GRU and RNN.</summary>
    Span<float> CellState { get; }

    /// <summary>Advances the state by one step of <paramref name="input"/> <c>[B, I]</c> and writes the top layer's <c>h</c> to <paramref name="output"/> <c>[B, Hout]</c>.</summary>
    void Step(ReadOnlySpan<float> input, Span<float> output);
}

/// <summary>A streaming context of a model with a head: one step in, one prediction out.</summary>
public interface IStreamingHeadInferenceContext : IStreamingInferenceContext, IHeadInferenceContext
{
    /// <summary>Advances the state by one step of <paramref name="input"/> <c>[B, I]</c> and writes <c>head(h)</c> to <paramref name="prediction"/> <c>[B, O]</c>.</summary>
    void StepPredict(ReadOnlySpan<float> input, Span<float> prediction);
}
