using System.Collections.Immutable;

namespace ModelGen;

/// <summary>One tensor's entry in a safetensors header: name, dtype, shape and where its bytes lie, without the bytes.</summary>
/// <remarks>Thread safety: immutable; any number of threads may read it.</remarks>
public sealed class SafetensorsTensorInfo
{
    internal SafetensorsTensorInfo(string name, string dtype, ImmutableArray<long> shape, long elementCount, long begin, long end)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        ElementCount = elementCount;
        Begin = begin;
        End = end;
    }

    /// <summary>The tensor's name, e.g. <c>rnn.weight_ih_l0</c>.</summary>
    public string Name { get; }

    /// <summary>The safetensors dtype, e.g. <c>F32</c>, <c>I32</c>.</summary>
    public string DType { get; }

    /// <summary>The shape, row-major.</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount { get; }

    /// <summary>Offset of the tensor's first byte in the data section (<c>data_offsets[0]</c>).</summary>
    public long Begin { get; }

    /// <summary>Offset just past the tensor's last byte in the data section (<c>data_offsets[1]</c>).</summary>
    public long End { get; }

    /// <summary>Size of the tensor's data in bytes.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The shape in PyTorch notation, e.g. <c>[128, 8]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
