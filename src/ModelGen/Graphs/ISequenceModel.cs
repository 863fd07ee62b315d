namespace ModelGen;

/// <summary>
/// A model with one flat parameter buffer and a gradient buffer of the same layout, which the optimisers step
/// (<see cref="Optimizer.Step(ITrainableModel)"/>). Reading <see cref="Parameters"/> changes nothing; writes go
/// through <see cref="EditParameters"/>, which tells the model that its packed weights are stale.
/// </summary>
public interface ITrainableModel
{
    /// <summary>Floats in the parameter buffer.</summary>
    int ParameterCount { get; }

    /// <summary>All parameters, in <c>state_dict</c> order.</summary>
    ReadOnlySpan<float> Parameters { get; }

    /// <summary>The gradient buffer, laid out like <see cref="Parameters"/>; Backward adds to it.</summary>
    Span<float> Gradients { get; }

    /// <summary>
    /// The parameter buffer for writing; marks the packed weights stale, so the next forward call repacks them.
    /// Writes through the span made after a forward call are seen only after another call of this method or of
    /// <see cref="MarkParametersChanged"/>.
    /// </summary>
    Span<float> EditParameters();

    /// <summary>Says that the parameters were written since the last forward call: the next one repacks.</summary>
    void MarkParametersChanged();

    /// <summary>Sets every gradient to zero.</summary>
    void ZeroGradients();
}

/// <summary>What every generated <c>[SequenceModel]</c> graph offers besides its forward calls.</summary>
public interface ISequenceModel : ITrainableModel
{
    /// <summary>Features of the output per step (or per sequence when <see cref="OutputPerStep"/> is false).</summary>
    int OutputSize { get; }

    /// <summary>
    /// Floats of recurrent state per sequence (the initial and final state of a forward call, the streaming state):
    /// every recurrent module's h_n <c>[L·D, B, Hout]</c>, then for an LSTM its c_n <c>[L·D, B, H]</c>, in module order.
    /// </summary>
    int RecurrentStateSize { get; }

    /// <summary>Whether the output has a row per step <c>[B, T, O]</c> (false: one per sequence, <c>[B, O]</c>, after a reduction).</summary>
    bool OutputPerStep { get; }

    /// <summary>PyTorch's default initialisation, from a seeded generator.</summary>
    void InitializeParameters(ulong seed);

    /// <summary>Restarts the dropout masks' generator.</summary>
    void SeedDropout(ulong seed);

    /// <summary>Loads a <c>state_dict</c> saved as safetensors, matched by name.</summary>
    LoadResult LoadSafetensors(Stream stream, LoadOptions? options = null);

    /// <summary>Saves every parameter under its <c>state_dict</c> name.</summary>
    void SaveSafetensors(Stream stream);
}

/// <summary>A graph that reads token ids <c>[B, T]</c> (its first module is an Embedding).</summary>
public interface ITokenSequenceModel : ISequenceModel
{
    /// <summary>Token ids run from 0 to VocabularySize − 1.</summary>
    int VocabularySize { get; }

    /// <summary>The Embedding's <c>padding_idx</c> (the token to fill padding positions with), or -1 for none.</summary>
    int PaddingIdx { get; }

    /// <summary>The forward pass; see the generated method.</summary>
    void Forward(ReadOnlySpan<int> tokens, int batchSize, Span<float> output, ReadOnlySpan<int> lengths = default,
        ReadOnlySpan<float> initialState = default, Span<float> finalState = default);

    /// <summary>The forward pass that records what <see cref="Backward"/> reads.</summary>
    void TrainForward(ReadOnlySpan<int> tokens, int batchSize, Span<float> output, ReadOnlySpan<int> lengths = default,
        ReadOnlySpan<float> initialState = default, Span<float> finalState = default);

    /// <summary>Backpropagation from dL/d(output) (and dL/d(final state)) of the last training forward.</summary>
    void Backward(ReadOnlySpan<float> upstream, ReadOnlySpan<float> finalStateGradient = default, Span<float> initialStateGradient = default);
}

/// <summary>A graph that reads feature vectors <c>[B, T, I]</c>.</summary>
public interface IFeatureSequenceModel : ISequenceModel
{
    /// <summary>Features per step of the input.</summary>
    int InputSize { get; }

    /// <summary>The forward pass; see the generated method.</summary>
    void Forward(ReadOnlySpan<float> input, int batchSize, Span<float> output, ReadOnlySpan<int> lengths = default,
        ReadOnlySpan<float> initialState = default, Span<float> finalState = default);

    /// <summary>The forward pass that records what <see cref="Backward"/> reads.</summary>
    void TrainForward(ReadOnlySpan<float> input, int batchSize, Span<float> output, ReadOnlySpan<int> lengths = default,
        ReadOnlySpan<float> initialState = default, Span<float> finalState = default);

    /// <summary>Backpropagation from dL/d(output) (and dL/d(final state)) of the last training forward; writes dL/d(input) unless empty.</summary>
    void Backward(ReadOnlySpan<float> upstream, Span<float> inputGradient = default,
        ReadOnlySpan<float> finalStateGradient = default, Span<float> initialStateGradient = default);
}

/// <summary>
/// What every generated <c>[Seq2SeqModel]</c> encoder–decoder offers: teacher-forced forward and backward over a
/// batch of source and target sequences, and (as an <see cref="IStepDecoder"/>) decoding one token at a time.
/// </summary>
public interface ISeq2SeqModel : ITrainableModel, IStepDecoder
{
    /// <summary>Source token ids run from 0 to SourceVocabularySize − 1.</summary>
    int SourceVocabularySize { get; }

    /// <summary>Whether the decoder attends to the encoder's outputs (the <c>attention</c> spans are then filled).</summary>
    bool HasAttention { get; }

    /// <summary>PyTorch's default initialisation, from a seeded generator.</summary>
    void InitializeParameters(ulong seed);

    /// <summary>Restarts the dropout masks' generators.</summary>
    void SeedDropout(ulong seed);

    /// <summary>Loads a <c>state_dict</c> saved as safetensors, matched by name.</summary>
    LoadResult LoadSafetensors(Stream stream, LoadOptions? options = null);

    /// <summary>Saves every parameter under its <c>state_dict</c> name.</summary>
    void SaveSafetensors(Stream stream);

    /// <summary>The teacher-forced forward pass; see the generated method.</summary>
    void Forward(ReadOnlySpan<int> source, ReadOnlySpan<int> target, int batchSize, Span<float> logits,
        ReadOnlySpan<int> sourceLengths = default, ReadOnlySpan<int> targetLengths = default, Span<float> attention = default);

    /// <summary>The teacher-forced forward pass that records what <see cref="Backward"/> reads.</summary>
    void TrainForward(ReadOnlySpan<int> source, ReadOnlySpan<int> target, int batchSize, Span<float> logits,
        ReadOnlySpan<int> sourceLengths = default, ReadOnlySpan<int> targetLengths = default, Span<float> attention = default);

    /// <summary>Backpropagation from dL/d(logits) of the last training forward, through the decoder, the bridge and the encoder.</summary>
    void Backward(ReadOnlySpan<float> logitsGradient);

    /// <summary>
    /// Runs the encoder over a batch of sources and starts decoding: <paramref name="rowsPerSource"/> decoder rows
    /// per source (1 for greedy decoding, the beam width for beam search), each from its source's final state.
    /// </summary>
    void BeginDecoding(ReadOnlySpan<int> source, int batchSize, ReadOnlySpan<int> sourceLengths = default, int rowsPerSource = 1);
}
