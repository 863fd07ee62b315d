using System.ComponentModel;

namespace ModelGen;

/// <summary>
/// Options shared by <see cref="LstmModelAttribute"/>, <see cref="GruModelAttribute"/> and
/// <see cref="RnnModelAttribute"/>; they mirror the constructor arguments of PyTorch's recurrent modules.
/// </summary>
/// <remarks>
/// Each attribute also has the options of the other cells (<c>ProjSize</c>, <c>Nonlinearity</c>), hidden from
/// completion: the compiler accepts them, so that ModelGen's analyzer can report MG0004 on such an argument in
/// every build. Without them the compiler's CS0246 would stop a command-line build before any analyzer ran.
/// </remarks>
public abstract class RecurrentModelAttribute : Attribute
{
    /// <summary>Number of features per time step (<c>input_size</c>). Required.</summary>
    public int InputSize { get; set; }

    /// <summary>Number of features of the hidden state (<c>hidden_size</c>). Required.</summary>
    public int HiddenSize { get; set; }

    /// <summary>Number of stacked recurrent layers (<c>num_layers</c>).</summary>
    public int NumLayers { get; set; } = 1;

    /// <summary>Whether the layers have the biases <c>b_ih</c> and <c>b_hh</c> (<c>bias</c>).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>Whether each layer also runs backwards over the sequence (<c>bidirectional</c>).</summary>
    public bool Bidirectional { get; set; }

    /// <summary>
    /// Size of the linear head applied to the recurrent output, PyTorch's <c>nn.Linear(D * Hout, OutputSize)</c>
    /// with <c>D = 2</c> when bidirectional and <c>Hout</c> the projection or hidden size. 0 means no head.
    /// </summary>
    public int OutputSize { get; set; }
}

/// <summary>
/// Generates an LSTM model on the partial class it marks: PyTorch's <c>nn.LSTM(batch_first=True)</c>, optionally
/// followed by <c>nn.Linear</c>. Gate order i, f, g, o.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LstmModelAttribute : RecurrentModelAttribute
{
    /// <summary>Size of the projected hidden state (<c>proj_size</c>); 0 for none. Must be below <see cref="RecurrentModelAttribute.HiddenSize"/>.</summary>
    public int ProjSize { get; set; }

    /// <summary>Not an option of an LSTM, whose cell has fixed activations: setting it is error MG0004 (only <see cref="RnnModelAttribute"/> has it).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RnnNonlinearity Nonlinearity { get; set; }
}

/// <summary>
/// Generates a GRU model on the partial class it marks: PyTorch's <c>nn.GRU(batch_first=True)</c>, optionally
/// followed by <c>nn.Linear</c>. Gate order r, z, n.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GruModelAttribute : RecurrentModelAttribute
{
    /// <summary>Not an option of a GRU: only an LSTM has a projection. Setting it is error MG0004 (only <see cref="LstmModelAttribute"/> has it).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int ProjSize { get; set; }

    /// <summary>Not an option of a GRU, whose cell has fixed activations: setting it is error MG0004 (only <see cref="RnnModelAttribute"/> has it).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RnnNonlinearity Nonlinearity { get; set; }
}

/// <summary>
/// Generates an Elman RNN model on the partial class it marks: PyTorch's <c>nn.RNN(batch_first=True)</c>,
/// optionally followed by <c>nn.Linear</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnnModelAttribute : RecurrentModelAttribute
{
    /// <summary>The non-linearity of the cell (<c>nonlinearity</c>).</summary>
    public RnnNonlinearity Nonlinearity { get; set; } = RnnNonlinearity.Tanh;

    /// <summary>Not an option of an Elman RNN: only an LSTM has a projection. Setting it is error MG0004 (only <see cref="LstmModelAttribute"/> has it).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int ProjSize { get; set; }
}

/// <summary>The non-linearity of an Elman RNN cell, PyTorch's <c>nonlinearity</c> argument.</summary>
public enum RnnNonlinearity
{
    /// <summary><c>h' = tanh(W_ih x + b_ih + W_hh h + b_hh)</c>.</summary>
    Tanh = 0,

    /// <summary><c>h' = relu(W_ih x + b_ih + W_hh h + b_hh)</c>.</summary>
    Relu = 1,
}
