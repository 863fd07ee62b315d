namespace ModelGen;

/// <summary>
/// The compile-time description of a model. The generator emits one struct per model implementing this
/// interface; <see cref="RecurrentModel{TSpec}"/> reads its static members, which the JIT and NativeAOT turn
/// into constants when they specialise the generic code for that struct, so every loop bound is a constant.
/// </summary>
public interface IRecurrentModelSpec
{
    /// <summary>The cell: LSTM, GRU or Elman RNN.</summary>
    static abstract CellKind Cell { get; }

    /// <summary>Features per time step (<c>input_size</c>).</summary>
    static abstract int InputSize { get; }

    /// <summary>Features of the hidden state (<c>hidden_size</c>).</summary>
    static abstract int HiddenSize { get; }

    /// <summary>Stacked layers (<c>num_layers</c>).</summary>
    static abstract int NumLayers { get; }

    /// <summary>Whether the layers have biases (<c>bias</c>).</summary>
    static abstract bool Bias { get; }

    /// <summary>Whether the layers are bidirectional (<c>bidirectional</c>).</summary>
    static abstract bool Bidirectional { get; }

    /// <summary>LSTM projection size (<c>proj_size</c>); 0 for none and for GRU and RNN.</summary>
    static abstract int ProjSize { get; }

    /// <summary>The RNN non-linearity (<c>nonlinearity</c>); <see cref="RnnNonlinearity.Tanh"/> for LSTM and GRU.</summary>
    static abstract RnnNonlinearity Nonlinearity { get; }

    /// <summary>Outputs of the linear head; 0 for none.</summary>
    static abstract int OutputSize { get; }
}
