namespace ModelGen.Kernels;

/// <summary>
/// A size known when the JIT (or NativeAOT) specialises generic code for a struct: reading
/// <see cref="Value"/> compiles to a constant, so loops bounded by it have constant bounds.
/// </summary>
internal interface IDim
{
    static abstract int Value { get; }
}

/// <summary>The sizes every kernel derives from a model's spec; all constants after specialisation.</summary>
internal static class Sizes<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    /// <summary>D.</summary>
    public static int Directions => TSpec.Bidirectional ? 2 : 1;

    /// <summary>Hout: projection size, or H.</summary>
    public static int State => TSpec.ProjSize > 0 ? TSpec.ProjSize : TSpec.HiddenSize;

    /// <summary>D * Hout: features per step of a layer's output, and the input of the layers above the first.</summary>
    public static int OutputFeatures => Directions * State;

    /// <summary>G: gates per unit.</summary>
    public static int Gates => TSpec.Cell switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };

    /// <summary>G * H: rows of W_ih and W_hh.</summary>
    public static int GateRows => Gates * TSpec.HiddenSize;
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
