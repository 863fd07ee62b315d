// This file is compiled into both the runtime (ModelGen) and the generator (ModelGen.Generator), so the
// parameter layout the generator writes into constants and the layout the kernels read can never disagree.
using System;
using System.Collections.Generic;

#if MODELGEN_GENERATOR
namespace ModelGen.Generator;
#else
namespace ModelGen;
#endif

/// <summary>The kind of recurrent cell.</summary>
#if MODELGEN_GENERATOR
internal
#else
public
#endif
enum CellKind
{
    /// <summary>Long short-term memory, gates i, f, g, o.</summary>
    Lstm = 0,

    /// <summary>Gated recurrent unit, gates r, z, n.</summary>
    Gru = 1,

    /// <summary>Elman RNN with tanh or ReLU.</summary>
    Rnn = 2,
}

/// <summary>One tensor of the parameter buffer: its PyTorch name, shape and place.</summary>
internal sealed class TensorSlot
{
    public TensorSlot(string name, int[] shape, long offset)
    {
        Name = name;
        Shape = shape;
        Offset = offset;
        long length = 1;
        foreach (int dim in shape) length *= dim;
        Length = length;
    }

    public string Name { get; }
    public int[] Shape { get; }
    public long Offset { get; }
    public long Length { get; }
}

/// <summary>
/// Offsets of one layer and direction's tensors, -1 when absent: in the parameter buffer (<see cref="ModelGeometry.OffsetsOf"/>),
/// or in the runtime's packed copy of the weights.
/// </summary>
internal readonly struct LayerOffsets(int weightIh, int weightHh, int biasIh, int biasHh, int weightHr)
{
    public int WeightIh { get; } = weightIh;
    public int WeightHh { get; } = weightHh;
    public int BiasIh { get; } = biasIh;
    public int BiasHh { get; } = biasHh;
    public int WeightHr { get; } = weightHr;
}

/// <summary>
/// Sizes and parameter layout of a recurrent module plus optional linear head, exactly as PyTorch names and
/// shapes them in <c>state_dict</c> (the module held as <c>rnn</c>, the head as <c>head</c>), in PyTorch's order.
/// </summary>
internal sealed class ModelGeometry
{
    public ModelGeometry(CellKind cell, int inputSize, int hiddenSize, int numLayers, bool bias,
        bool bidirectional, int projSize, int outputSize)
    {
        Cell = cell;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Bias = bias;
        Bidirectional = bidirectional;
        ProjSize = projSize;
        OutputSize = outputSize;
        Parameters = BuildParameters();
    }

    public CellKind Cell { get; }
    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; }
    public bool Bias { get; }
    public bool Bidirectional { get; }
    public int ProjSize { get; }
    public int OutputSize { get; }

    /// <summary>D: 2 for a bidirectional model, else 1.</summary>
    public int NumDirections => Bidirectional ? 2 : 1;

    /// <summary>Gates per unit: LSTM 4 (i, f, g, o), GRU 3 (r, z, n), RNN 1.</summary>
    public int GateCount => GateCountOf(Cell);

    /// <summary>Hout: the size of h, the projection size when there is one.</summary>
    public long StateSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>Features per time step of the recurrent output, D * Hout.</summary>
    public long OutputFeatures => NumDirections * StateSize;

    /// <summary>All tensors in PyTorch's <c>state_dict</c> order.</summary>
    public IReadOnlyList<TensorSlot> Parameters { get; }

    /// <summary>Total number of floats in the parameter buffer (long, so that overflow can be detected).</summary>
    public long ParameterCount
    {
        get
        {
            TensorSlot last = Parameters[Parameters.Count - 1];
            return last.Offset + last.Length;
        }
    }

    public static int GateCountOf(CellKind cell) => cell switch
    {
        CellKind.Lstm => 4,
        CellKind.Gru => 3,
        _ => 1,
    };

    public long LayerInputSize(int layer) => layer == 0 ? InputSize : OutputFeatures;

    /// <summary>PyTorch's suffix of a layer and direction, e.g. <c>l1_reverse</c>.</summary>
    public static string LayerSuffix(int layer, int direction) =>
        "l" + layer.ToString(System.Globalization.CultureInfo.InvariantCulture) + (direction == 1 ? "_reverse" : "");

    /// <summary>Offsets of the tensors of one layer and direction (valid when <see cref="ParameterCount"/> fits an int).</summary>
    public LayerOffsets OffsetsOf(int layer, int direction)
    {
        string suffix = LayerSuffix(layer, direction);
        return new LayerOffsets(
            OffsetOf("rnn.weight_ih_" + suffix), OffsetOf("rnn.weight_hh_" + suffix),
            OffsetOf("rnn.bias_ih_" + suffix), OffsetOf("rnn.bias_hh_" + suffix), OffsetOf("rnn.weight_hr_" + suffix));
    }

    /// <summary>Offset of a named tensor, -1 when the model has none of that name.</summary>
    public int OffsetOf(string name)
    {
        foreach (TensorSlot slot in Parameters)
        {
            if (slot.Name == name) return (int)slot.Offset;
        }
        return -1;
    }

    private List<TensorSlot> BuildParameters()
    {
        var slots = new List<TensorSlot>();
        long offset = 0;
        void Add(string name, params long[] shape)
        {
            var dims = new int[shape.Length];
            for (int i = 0; i < shape.Length; i++) dims[i] = (int)Math.Min(shape[i], int.MaxValue);
            var slot = new TensorSlot(name, dims, offset);
            slots.Add(slot);
            offset += slot.Length;
        }

        long gateRows = (long)GateCount * HiddenSize;
        for (int layer = 0; layer < NumLayers; layer++)
        {
            for (int direction = 0; direction < NumDirections; direction++)
            {
                string suffix = LayerSuffix(layer, direction);
                Add("rnn.weight_ih_" + suffix, gateRows, LayerInputSize(layer));
                Add("rnn.weight_hh_" + suffix, gateRows, StateSize);
                if (Bias)
                {
                    Add("rnn.bias_ih_" + suffix, gateRows);
                    Add("rnn.bias_hh_" + suffix, gateRows);
                }
                if (ProjSize > 0) Add("rnn.weight_hr_" + suffix, ProjSize, HiddenSize);
            }
        }
        if (OutputSize > 0)
        {
            Add("head.weight", OutputSize, OutputFeatures);
            Add("head.bias", OutputSize);
        }
        return slots;
    }
}
