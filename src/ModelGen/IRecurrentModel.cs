namespace ModelGen;

/// <summary>
/// What every generated model offers: sizes, the parameter buffer, the forward pass over a batch of
/// sequences, PyTorch-compatible safetensors I/O and PyTorch's default initialisation. Generic code (test
/// harnesses, trainers, benchmarks) drives any generated model through it without reflection.
/// </summary>
/// <remarks>
/// <para>Shapes follow PyTorch with <c>batch_first=True</c>: B = batch, T = sequence length, I = input size,
/// H = hidden size, Hout = projection size or H, D = 2 when bidirectional else 1, L = layers, O = head outputs.
/// All tensors are row-major float spans.</para>
/// <para>Thread safety: a model is not thread-safe, not even for inference; for many threads, share its weights
/// (<see cref="ShareWeights"/>) and give each thread its own <see cref="IInferenceContext"/>.</para>
/// </remarks>
public interface IRecurrentModel : ITrainableModel
{
    /// <summary>The cell.</summary>
    CellKind Cell { get; }

    /// <summary>I: features per time step.</summary>
    int InputSize { get; }

    /// <summary>H: features of the hidden (and cell) state.</summary>
    int HiddenSize { get; }

    /// <summary>L: stacked layers.</summary>
    int NumLayers { get; }

    /// <summary>D: 2 when bidirectional, else 1.</summary>
    int NumDirections { get; }

    /// <summary>Hout: features of h per direction (the projection size when there is one, else H).</summary>
    int StateSize { get; }

    /// <summary>D * Hout: features per time step of the recurrent output.</summary>
    int OutputFeatures { get; }

    /// <summary>O: outputs of the linear head, 0 when the model has none.</summary>
    int OutputSize { get; }

    /// <summary>The tensors of <see cref="ITrainableModel.Parameters"/> in PyTorch's <c>state_dict</c> order.</summary>
    IReadOnlyList<ParameterInfo> ParameterTable { get; }

    /// <summary>The slice of <see cref="ITrainableModel.Parameters"/> holding the tensor of that PyTorch name.</summary>
    /// <exception cref="KeyNotFoundException">The model has no tensor of that name.</exception>
    ReadOnlySpan<float> GetParameter(string name);

    /// <summary>
    /// Runs the recurrent layers over <paramref name="input"/> <c>[B, T, I]</c> and writes <paramref name="output"/>
    /// <c>[B, T, D*Hout]</c>. Empty <paramref name="h0"/> / <paramref name="c0"/> mean a zero initial state; empty
    /// <paramref name="hN"/> / <paramref name="cN"/> are not written.
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

    /// <summary>
    /// A snapshot of the parameters as they are now, packed once: read-only weights that any number of
    /// <see cref="IInferenceContext"/>s (one per thread) run on at the same time. Later changes to the model's
    /// parameters do not reach it.
    /// </summary>
    ISharedWeights ShareWeights();

    /// <summary>
    /// What PyTorch's <c>print(model)</c> and torchinfo's <c>summary</c> show: the modules in PyTorch's notation, the
    /// shapes of the calls, every parameter tensor and the memory they take. Its <c>ToString()</c> is the model's.
    /// </summary>
    ModelSummary Summary();

    /// <summary>
    /// PyTorch's <c>dropout</c> between stacked layers, applied by training forwards only: each output of every
    /// layer but the last is zeroed with this probability and the rest scaled by 1/(1 − p). Default 0.
    /// </summary>
    float Dropout { get; set; }

    /// <summary>Restarts the generator of the dropout masks: the same seed gives the same masks.</summary>
    void SeedDropout(ulong seed);

    /// <summary>
    /// <see cref="Forward"/> that also records what <see cref="Backward"/> needs (an inference forward records
    /// nothing). <see cref="Backward"/> then takes dL/d(output) <c>[B, T, D*Hout]</c>.
    /// </summary>
    void TrainForward(ReadOnlySpan<float> input, int batchSize, Span<float> output,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN);

    /// <summary>
    /// Backpropagation through time from the last training forward, given the gradient of the loss with respect
    /// to what that forward returned. Adds to <see cref="ITrainableModel.Gradients"/>; writes the gradients with respect to the
    /// input and the initial state into the spans that are not empty.
    /// </summary>
    /// <param name="upstream">dL/d(output) <c>[B, T, D*Hout]</c>, dL/d(prediction) <c>[B, O]</c> or
    /// dL/d(predictions) <c>[B, T, O]</c>, after TrainForward, TrainPredictLast or TrainPredictSequence.</param>
    /// <param name="inputGradient">dL/d(input) <c>[B, T, I]</c>, or empty.</param>
    /// <param name="h0Gradient">dL/dh0 <c>[L*D, B, Hout]</c>, or empty.</param>
    /// <param name="c0Gradient">dL/dc0 <c>[L*D, B, H]</c> (LSTM), or empty.</param>
    void Backward(ReadOnlySpan<float> upstream, Span<float> inputGradient, Span<float> h0Gradient, Span<float> c0Gradient);

    /// <summary>Sets every parameter to PyTorch's default initialisation, drawn from a generator seeded with <paramref name="seed"/>.</summary>
    void InitializeParameters(ulong seed);

    /// <summary>Reads parameters by PyTorch name from a safetensors file. See <see cref="LoadSafetensors(Stream, LoadOptions)"/>.</summary>
    /// <exception cref="SafetensorsException">The file is malformed or does not fit the model; nothing has changed.</exception>
    /// <exception cref="IOException">The file cannot be opened or read (e.g. <see cref="FileNotFoundException"/>); nothing has changed.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read; nothing has changed.</exception>
    LoadResult LoadSafetensors(string path, bool strict = true);

    /// <summary>
    /// Reads parameters by PyTorch name from a safetensors stream, as PyTorch's <c>load_state_dict(strict)</c>
    /// does. See <see cref="LoadSafetensors(Stream, LoadOptions)"/>.
    /// </summary>
    /// <exception cref="SafetensorsException">The file is malformed or does not fit the model; nothing has changed.</exception>
    /// <exception cref="IOException">The stream cannot be read; nothing has changed.</exception>
    LoadResult LoadSafetensors(Stream stream, bool strict = true);

    /// <summary>Reads parameters from a safetensors file, matched and renamed as <paramref name="options"/> say. See <see cref="LoadSafetensors(Stream, LoadOptions)"/>.</summary>
    /// <exception cref="SafetensorsException">The file is malformed or does not fit the model; nothing has changed.</exception>
    /// <exception cref="IOException">The file cannot be opened or read (e.g. <see cref="FileNotFoundException"/>); nothing has changed.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read; nothing has changed.</exception>
    LoadResult LoadSafetensors(string path, LoadOptions options);

    /// <summary>
    /// Reads parameters from a safetensors stream, from its current position to the end of the file, as PyTorch's
    /// <c>load_state_dict</c> reads a <c>state_dict</c>: each of the file's keys is renamed by
    /// <see cref="LoadOptions.Rename"/>, and the tensors whose names are the model's are loaded. Each must be F32
    /// with exactly the model's shape. With <see cref="LoadOptions.Strict"/> (the default) every tensor of the
    /// model must be there, and the file may hold no tensor under <c>rnn.</c> or <c>head.</c> that the model lacks;
    /// other tensors (<c>input</c>, <c>optimizer.step</c>, …) are ignored, where PyTorch would refuse them. A
    /// file that <see cref="SaveSafetensors(Stream)"/> wrote carries the model's configuration, which must match
    /// (without strict: its cell and non-linearity). Everything is checked from the header before any data is
    /// read, and only the tensors loaded are read (the others are seeked over, or skipped in small chunks if the
    /// stream cannot seek). On any error nothing is changed, and the message says what the file holds instead.
    /// </summary>
    /// <returns>The tensors loaded, the model's tensors the file lacks and the file's tensors the model lacks.</returns>
    /// <exception cref="SafetensorsException">The file is malformed or does not fit the model; nothing has changed.</exception>
    /// <exception cref="IOException">The stream cannot be read; nothing has changed.</exception>
    LoadResult LoadSafetensors(Stream stream, LoadOptions options);

    /// <summary>
    /// Writes every parameter under its PyTorch name, and the model's configuration into <c>__metadata__</c>
    /// (<c>modelgen.cell</c>, <c>modelgen.input_size</c>, …); PyTorch's <c>load_state_dict</c> reads the file.
    /// </summary>
    void SaveSafetensors(string path);

    /// <summary>Writes every parameter under its PyTorch name, and the model's configuration, to a stream.</summary>
    void SaveSafetensors(Stream stream);
}

/// <summary>A model with a linear head: predictions from the last step (seq→one) and from every step (seq→seq).</summary>
public interface IHeadModel : IRecurrentModel
{
    /// <summary>
    /// <c>head(output[:, -1])</c>: writes <paramref name="prediction"/> <c>[B, O]</c> from <paramref name="input"/>
    /// <c>[B, T, I]</c>, starting from <paramref name="h0"/>/<paramref name="c0"/> (empty: zeros).
    /// </summary>
    void PredictLast(ReadOnlySpan<float> input, int batchSize, Span<float> prediction,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default);

    /// <summary>
    /// <c>head(output)</c>: writes <paramref name="predictions"/> <c>[B, T, O]</c> from <paramref name="input"/>
    /// <c>[B, T, I]</c>, starting from <paramref name="h0"/>/<paramref name="c0"/> (empty: zeros).
    /// </summary>
    void PredictSequence(ReadOnlySpan<float> input, int batchSize, Span<float> predictions,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default);

    /// <summary>
    /// <see cref="PredictLast"/> that records for <see cref="IRecurrentModel.Backward"/>, which then takes
    /// dL/d(prediction) <c>[B, O]</c>. <paramref name="hN"/>/<paramref name="cN"/> receive the final state
    /// when not empty (to carry it into the next chunk in truncated BPTT).
    /// </summary>
    void TrainPredictLast(ReadOnlySpan<float> input, int batchSize, Span<float> prediction,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, Span<float> hN = default, Span<float> cN = default);

    /// <summary>
    /// <see cref="PredictSequence"/> that records for <see cref="IRecurrentModel.Backward"/>, which then takes
    /// dL/d(predictions) <c>[B, T, O]</c>. <paramref name="hN"/>/<paramref name="cN"/> receive the final state
    /// when not empty.
    /// </summary>
    void TrainPredictSequence(ReadOnlySpan<float> input, int batchSize, Span<float> predictions,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, Span<float> hN = default, Span<float> cN = default);
}

/// <summary>
/// A unidirectional model that keeps its state between calls and advances one time step per call, for
/// real-time loops. The state is PyTorch's <c>h</c> <c>[L, B, Hout]</c> and, for LSTM, <c>c</c> <c>[L, B, H]</c>.
/// </summary>
public interface IStreamingModel : IRecurrentModel
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

/// <summary>A streaming model with a head: one step in, one prediction out.</summary>
public interface IStreamingHeadModel : IStreamingModel, IHeadModel
{
    /// <summary>Advances the state by one step of <paramref name="input"/> <c>[B, I]</c> and writes <c>head(h)</c> to <paramref name="prediction"/> <c>[B, O]</c>.</summary>
    void StepPredict(ReadOnlySpan<float> input, Span<float> prediction);
}
