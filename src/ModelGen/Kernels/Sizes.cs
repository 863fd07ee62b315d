using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// A size known when the JIT (or NativeAOT) specialises generic code for a struct: reading
/// <see cref="Value"/> compiles to a constant, so loops bounded by it have constant bounds.
/// </summary>
internal interface IDim
{
    static abstract int Value { get; }
}

/// <summary>
/// Every size the runtime derives from a recurrent spec, in one place: PyTorch's sizes (D, Hout, G, ...) and the
/// padded strides of the packed weights and workspace rows. All constants after specialisation.
/// </summary>
/// <remarks>
/// The parameter layout (tensor names, shapes, offsets) is <see cref="ModelGeometry"/>'s, shared with the
/// generator; these are the sizes the kernels loop over. <see cref="RecurrentModel{TSpec}"/>'s public size
/// properties forward here.
/// </remarks>
internal static class Sizes<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    // The sizes every call reads are marked for inlining: NativeAOT left some of them as calls in the per-step checks.

    /// <summary>D: 2 for a bidirectional stack, else 1.</summary>
    public static int Directions
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TSpec.Bidirectional ? 2 : 1;
    }

    /// <summary>L·D: the (layer, direction) pairs, and the first dimension of h0, c0, hN and cN.</summary>
    public static int LayerDirections
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TSpec.NumLayers * Directions;
    }

    /// <summary>Hout: the size of h, the projection size when there is one.</summary>
    public static int State
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TSpec.ProjSize > 0 ? TSpec.ProjSize : TSpec.HiddenSize;
    }

    /// <summary>D·Hout: features per step of a layer's output, and the input of the layers above the first.</summary>
    public static int OutputFeatures
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Directions * State;
    }

    /// <summary>G: gates per unit (LSTM 4, GRU 3, RNN 1), as the parameter layout counts them.</summary>
    public static int Gates => ModelGeometry.GateCountOf(TSpec.Cell);

    /// <summary>G·H: rows of W_ih and W_hh.</summary>
    public static int GateRows => Gates * TSpec.HiddenSize;

    /// <summary>K of layer <paramref name="layer"/>: I for the first, D·Hout above it.</summary>
    public static int LayerInput(int layer) => layer == 0 ? TSpec.InputSize : OutputFeatures;

    /// <summary>Floats of one gate-packed row of gates (xg or hg), see <see cref="Packed"/>.</summary>
    public static int GateStride => Packed.VectorLength(Gates, TSpec.HiddenSize);

    /// <summary>Hp: floats of one row of c (and of the cell's h before a projection), H rounded up to whole vectors.</summary>
    public static int CStride => Packed.Blocks(TSpec.HiddenSize) * Vector<float>.Count;

    /// <summary>A row of <paramref name="floats"/> rounded up to whole vectors: the widths of the backward's row-batched products.</summary>
    public static int Padded(int floats) => Packed.Blocks(floats) * Vector<float>.Count;

    /// <summary>Floats of one row of h: room for the cell's output, or for the projection's padded output.</summary>
    public static int HStride => TSpec.ProjSize > 0 ? Math.Max(CStride, Packed.VectorLength(1, TSpec.ProjSize)) : CStride;

    /// <summary>
    /// Floats of <see cref="BackwardPass.Scratch"/>: six vectors of Hp (dL/dh, the cell's dL/dh, the cell's h,
    /// dL/dh_prev's direct part, h_prev, c_prev) and a bias gradient's sum, gate-major G·Hp.
    /// </summary>
    public static int BackwardScratch => 6 * CStride + Gates * CStride;
}

/// <summary>K of layer 0: the model's input size I.</summary>
internal readonly struct FirstLayerInput<TSpec> : IDim where TSpec : struct, IRecurrentModelSpec
{
    public static int Value => TSpec.InputSize;
}

/// <summary>K of the layers above the first: D * Hout.</summary>
internal readonly struct UpperLayerInput<TSpec> : IDim where TSpec : struct, IRecurrentModelSpec
{
    public static int Value => Sizes<TSpec>.OutputFeatures;
}

/// <summary>Hout: the columns of a layer's W_hh.</summary>
internal readonly struct LayerState<TSpec> : IDim where TSpec : struct, IRecurrentModelSpec
{
    public static int Value => Sizes<TSpec>.State;
}
