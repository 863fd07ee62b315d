using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// A whole recurrent module, <c>nn.LSTM</c>, <c>nn.GRU</c> or <c>nn.RNN</c> with <c>batch_first=True</c>: the L
/// stacked layers and D directions of the stack that <typeparamref name="TSpec"/> describes, forward and backward,
/// with PyTorch's semantics, including packed sequences of different lengths
/// (<c>pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)</c> → module →
/// <c>pad_packed_sequence(total_length=T)</c>) and dropout between layers. <c>TSpec.OutputSize</c> is ignored: a
/// head, if any, is another module.
/// </summary>
/// <remarks>
/// <para>Shapes (batch first): input <c>[B, T, I]</c>; output <c>[B, T, D·Hout]</c>, direction d in the columns
/// <c>[d·Hout, (d+1)·Hout)</c>; h0, hN <c>[L·D, B, Hout]</c> and c0, cN <c>[L·D, B, H]</c> (LSTM only), row
/// <c>layer·D + d</c>, as PyTorch orders them; lengths <c>[B]</c>. Hout is <c>proj_size</c> when there is one, else H.</para>
/// <para>Lengths: row b runs its steps t &lt; len_b only, the reverse direction from t = len_b − 1; the output at
/// t ≥ len_b is exactly zero and h_n, c_n are each row's state after its last real step (forward direction:
/// t = len_b − 1; reverse: t = 0). A padded step costs nothing, not even its input projection. An empty span means
/// every row has T steps. The values must be in [1, T]; callers check them (out-of-range values are clamped
/// into [0, T] so that they cannot index outside a row, not reported).</para>
/// <para>Parameters: <see cref="Pack"/> and <see cref="Backward"/> read this module's tensors in
/// <c>state_dict</c> order (for each layer and direction: <c>weight_ih</c> <c>[G·H, K]</c>, <c>weight_hh</c>
/// <c>[G·H, Hout]</c>, then <c>bias_ih</c>, <c>bias_hh</c> <c>[G·H]</c> when there are biases and
/// <c>weight_hr</c> <c>[Hout, H]</c> with a projection), row-major and contiguous. The forward reads a packed
/// copy (<see cref="Pack"/>), the backward the row-major tensors.</para>
/// <para>Arena: one span of <see cref="ArenaLength"/> floats that the kernel carves its buffers from, every slice
/// starting at a multiple of 16 floats (64 bytes). With <c>training: false</c> (a <see cref="NoCache"/> forward):</para>
/// <list type="table">
/// <item><term>input gates</term><description><c>[B·T, GateStride]</c>: <c>W_ih x + b_ih</c> of every step, gate-packed</description></item>
/// <item><term>hidden gates, h, c, h before projection</term><description><c>[B, …]</c> rows of the running step (padded to whole vectors)</description></item>
/// <item><term>source rows</term><description>a chunk of input rows flushed of subnormals</description></item>
/// <item><term>sequences 0, 1</term><description><c>[B, T, D·Hout]</c> each, the outputs of the layers below the top (ping-pong;
/// 0 of them for L = 1, 1 for L = 2, 2 above)</description></item>
/// </list>
/// <para>With <c>training: true</c> (a <see cref="RecordCache"/> forward and its <see cref="Backward"/>): a header of
/// 16 floats (the recorded B, T and dropout probability), then the records backward reads — every layer's output
/// <c>L × [B, T, D·Hout]</c>, the gate activations <c>L·D × [B, T, G·Hp]</c>, the cell values <c>L·D × [B, T, Hp]</c>
/// (LSTM c, GRU <c>W_hn h + b_hn</c>), and the dropout masks and dropped outputs <c>(L−1) × [B, T, D·Hout]</c> each —
/// then one region that the forward uses for its buffers above (without the sequences) and the backward, which
/// runs after it, for its own: <c>dL/d(output)</c> of the layers below the top (up to two <c>[B, T, D·Hout]</c>),
/// the carried dL/dh <c>[B, Hout]</c> (padded to whole vectors) and dL/dc <c>[B, Hp]</c>, the gate gradients of every
/// step <c>[B, T, G·Hp]</c> (GRU: input and hidden side), W_ih and W_hh with rows padded to whole vectors, the
/// transposed weight gradient of one direction, a chunk of input gradients, and a per-step scratch. Hp is H rounded up to whole
/// vectors, so the length depends on the machine's vector width.</para>
/// <para>Aliasing: the spans a call writes must not overlap those it reads, except <c>hN</c> and <c>h0</c>
/// (<c>cN</c> and <c>c0</c>) being the very same span, which streaming relies on: each layer reads its initial
/// state before it writes its final one. The kernel does not check it.</para>
/// <para>Every size is a static member of <typeparamref name="TSpec"/>, so the JIT and NativeAOT compile each
/// module with constant loop bounds. Calls allocate nothing.</para>
/// </remarks>
/// <typeparam name="TSpec">The module's sizes (the generator emits one struct per module).</typeparam>
public static class RecurrentKernel<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    private const int Alignment = 16;
    private const int HeaderLength = Alignment;
    // "RecK" and a version: the first float of the header of an arena a RecordCache forward has completed.
    private const int RecordMagic = 0x5265_634B;

    // The module's tensors as the parameter layout places them (a model's head, if any, comes after them).
    private static readonly ModelGeometry Geometry = new(TSpec.Cell, TSpec.InputSize, TSpec.HiddenSize,
        TSpec.NumLayers, TSpec.Bias, TSpec.Bidirectional, TSpec.ProjSize, outputSize: 0);
    private static readonly LayerOffsets[] ParameterOffsets = BuildParameterOffsets();
    private static readonly (LayerOffsets[] Offsets, int Length) PackedLayout = BuildPackedLayout();

    // K of the widest layer input, and the padded widths of the backward's row-batched products.
    private static int MaxLayerInput => Math.Max(TSpec.InputSize, Sizes<TSpec>.OutputFeatures);
    private static int InputPadded => Sizes<TSpec>.Padded(MaxLayerInput);
    private static int StatePadded => Sizes<TSpec>.Padded(Sizes<TSpec>.State);
    private static int GradientColumnsLength => Math.Max(MaxLayerInput, Sizes<TSpec>.State) * Sizes<TSpec>.Gates * Sizes<TSpec>.CStride;

    /// <summary>Floats of the packed copy of the module's weights that <see cref="Forward"/> reads (padding included;
    /// it depends on the machine's vector width).</summary>
    public static int PackedLength => PackedLayout.Length;

    /// <summary>Where each layer-direction's tensors start in the packed weights, index <c>layer·D + direction</c>.</summary>
    internal static ReadOnlySpan<LayerOffsets> PackedOffsets => PackedLayout.Offsets;

    /// <summary>Floats of the module's parameters in <c>state_dict</c> order.</summary>
    internal static int ParameterLength { get; } = checked((int)Geometry.ParameterCount);

    /// <summary>
    /// Packs the module's weights for <see cref="Forward"/> (see <c>Kernels/Packed.cs</c>: gates interleaved per
    /// block of units, column order, subnormals flushed). Call it again whenever the parameters change.
    /// </summary>
    /// <param name="parameters">The module's tensors in <c>state_dict</c> order, row-major (at least the module's
    /// parameter count of floats).</param>
    /// <param name="packed">At least <see cref="PackedLength"/> floats, overwritten.</param>
    public static void Pack(ReadOnlySpan<float> parameters, Span<float> packed)
    {
        if (parameters.Length < ParameterLength) ThrowTooShort(nameof(parameters), parameters.Length, ParameterLength);
        if (packed.Length < PackedLength) ThrowTooShort(nameof(packed), packed.Length, PackedLength);
        int gates = Sizes<TSpec>.Gates, hidden = TSpec.HiddenSize, state = Sizes<TSpec>.State;
        LayerOffsets[] packedOffsets = PackedLayout.Offsets;
        for (int index = 0; index < ParameterOffsets.Length; index++)
        {
            LayerOffsets from = ParameterOffsets[index], to = packedOffsets[index];
            int inputSize = Sizes<TSpec>.LayerInput(index / Sizes<TSpec>.Directions);
            Packed.PackMatrix(parameters[from.WeightIh..], gates, hidden, inputSize, packed[to.WeightIh..]);
            Packed.PackMatrix(parameters[from.WeightHh..], gates, hidden, state, packed[to.WeightHh..]);
            if (from.BiasIh >= 0)
            {
                Packed.PackVector(parameters[from.BiasIh..], gates, hidden, packed[to.BiasIh..]);
                Packed.PackVector(parameters[from.BiasHh..], gates, hidden, packed[to.BiasHh..]);
            }
            if (from.WeightHr >= 0) Packed.PackMatrix(parameters[from.WeightHr..], 1, state, hidden, packed[to.WeightHr..]);
        }
    }

    /// <summary>
    /// Floats of the arena a call with <paramref name="batch"/> sequences of <paramref name="steps"/> steps needs
    /// (the layout is in the type's remarks): for a <see cref="NoCache"/> forward with
    /// <paramref name="training"/> false, for a <see cref="RecordCache"/> forward and its <see cref="Backward"/>
    /// with it true. In 64 bits, so that a caller can reject what no array can hold.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> or <paramref name="steps"/> is below 1.</exception>
    public static long ArenaLength(int batch, int steps, bool training)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be at least 1.");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be at least 1.");
        return Layout.Of(batch, steps, training).Length;
    }

    /// <summary>
    /// The module's forward pass: every layer, both directions of a bidirectional one, from the input up.
    /// With <see cref="RecordCache"/> it records in <paramref name="arena"/> what <see cref="Backward"/> reads and
    /// applies PyTorch's <c>dropout</c> between layers; with <see cref="NoCache"/> it never drops.
    /// </summary>
    /// <typeparam name="TCache"><see cref="NoCache"/> (inference) or <see cref="RecordCache"/> (training).</typeparam>
    /// <param name="packed">The weights as <see cref="Pack"/> left them (at least <see cref="PackedLength"/> floats).</param>
    /// <param name="input"><c>[B, T, I]</c>.</param>
    /// <param name="lengths"><c>[B]</c> steps of each row, in [1, T]; empty: every row has T.</param>
    /// <param name="batch">B ≥ 1.</param>
    /// <param name="steps">T ≥ 1.</param>
    /// <param name="output"><c>[B, T, D·Hout]</c>, overwritten; zero past each row's length. With
    /// <see cref="RecordCache"/> it may be empty (the top layer's output is recorded in the arena).</param>
    /// <param name="h0"><c>[L·D, B, Hout]</c>, or empty for zeros.</param>
    /// <param name="c0"><c>[L·D, B, H]</c> (LSTM), or empty for zeros.</param>
    /// <param name="hN"><c>[L·D, B, Hout]</c>, overwritten with each row's h after its last real step; empty to
    /// skip; may be <paramref name="h0"/> itself.</param>
    /// <param name="cN"><c>[L·D, B, H]</c> (LSTM), likewise; may be <paramref name="c0"/> itself.</param>
    /// <param name="arena">At least <see cref="ArenaLength"/>(B, T, training: <c>TCache.Enabled</c>) floats; with
    /// <see cref="RecordCache"/>, keep it untouched until <see cref="Backward"/>.</param>
    /// <param name="dropout">The probability of zeroing each output of every layer but the top, in [0, 1); used
    /// with <see cref="RecordCache"/> only.</param>
    /// <param name="random">The masks' generator: one draw per output element of each layer below the top, layer
    /// by layer, in memory order (<see cref="DropoutKernel"/>), and none when <paramref name="dropout"/> is 0.</param>
    /// <exception cref="ArgumentException">A span's length does not match the sizes.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward<TCache>(ReadOnlySpan<float> packed, ReadOnlySpan<float> input, ReadOnlySpan<int> lengths,
        int batch, int steps, Span<float> output, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN,
        Span<float> arena, float dropout, ref SplitMix64 random) where TCache : struct, ICacheMode
    {
        // One step of one sequence (a graph's Step, a decoder's next token) runs the streaming kernel: the same
        // arithmetic without the sequence set-up, whose stack frame alone (a pass of a dozen spans, zeroed on entry)
        // took as long as a small layer's cell.
        if (!TCache.Enabled && IsStreamingStep(batch, steps)) StreamingForward(packed, input, lengths, output, h0, c0, hN, cN, arena);
        else SequenceForward<TCache>(packed, input, lengths, batch, steps, output, h0, c0, hN, cN, arena, dropout, ref random);
    }

    /// <summary><see cref="Forward"/> of one sequence and one step, through <see cref="StreamingStep{TSpec}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StreamingForward(ReadOnlySpan<float> packed, ReadOnlySpan<float> input, ReadOnlySpan<int> lengths, Span<float> output,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN, Span<float> arena)
    {
        CheckCall(input, lengths, 1, 1, h0, c0, arena, Layout.StreamingStepLayout.Length);
        if (packed.Length < PackedLength) ThrowTooShort(nameof(packed), packed.Length, PackedLength);
        CheckLength(nameof(output), output.Length, Sizes<TSpec>.OutputFeatures);
        CheckStates(nameof(hN), hN, nameof(cN), cN, 1);
        // The arena holds what earlier calls left, and the kernel's padding units must be zero.
        ref readonly Layout a = ref Layout.StreamingStepLayout;
        Span<float> scratch = arena[..StreamingStep<TSpec>.ScratchLength];
        StreamingStep<TSpec>.ClearPadding(scratch);
        // The kernel steps a state in place: the caller's final state (the initial one copied in, unless it is that
        // very span), or, when the caller wants none, the layout's copy after the scratch.
        int layers = Sizes<TSpec>.LayerDirections;
        Span<float> h = hN.IsEmpty ? arena.Slice(a.StepH, layers * Sizes<TSpec>.State) : hN;
        StartFrom(h0, h);
        Span<float> c = default;
        if (TSpec.Cell == CellKind.Lstm)
        {
            c = cN.IsEmpty ? arena.Slice(a.StepC, layers * TSpec.HiddenSize) : cN;
            StartFrom(c0, c);
        }
        // The output from the scratch, not from the state the step has just stored: a graph's next module reads it at
        // once, and bench_small's graph stepped about 20 ns faster so (a one-line model's Step, whose next reader is
        // the next step, was faster copying from the state).
        StreamingStep<TSpec>.Step(packed, input, h, c, scratch, default);
        StreamingStep<TSpec>.TopLayerH(scratch).CopyTo(output);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void StartFrom(ReadOnlySpan<float> initial, Span<float> state)
        {
            if (initial.IsEmpty) state.Clear();
            else if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(initial), ref MemoryMarshal.GetReference(state))) initial.CopyTo(state);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SequenceForward<TCache>(ReadOnlySpan<float> packed, ReadOnlySpan<float> input, ReadOnlySpan<int> lengths,
        int batch, int steps, Span<float> output, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, Span<float> hN, Span<float> cN,
        Span<float> arena, float dropout, ref SplitMix64 random) where TCache : struct, ICacheMode
    {
        Layout a = Layout.Of(batch, steps, TCache.Enabled);
        CheckCall(input, lengths, batch, steps, h0, c0, arena, a.Length);
        int layers = TSpec.NumLayers, directions = Sizes<TSpec>.Directions, state = Sizes<TSpec>.State;
        int sequence = a.Sequence;
        if (packed.Length < PackedLength) ThrowTooShort(nameof(packed), packed.Length, PackedLength);
        if (!(TCache.Enabled && output.IsEmpty)) CheckLength(nameof(output), output.Length, (long)batch * steps * Sizes<TSpec>.OutputFeatures);
        CheckStates(nameof(hN), hN, nameof(cN), cN, batch);
        bool drop = TCache.Enabled && dropout != 0;
        if (drop && !(dropout > 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        if (TCache.Enabled) arena[a.Header] = 0;   // no complete record until this forward ends

        int hSlice = batch * state, cSlice = batch * TSpec.HiddenSize;
        int rows = batch * steps, gateRecord = rows * Sizes<TSpec>.Gates * Sizes<TSpec>.CStride, cellRecord = rows * Sizes<TSpec>.CStride;
        LayerOffsets[] packedOffsets = PackedLayout.Offsets;
        ReadOnlySpan<float> source = input;
        for (int layer = 0; layer < layers; layer++)
        {
            Span<float> destination = TCache.Enabled
                ? arena.Slice(a.Outputs + layer * sequence, sequence)
                : layer == layers - 1 ? output : arena.Slice(layer % 2 == 0 ? a.Sequence0 : a.Sequence1, sequence);
            for (int direction = 0; direction < directions; direction++)
            {
                int index = layer * directions + direction;
                var pass = new DirectionPass
                {
                    Packed = packed,
                    Offsets = packedOffsets[index],
                    Batch = batch,
                    Steps = steps,
                    Reverse = direction == 1,
                    Lengths = lengths,
                    Source = source,
                    SourceRows = arena.Slice(a.SourceRows, DirectionPass.SourceChunkRows * MaxLayerInput),
                    Destination = destination,
                    Column = direction * state,
                    InitialH = h0.IsEmpty ? default : h0.Slice(index * hSlice, hSlice),
                    InitialC = c0.IsEmpty ? default : c0.Slice(index * cSlice, cSlice),
                    FinalH = hN.IsEmpty ? default : hN.Slice(index * hSlice, hSlice),
                    FinalC = cN.IsEmpty ? default : cN.Slice(index * cSlice, cSlice),
                    InputGates = arena.Slice(a.InputGates, rows * Sizes<TSpec>.GateStride),
                    HiddenGates = arena.Slice(a.HiddenGates, batch * Sizes<TSpec>.GateStride),
                    H = arena.Slice(a.H, batch * Sizes<TSpec>.HStride),
                    C = arena.Slice(a.C, batch * Sizes<TSpec>.CStride),
                    HFull = TSpec.ProjSize > 0 ? arena.Slice(a.HFull, batch * Sizes<TSpec>.CStride) : default,
                    GateCache = TCache.Enabled ? arena.Slice(a.Gates + index * gateRecord, gateRecord) : default,
                    CellCache = TCache.Enabled ? arena.Slice(a.Cells + index * cellRecord, cellRecord) : default,
                };
                if (layer == 0) ForwardLayer<FirstLayerInput<TSpec>, TCache>(ref pass);
                else ForwardLayer<UpperLayerInput<TSpec>, TCache>(ref pass);
            }
            if (drop && layer < layers - 1)
            {
                // nn.LSTM's dropout: on the output of every layer but the last, what the layer above reads.
                Span<float> dropped = arena.Slice(a.Dropped + layer * sequence, sequence);
                DropoutKernel.Forward(dropout, ref random, destination, dropped, arena.Slice(a.Masks + layer * sequence, sequence));
                source = dropped;
            }
            else
            {
                source = destination;
            }
        }
        if (TCache.Enabled)
        {
            if (!output.IsEmpty) source.CopyTo(output);
            arena[a.Header + 1] = BitConverter.Int32BitsToSingle(batch);
            arena[a.Header + 2] = BitConverter.Int32BitsToSingle(steps);
            arena[a.Header + 3] = drop ? dropout : 0f;
            arena[a.Header] = BitConverter.Int32BitsToSingle(RecordMagic);
        }
    }

    /// <summary>
    /// Backpropagation through time over the whole stack, from the records of the last <see cref="RecordCache"/>
    /// forward in <paramref name="arena"/>: adds dL/d(parameter) to <paramref name="gradients"/> and writes
    /// dL/d(input), dL/dh0 and dL/dc0. The upstream gradient is dL/d(output) and dL/d(h_n), dL/d(c_n), each
    /// optional; the last two flow into each row's last real step.
    /// </summary>
    /// <param name="parameters">The module's tensors, row-major in <c>state_dict</c> order, as in the forward.</param>
    /// <param name="gradients">Laid out like <paramref name="parameters"/>; accumulated with <c>+=</c>.</param>
    /// <param name="input">The forward's input <c>[B, T, I]</c>, with the same values.</param>
    /// <param name="lengths">The forward's lengths <c>[B]</c>, or empty.</param>
    /// <param name="batch">The forward's B.</param>
    /// <param name="steps">The forward's T.</param>
    /// <param name="h0">The forward's <c>[L·D, B, Hout]</c>, or empty for zeros.</param>
    /// <param name="c0">The forward's <c>[L·D, B, H]</c> (LSTM), or empty for zeros.</param>
    /// <param name="dOutput">dL/d(output) <c>[B, T, D·Hout]</c>, or empty for zero; ignored past each row's length.</param>
    /// <param name="dHN">dL/d(h_n) <c>[L·D, B, Hout]</c>, or empty for zero.</param>
    /// <param name="dCN">dL/d(c_n) <c>[L·D, B, H]</c> (LSTM), or empty for zero.</param>
    /// <param name="dInput">dL/d(input) <c>[B, T, I]</c>, overwritten (zero past each row's length); empty to skip.</param>
    /// <param name="dH0">dL/dh0 <c>[L·D, B, Hout]</c>, overwritten; empty to skip.</param>
    /// <param name="dC0">dL/dc0 <c>[L·D, B, H]</c> (LSTM), overwritten; empty to skip.</param>
    /// <param name="arena">The span the <see cref="RecordCache"/> forward used, untouched since.</param>
    /// <exception cref="ArgumentException">A span's length does not match the sizes.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="arena"/> holds no complete record of a forward
    /// with this B and T.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> parameters, Span<float> gradients, ReadOnlySpan<float> input,
        ReadOnlySpan<int> lengths, int batch, int steps, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0,
        ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dHN, ReadOnlySpan<float> dCN,
        Span<float> dInput, Span<float> dH0, Span<float> dC0, Span<float> arena)
    {
        Layout a = Layout.Of(batch, steps, training: true);
        CheckCall(input, lengths, batch, steps, h0, c0, arena, a.Length);
        if (BitConverter.SingleToInt32Bits(arena[a.Header]) != RecordMagic
            || BitConverter.SingleToInt32Bits(arena[a.Header + 1]) != batch || BitConverter.SingleToInt32Bits(arena[a.Header + 2]) != steps)
        {
            throw new InvalidOperationException("The arena holds no record of a training forward (RecordCache) of this batch and sequence length.");
        }
        if (parameters.Length < ParameterLength) ThrowTooShort(nameof(parameters), parameters.Length, ParameterLength);
        if (gradients.Length < ParameterLength) ThrowTooShort(nameof(gradients), gradients.Length, ParameterLength);
        int sequence = a.Sequence;
        if (!dOutput.IsEmpty) CheckLength(nameof(dOutput), dOutput.Length, (long)batch * steps * Sizes<TSpec>.OutputFeatures);
        if (!dInput.IsEmpty) CheckLength(nameof(dInput), dInput.Length, (long)batch * steps * TSpec.InputSize);
        CheckStates(nameof(dHN), dHN, nameof(dCN), dCN, batch);
        CheckStates(nameof(dH0), dH0, nameof(dC0), dC0, batch);

        int layers = TSpec.NumLayers, directions = Sizes<TSpec>.Directions, state = Sizes<TSpec>.State;
        int hSlice = batch * state, cSlice = batch * TSpec.HiddenSize;
        int rows = batch * steps, gateRecord = rows * Sizes<TSpec>.Gates * Sizes<TSpec>.CStride, cellRecord = rows * Sizes<TSpec>.CStride;
        bool dropped = arena[a.Header + 3] > 0;
        if (!dInput.IsEmpty) dInput.Clear();
        for (int layer = layers - 1; layer >= 0; layer--)
        {
            // dL/d(this layer's output): the caller's for the top layer, else what the layer above left.
            ReadOnlySpan<float> dLayerOutput = layer == layers - 1 ? dOutput : arena.Slice(layer % 2 == 0 ? a.Sequence0 : a.Sequence1, sequence);
            Span<float> dSource = layer > 0 ? arena.Slice((layer - 1) % 2 == 0 ? a.Sequence0 : a.Sequence1, sequence) : dInput;
            if (layer > 0) dSource.Clear();
            ReadOnlySpan<float> source = layer == 0 ? input
                : dropped ? arena.Slice(a.Dropped + (layer - 1) * sequence, sequence)
                : arena.Slice(a.Outputs + (layer - 1) * sequence, sequence);
            for (int direction = 0; direction < directions; direction++)
            {
                int index = layer * directions + direction;
                var pass = new BackwardPass
                {
                    Parameters = parameters,
                    Gradients = gradients,
                    Offsets = ParameterOffsets[index],
                    Batch = batch,
                    Steps = steps,
                    Reverse = direction == 1,
                    Lengths = lengths,
                    Source = source,
                    Output = arena.Slice(a.Outputs + layer * sequence, sequence),
                    Column = direction * state,
                    InitialH = h0.IsEmpty ? default : h0.Slice(index * hSlice, hSlice),
                    InitialC = c0.IsEmpty ? default : c0.Slice(index * cSlice, cSlice),
                    GateCache = arena.Slice(a.Gates + index * gateRecord, gateRecord),
                    CellCache = arena.Slice(a.Cells + index * cellRecord, cellRecord),
                    DOutput = dLayerOutput,
                    DFinalH = dHN.IsEmpty ? default : dHN.Slice(index * hSlice, hSlice),
                    DFinalC = dCN.IsEmpty ? default : dCN.Slice(index * cSlice, cSlice),
                    DSource = dSource,
                    DInitialH = dH0.IsEmpty ? default : dH0.Slice(index * hSlice, hSlice),
                    DInitialC = dC0.IsEmpty ? default : dC0.Slice(index * cSlice, cSlice),
                    DH = arena.Slice(a.DH, batch * StatePadded),
                    DC = arena.Slice(a.DC, batch * Sizes<TSpec>.CStride),
                    DZInput = arena.Slice(a.DZInput, gateRecord),
                    DZHidden = TSpec.Cell == CellKind.Gru ? arena.Slice(a.DZHidden, gateRecord) : default,
                    WeightIhRows = arena.Slice(a.WeightIhRows, Sizes<TSpec>.GateRows * InputPadded),
                    WeightHhRows = arena.Slice(a.WeightHhRows, Sizes<TSpec>.GateRows * StatePadded),
                    GradientColumns = arena.Slice(a.GradientColumns, GradientColumnsLength),
                    DSourceRows = arena.Slice(a.DSourceRows, DirectionPass.SourceChunkRows * InputPadded),
                    Scratch = arena.Slice(a.Scratch, Sizes<TSpec>.BackwardScratch),
                };
                if (layer == 0) BackwardLayer<FirstLayerInput<TSpec>>(ref pass);
                else BackwardLayer<UpperLayerInput<TSpec>>(ref pass);
            }
            // Through the dropout below this layer: d(output) = d(dropped) ⊙ mask.
            if (layer > 0 && dropped) DropoutKernel.Backward(arena.Slice(a.Masks + (layer - 1) * sequence, sequence), dSource, dSource);
        }
    }

    /// <summary>The top layer's output <c>[B, T, D·Hout]</c> as the last <see cref="RecordCache"/> forward recorded it.</summary>
    internal static Span<float> RecordedOutput(Span<float> arena, int batch, int steps) =>
        RecordedOutput(arena, batch, steps, TSpec.NumLayers - 1);

    /// <summary>Layer <paramref name="layer"/>'s output <c>[B, T, D·Hout]</c> as the last <see cref="RecordCache"/> forward recorded it (before dropout).</summary>
    internal static Span<float> RecordedOutput(Span<float> arena, int batch, int steps, int layer)
    {
        Layout a = Layout.Of(batch, steps, training: true);
        return arena.Slice(a.Outputs + layer * a.Sequence, a.Sequence);
    }

    /// <summary>Picks the cell's kernel; <c>TSpec.Cell</c> is a constant, so only one branch is compiled.</summary>
    private static void ForwardLayer<TInput, TCache>(scoped ref DirectionPass pass)
        where TInput : struct, IDim
        where TCache : struct, ICacheMode
    {
        switch (TSpec.Cell)
        {
            case CellKind.Lstm: RecurrentLayer<TSpec, LstmCell, TInput>.Forward<TCache>(ref pass); break;
            case CellKind.Gru: RecurrentLayer<TSpec, GruCell, TInput>.Forward<TCache>(ref pass); break;
            default: RecurrentLayer<TSpec, RnnCell, TInput>.Forward<TCache>(ref pass); break;
        }
    }

    private static void BackwardLayer<TInput>(scoped ref BackwardPass pass) where TInput : struct, IDim
    {
        switch (TSpec.Cell)
        {
            case CellKind.Lstm: RecurrentLayerBackward<TSpec, LstmCell, TInput>.Backward(ref pass); break;
            case CellKind.Gru: RecurrentLayerBackward<TSpec, GruCell, TInput>.Backward(ref pass); break;
            default: RecurrentLayerBackward<TSpec, RnnCell, TInput>.Backward(ref pass); break;
        }
    }

    /// <summary>The checks Forward and Backward share: sizes, input, lengths, initial state and arena.</summary>
    private static void CheckCall(ReadOnlySpan<float> input, ReadOnlySpan<int> lengths, int batch, int steps,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<float> arena, long arenaLength)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be at least 1.");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be at least 1.");
        if (arena.Length < arenaLength) ThrowTooShort(nameof(arena), arena.Length, arenaLength);
        // The arena fits an int, so every offset and every buffer the sizes imply does too.
        CheckLength(nameof(input), input.Length, (long)batch * steps * TSpec.InputSize);
        if (!lengths.IsEmpty && lengths.Length != batch) CheckLength(nameof(lengths), lengths.Length, batch);
        CheckStates(nameof(h0), h0, nameof(c0), c0, batch);
    }

    private static void CheckStates(string hName, ReadOnlySpan<float> h, string cName, ReadOnlySpan<float> c, int batch)
    {
        if (!h.IsEmpty) CheckLength(hName, h.Length, (long)Sizes<TSpec>.LayerDirections * batch * Sizes<TSpec>.State);
        if (c.IsEmpty) return;
        if (TSpec.Cell != CellKind.Lstm) throw new ArgumentException($"{cName}: only an LSTM has a cell state; pass an empty span.", cName);
        CheckLength(cName, c.Length, (long)Sizes<TSpec>.LayerDirections * batch * TSpec.HiddenSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckLength(string name, int actual, long expected)
    {
        if (actual != expected) ThrowLength(name, actual, expected);
    }

    private static void ThrowLength(string name, int actual, long expected) =>
        throw new ArgumentException($"{name}: expected {expected} floats, got {actual}.", name);

    private static void ThrowTooShort(string name, int actual, long expected) =>
        throw new ArgumentException($"{name}: expected at least {expected} floats, got {actual}.", name);

    private static LayerOffsets[] BuildParameterOffsets()
    {
        var offsets = new LayerOffsets[Sizes<TSpec>.LayerDirections];
        for (int index = 0; index < offsets.Length; index++)
        {
            offsets[index] = Geometry.OffsetsOf(index / Sizes<TSpec>.Directions, index % Sizes<TSpec>.Directions);
        }
        return offsets;
    }

    private static (LayerOffsets[] Offsets, int Length) BuildPackedLayout()
    {
        int gates = Sizes<TSpec>.Gates, hidden = TSpec.HiddenSize, state = Sizes<TSpec>.State;
        var offsets = new LayerOffsets[Sizes<TSpec>.LayerDirections];
        int next = 0;
        int Take(int floats)
        {
            int start = next;
            next += floats;
            return start;
        }
        for (int index = 0; index < offsets.Length; index++)
        {
            int inputSize = Sizes<TSpec>.LayerInput(index / Sizes<TSpec>.Directions);
            offsets[index] = new LayerOffsets(
                weightIh: Take(Packed.MatrixLength(gates, hidden, inputSize)),
                weightHh: Take(Packed.MatrixLength(gates, hidden, state)),
                biasIh: TSpec.Bias ? Take(Packed.VectorLength(gates, hidden)) : -1,
                biasHh: TSpec.Bias ? Take(Packed.VectorLength(gates, hidden)) : -1,
                weightHr: TSpec.ProjSize > 0 ? Take(Packed.MatrixLength(1, state, hidden)) : -1);
        }
        return (offsets, next);
    }

    /// <summary>Whether an inference forward of this shape runs <see cref="StreamingStep{TSpec}"/>: one step of one sequence, one direction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsStreamingStep(int batch, int steps) => batch == 1 && steps == 1 && Sizes<TSpec>.Directions == 1;

    /// <summary>
    /// Where each buffer starts in the arena of one call (see the type's remarks). Offsets are computed in 64
    /// bits and kept as ints: they are used only once the arena, an int-long span, has been checked to hold
    /// <see cref="Length"/> floats.
    /// </summary>
    private readonly struct Layout
    {
        public readonly long Length;
        public readonly int Sequence;                        // B·T·D·Hout
        public readonly int Header, Outputs, Gates, Cells, Masks, Dropped;
        public readonly int InputGates, HiddenGates, H, C, HFull, SourceRows;
        public readonly int Sequence0, Sequence1;            // inference: layer outputs; training: their gradients
        public readonly int DH, DC, DZInput, DZHidden, WeightIhRows, WeightHhRows, GradientColumns, DSourceRows, Scratch;
        public readonly int StepH, StepC;                    // a streaming step's own copy of its state, after its scratch

        private Layout(int batch, int steps, bool training)
        {
            long rows = (long)batch * steps, sequence = rows * Sizes<TSpec>.OutputFeatures;
            long layers = TSpec.NumLayers, layerDirections = Sizes<TSpec>.LayerDirections, cStride = Sizes<TSpec>.CStride;
            long sequences = Math.Min(layers - 1, 2);
            Sequence = (int)sequence;
            long next = 0;
            if (training)
            {
                Header = Take(ref next, HeaderLength);
                Outputs = Take(ref next, layers * sequence);
                Gates = Take(ref next, layerDirections * rows * Sizes<TSpec>.Gates * cStride);
                Cells = Take(ref next, layerDirections * rows * cStride);
                Masks = Take(ref next, (layers - 1) * sequence);
                Dropped = Take(ref next, (layers - 1) * sequence);
            }
            // The forward's buffers; in training, the backward's share their place.
            long shared = next;
            InputGates = Take(ref next, rows * Sizes<TSpec>.GateStride);
            HiddenGates = Take(ref next, batch * (long)Sizes<TSpec>.GateStride);
            H = Take(ref next, batch * (long)Sizes<TSpec>.HStride);
            C = Take(ref next, batch * cStride);
            HFull = Take(ref next, TSpec.ProjSize > 0 ? batch * cStride : 0);
            SourceRows = Take(ref next, (long)DirectionPass.SourceChunkRows * MaxLayerInput);
            if (training)
            {
                long forwardEnd = next;
                next = shared;
                Sequence0 = Take(ref next, sequences >= 1 ? sequence : 0);
                Sequence1 = Take(ref next, sequences >= 2 ? sequence : 0);
                long gateRecord = rows * Sizes<TSpec>.Gates * cStride;
                DH = Take(ref next, batch * (long)StatePadded);
                DC = Take(ref next, batch * cStride);
                DZInput = Take(ref next, gateRecord);
                DZHidden = Take(ref next, TSpec.Cell == CellKind.Gru ? gateRecord : 0);
                WeightIhRows = Take(ref next, (long)Sizes<TSpec>.GateRows * InputPadded);
                WeightHhRows = Take(ref next, (long)Sizes<TSpec>.GateRows * StatePadded);
                GradientColumns = Take(ref next, GradientColumnsLength);
                DSourceRows = Take(ref next, (long)DirectionPass.SourceChunkRows * InputPadded);
                Scratch = Take(ref next, Sizes<TSpec>.BackwardScratch);
                next = Math.Max(next, forwardEnd);
            }
            else
            {
                Sequence0 = Take(ref next, sequences >= 1 ? sequence : 0);
                Sequence1 = Take(ref next, sequences >= 2 ? sequence : 0);
                // A streaming step's scratch from the arena's start, then room for its state (StreamingForward).
                if (IsStreamingStep(batch, steps))
                {
                    StepH = StreamingStep<TSpec>.ScratchLength;
                    StepC = StepH + (int)(layerDirections * Sizes<TSpec>.State);
                    next = Math.Max(next, StepC + (TSpec.Cell == CellKind.Lstm ? layerDirections * TSpec.HiddenSize : 0));
                }
            }
            Length = next;
        }

        /// <summary>A streaming step's layout, worked out once: a small step's whole kernel takes little longer than the layout.</summary>
        public static readonly Layout StreamingStepLayout = new(1, 1, training: false);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Layout Of(int batch, int steps, bool training) =>
            !training && IsStreamingStep(batch, steps) ? StreamingStepLayout : new(batch, steps, training);

        /// <summary>Reserves <paramref name="floats"/> at <paramref name="next"/>, rounded up to whole 64-byte blocks.</summary>
        private static int Take(ref long next, long floats)
        {
            long start = next;
            next += (floats + Alignment - 1) & ~(long)(Alignment - 1);   // floats >= 0
            return unchecked((int)start);
        }
    }
}
