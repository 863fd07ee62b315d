using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace ModelGen;

/// <summary>One tensor of a safetensors file: name, dtype, shape and its raw little-endian bytes.</summary>
/// <remarks>Thread safety: immutable, as its <see cref="SafetensorsFile"/>; any number of threads may read and copy it.</remarks>
public sealed class SafetensorsTensor
{
    private readonly SafetensorsTensorInfo _info;

    internal SafetensorsTensor(SafetensorsTensorInfo info, ReadOnlyMemory<byte> data)
    {
        _info = info;
        Data = data;
    }

    /// <summary>The tensor's name, e.g. <c>rnn.weight_ih_l0</c>.</summary>
    public string Name => _info.Name;

    /// <summary>The safetensors dtype, e.g. <c>F32</c>, <c>I32</c>.</summary>
    public string DType => _info.DType;

    /// <summary>The shape, row-major.</summary>
    public ImmutableArray<long> Shape => _info.Shape;

    /// <summary>The raw little-endian bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount => _info.ElementCount;

    /// <summary>The shape in PyTorch notation, e.g. <c>[128, 8]</c>.</summary>
    public string ShapeText => _info.ShapeText;

    /// <summary>Copies an F32 tensor into <paramref name="destination"/>, whose length must be the element count.</summary>
    public void CopyTo(Span<float> destination)
    {
        RequireDType("F32", destination.Length);
        CopyLittleEndian(Data.Span, MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Copies an I32 tensor into <paramref name="destination"/>, whose length must be the element count.</summary>
    public void CopyTo(Span<int> destination)
    {
        RequireDType("I32", destination.Length);
        CopyLittleEndian(Data.Span, MemoryMarshal.AsBytes(destination));
    }

    /// <summary>The elements of an F32 tensor as a new array.</summary>
    public float[] ToFloatArray()
    {
        var values = new float[ElementCount];
        CopyTo(values);
        return values;
    }

    /// <summary>The elements of an I32 tensor as a new array.</summary>
    public int[] ToInt32Array()
    {
        var values = new int[ElementCount];
        CopyTo(values);
        return values;
    }

    private void RequireDType(string dtype, int destinationLength)
    {
        if (DType != dtype)
        {
            throw new SafetensorsException($"Tensor '{Name}' has dtype {DType}, expected {dtype}.");
        }
        if (destinationLength != ElementCount)
        {
            throw new ArgumentException(
                $"Tensor '{Name}' {ShapeText} has {ElementCount} elements but the destination holds {destinationLength}.",
                "destination");
        }
    }

    private static void CopyLittleEndian(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        if (!BitConverter.IsLittleEndian)
        {
            Span<int> words = MemoryMarshal.Cast<byte, int>(destination);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }
}
