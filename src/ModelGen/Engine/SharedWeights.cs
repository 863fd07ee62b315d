using System.Collections.Immutable;
using ModelGen.Kernels;

namespace ModelGen;

/// <summary>
/// Read-only weights of the model that <typeparamref name="TSpec"/> describes, shared by any number of
/// <see cref="InferenceContext{TSpec}"/>s: a snapshot of the parameters taken by
/// <see cref="RecurrentModel{TSpec}.ShareWeights"/>, and the packed copy that the kernels read, made once. The
/// generated model's <c>ShareWeights()</c> returns it wrapped in the model's nested <c>SharedWeights</c> class.
/// </summary>
/// <remarks>
/// <para>Thread safety: immutable once constructed, so any number of threads may read it and create contexts
/// from it at the same time, without locks. The snapshot is taken when <c>ShareWeights</c> runs: later writes to
/// the model's parameters (an optimiser step, a load, <c>InitializeParameters</c>) do not reach it.</para>
/// <para>Memory: the parameter copy and the packed copy, each about <c>4 · ParameterCount</c> bytes (the packed
/// one is padded to whole vectors); the contexts add only their workspaces.</para>
/// <para>The type parameter ties the weights to one model: a context of one model cannot be given the weights
/// of another, even of the same sizes, because each generated model has its own <c>ModelSpec</c> struct.</para>
/// </remarks>
public sealed class SharedWeights<TSpec> where TSpec : struct, IRecurrentModelSpec
{
    private readonly float[] _parameters;

    /// <summary>Copies <paramref name="parameters"/> and packs the copy.</summary>
    internal SharedWeights(float[] parameters)
    {
        _parameters = (float[])parameters.Clone();
        Packed = RecurrentModel<TSpec>.PackCopy(_parameters);
    }

    /// <summary>The packed copy that the kernels of every context read; never written after the constructor.</summary>
    internal AlignedFloats Packed { get; }

    /// <summary>The parameter table, in PyTorch's <c>state_dict</c> order.</summary>
    public static ImmutableArray<ParameterInfo> ParameterTable => RecurrentModel<TSpec>.ParameterTable;

    /// <summary>The snapshot of every parameter, laid out as <see cref="ParameterTable"/> says.</summary>
    public ReadOnlySpan<float> Parameters => _parameters;

    /// <summary>Bytes of the snapshot and of its packed copy (the packing pads to the machine's vector width).</summary>
    public long MemoryBytes => 4L * (_parameters.Length + Packed.Length);

    /// <summary>The slice of <see cref="Parameters"/> holding the tensor of that PyTorch name.</summary>
    /// <exception cref="KeyNotFoundException">The model has no tensor of that name.</exception>
    public ReadOnlySpan<float> GetParameter(string name)
    {
        foreach (ParameterInfo info in ParameterTable)
        {
            if (info.Name == name) return _parameters.AsSpan(info.Offset, info.Length);
        }
        throw new KeyNotFoundException($"The model has no parameter '{name}'.");
    }

    /// <summary>
    /// A new inference context over these weights, with its own workspace and a zero streaming state for batch 1.
    /// Give each thread its own; this call allocates the context, the first calls of each size its workspace.
    /// </summary>
    public InferenceContext<TSpec> CreateContext() => new(this);
}
