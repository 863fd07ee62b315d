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
/// weights they may share are only read). The buffers grow to the largest B·T and B seen and never shrink.
/// </remarks>
internal sealed class Workspace<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    /// <summary>The packed weights the kernels read (see Kernels/Packed.cs); never written through a workspace.</summary>
    public readonly float[] PackedWeights;

    // The layers' buffers: [B·T, gate-packed], two ping-pong sequences [B, T, D*Hout], and per batch row the
    // hidden half of the gates, h, c and (LSTM with projection) the cell's h before the projection.
    public float[] InputGates = [];
    public float[] SequenceA = [];
    public float[] SequenceB = [];
    public float[] HiddenGates = [];
    public float[] H = [];
    public float[] C = [];
    public float[] HFull = [];

    /// <summary>One row of the head's output, padded to whole vectors.</summary>
    public readonly float[] HeadRow = new float[Kernels.Packed.VectorLength(1, Math.Max(TSpec.OutputSize, 1))];

    /// <summary>One row of a layer's input, flushed of subnormals.</summary>
    public readonly float[] SourceRow = new float[Math.Max(TSpec.InputSize, RecurrentModel<TSpec>.OutputFeatures)];

    /// <summary>The streaming h <c>[L, B, Hout]</c>.</summary>
    public float[] StreamH = [];

    /// <summary>The streaming c <c>[L, B, H]</c> (LSTM), empty otherwise.</summary>
    public float[] StreamC = [];

    /// <summary>B of the streaming state.</summary>
    public int StreamBatchSize;

    /// <summary>A workspace over <paramref name="packed"/>, with a zero streaming state for batch 1.</summary>
    public Workspace(float[] packed)
    {
        PackedWeights = packed;
        ResetState(1);
    }

    /// <summary>Grows the buffers for <paramref name="batch"/> sequences of <paramref name="steps"/> steps; the caller has checked the sizes.</summary>
    public void Ensure(int batch, int steps)
    {
        int rows = batch * steps;
        if (InputGates.Length < rows * LayerShape<TSpec>.GateStride)
        {
            InputGates = new float[rows * LayerShape<TSpec>.GateStride];
            SequenceA = new float[rows * RecurrentModel<TSpec>.OutputFeatures];
            SequenceB = TSpec.NumLayers > 1 ? new float[rows * RecurrentModel<TSpec>.OutputFeatures] : [];
        }
        if (HiddenGates.Length < batch * LayerShape<TSpec>.GateStride)
        {
            HiddenGates = new float[batch * LayerShape<TSpec>.GateStride];
            H = new float[batch * LayerShape<TSpec>.HStride];
            C = new float[batch * LayerShape<TSpec>.CStride];
            HFull = TSpec.ProjSize > 0 ? new float[batch * LayerShape<TSpec>.CStride] : [];
        }
    }

    /// <summary>
    /// Zeros the streaming state and sets its batch size, reallocating it only when that changes; the caller
    /// has checked <paramref name="batch"/>.
    /// </summary>
    public void ResetState(int batch)
    {
        int layers = TSpec.NumLayers * RecurrentModel<TSpec>.NumDirections;
        int hLength = layers * batch * RecurrentModel<TSpec>.StateSize;
        int cLength = TSpec.Cell == CellKind.Lstm ? layers * batch * TSpec.HiddenSize : 0;
        if (StreamH.Length != hLength) StreamH = new float[hLength];
        if (StreamC.Length != cLength) StreamC = new float[cLength];
        Array.Clear(StreamH);
        Array.Clear(StreamC);
        StreamBatchSize = batch;
    }
}
