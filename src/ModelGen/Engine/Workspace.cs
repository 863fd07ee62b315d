using ModelGen.Kernels;

namespace ModelGen;

/// <summary>
/// Everything an inference call writes besides its outputs: the packed weights it reads (by reference), the
/// layers' workspace and the streaming state. A <see cref="RecurrentModel{TSpec}"/> has one, over its own packed
/// weights, and so has every <see cref="InferenceContext{TSpec}"/>, over the packed weights of its
/// <see cref="SharedWeights{TSpec}"/>; the forward code of <see cref="RecurrentModel{TSpec}"/> takes it as an
/// argument, so that models and contexts run the very same code.
/// </summary>
/// <remarks>
/// Not thread-safe: one workspace serves one call at a time. Two workspaces share nothing mutable (the packed
/// weights they may share are only read). The arena grows to the largest call seen and never shrinks.
/// </remarks>
internal sealed class Workspace<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    private readonly AlignedFloats _packedWeights;

    /// <summary>The packed weights the kernels read (see Kernels/Packed.cs); never written through a workspace.</summary>
    public ReadOnlySpan<float> PackedWeights => _packedWeights.Span;

    // One allocation for every buffer of a call: the recurrent module's inference arena (RecurrentKernel's layout),
    // then the top layer's output [B, T, D*Hout] of a prediction call, which the head reads. 64-byte aligned, and the
    // kernel's layout keeps every buffer on a 64-byte line: no vector load of an activation splits across two lines.
    private AlignedFloats _arena = new(0);

    /// <summary>The head's scratch (its Linear kernel's flushed input rows).</summary>
    public readonly float[] HeadScratch = new float[TSpec.OutputSize > 0 ? LinearKernel<RecurrentModel<TSpec>.HeadSpec>.ScratchLength : 0];

    /// <summary>The streaming h <c>[L, B, Hout]</c>.</summary>
    public float[] StreamH = [];

    /// <summary>The streaming c <c>[L, B, H]</c> (LSTM), empty otherwise.</summary>
    public float[] StreamC = [];

    /// <summary>B of the streaming state.</summary>
    public int StreamBatchSize;

    // StreamingStep's scratch; its padding stays zero.
    private readonly AlignedFloats _stepScratch = new(StreamingStep<TSpec>.ScratchLength);

    /// <summary>The scratch of a streaming step of batch 1 (see <see cref="StreamingStep{TSpec}"/>).</summary>
    public Span<float> StepScratch => _stepScratch.Span;

    /// <summary>A workspace over <paramref name="packed"/>, with a zero streaming state for batch 1.</summary>
    public Workspace(AlignedFloats packed)
    {
        _packedWeights = packed;
        ResetState(1);
    }

    /// <summary>
    /// The recurrent kernel's arena for <paramref name="batch"/> sequences of <paramref name="steps"/> steps, and
    /// room for the top layer's output after it, growing the allocation when this call needs more than any before.
    /// The caller has checked the sizes against its row widths; an arena past what one array holds is rejected here.
    /// </summary>
    public Span<float> Ensure(int batch, int steps, out Span<float> topOutput)
    {
        long kernel = RecurrentKernel<TSpec>.ArenaLength(batch, steps, training: false);
        long top = (long)batch * steps * Sizes<TSpec>.OutputFeatures;
        long length = kernel + top;
        if (length > Array.MaxLength - AlignedFloats.Alignment) ThrowArenaTooLarge("input", length);
        if (_arena.Length < length) _arena = new AlignedFloats((int)length);
        Span<float> arena = _arena.Span;
        topOutput = arena.Slice((int)kernel, (int)top);
        return arena[..(int)kernel];
    }

    /// <summary>
    /// Zeros the streaming state and sets its batch size, reallocating it only when that changes; the caller
    /// has checked <paramref name="batch"/>.
    /// </summary>
    public void ResetState(int batch)
    {
        int layers = Sizes<TSpec>.LayerDirections;
        int hLength = layers * batch * Sizes<TSpec>.State;
        int cLength = TSpec.Cell == CellKind.Lstm ? layers * batch * TSpec.HiddenSize : 0;
        if (StreamH.Length != hLength) StreamH = new float[hLength];
        if (StreamC.Length != cLength) StreamC = new float[cLength];
        Array.Clear(StreamH);
        Array.Clear(StreamC);
        StreamBatchSize = batch;
    }

    /// <summary>The exception of a call whose buffers, all in one arena, would not fit one .NET array.</summary>
    internal static void ThrowArenaTooLarge(string argument, long length) =>
        throw new ArgumentException(
            $"{argument}: the call's workspace would take {length} floats, more than one .NET array of {Array.MaxLength} elements holds once aligned; pass fewer or shorter sequences.",
            argument);
}
