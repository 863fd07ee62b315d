using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text.Json;

namespace ModelGen;

/// <summary>
/// A parsed safetensors file: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name
/// to its dtype, shape and <c>data_offsets</c> (relative to the end of the header), then the raw data.
/// Every rule of the format is checked on read; a violation throws <see cref="SafetensorsException"/> naming it.
/// </summary>
public sealed class SafetensorsFile
{
    /// <summary>Headers above this size are rejected (the format's reference implementation uses the same bound).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private static readonly ImmutableDictionary<string, int> ElementSizes = new Dictionary<string, int>
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    }.ToImmutableDictionary();

    private SafetensorsFile(ImmutableDictionary<string, SafetensorsTensor> tensors,
        ImmutableDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The tensors by name.</summary>
    public ImmutableDictionary<string, SafetensorsTensor> Tensors { get; }

    /// <summary>The string-to-string <c>__metadata__</c> map (empty when absent).</summary>
    public ImmutableDictionary<string, string> Metadata { get; }

    /// <summary>The tensor of that name.</summary>
    /// <exception cref="SafetensorsException">There is none.</exception>
    public SafetensorsTensor this[string name] =>
        Tensors.TryGetValue(name, out SafetensorsTensor? tensor)
            ? tensor
            : throw new SafetensorsException($"Tensor '{name}' is missing from the file.");

    /// <summary>Reads and validates a file.</summary>
    public static SafetensorsFile Read(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>Reads and validates a file from a stream, read to its end.</summary>
    public static SafetensorsFile Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    /// <summary>Parses and validates the bytes of a whole file.</summary>
    public static SafetensorsFile Parse(ReadOnlyMemory<byte> file)
    {
        ReadOnlySpan<byte> bytes = file.Span;
        if (bytes.Length < 8)
        {
            throw new SafetensorsException($"Truncated file: {bytes.Length} bytes, fewer than the 8-byte header length.");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes)
        {
            throw new SafetensorsException($"Header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes.");
        }
        if (headerLength > (ulong)(bytes.Length - 8))
        {
            throw new SafetensorsException(
                $"Header length {headerLength} runs past the end of the file ({bytes.Length - 8} bytes follow the length).");
        }
        int dataStart = 8 + (int)headerLength;
        ReadOnlyMemory<byte> data = file[dataStart..];

        JsonDocument header;
        try
        {
            header = JsonDocument.Parse(file.Slice(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw new SafetensorsException($"Header is not valid JSON: {e.Message}", e);
        }

        using (header)
        {
            if (header.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SafetensorsException("Header is not a JSON object.");
            }
            var tensors = ImmutableDictionary.CreateBuilder<string, SafetensorsTensor>();
            var metadata = ImmutableDictionary<string, string>.Empty;
            var ranges = new List<(long Begin, long End, string Name)>();
            foreach (JsonProperty property in header.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    metadata = ReadMetadata(property.Value);
                    continue;
                }
                if (tensors.ContainsKey(property.Name))
                {
                    throw new SafetensorsException($"Tensor '{property.Name}' appears twice in the header.");
                }
                (SafetensorsTensor tensor, long begin, long end) = ReadTensor(property.Name, property.Value, data);
                tensors.Add(property.Name, tensor);
                ranges.Add((begin, end, property.Name));
            }
            CheckNoOverlap(ranges);
            return new SafetensorsFile(tensors.ToImmutable(), metadata);
        }
    }

    private static ImmutableDictionary<string, string> ReadMetadata(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsException("__metadata__ is not a JSON object.");
        }
        var metadata = ImmutableDictionary.CreateBuilder<string, string>();
        foreach (JsonProperty entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafetensorsException($"__metadata__ entry '{entry.Name}' is not a string.");
            }
            metadata[entry.Name] = entry.Value.GetString()!;
        }
        return metadata.ToImmutable();
    }

    private static (SafetensorsTensor Tensor, long Begin, long End) ReadTensor(string name, JsonElement entry,
        ReadOnlyMemory<byte> data)
    {
        if (entry.ValueKind != JsonValueKind.Object
            || !entry.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !entry.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !entry.TryGetProperty("data_offsets", out JsonElement offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
        {
            throw new SafetensorsException($"Tensor '{name}': header entry needs \"dtype\", \"shape\" and \"data_offsets\".");
        }
        string dtype = dtypeElement.GetString()!;
        if (!ElementSizes.TryGetValue(dtype, out int elementSize))
        {
            throw new SafetensorsException($"Tensor '{name}': unknown dtype '{dtype}'.");
        }

        var shape = ImmutableArray.CreateBuilder<long>();
        long count = 1;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
            {
                throw new SafetensorsException($"Tensor '{name}': shape entries must be non-negative integers.");
            }
            shape.Add(size);
            if (size != 0 && count > long.MaxValue / 8 / size)
            {
                throw new SafetensorsException($"Tensor '{name}': shape [{string.Join(", ", shape)}...] has too many elements.");
            }
            count *= size;
        }

        if (offsetsElement.GetArrayLength() != 2
            || offsetsElement[0].ValueKind != JsonValueKind.Number || offsetsElement[1].ValueKind != JsonValueKind.Number
            || !offsetsElement[0].TryGetInt64(out long begin) || !offsetsElement[1].TryGetInt64(out long end)
            || begin < 0 || end < begin)
        {
            throw new SafetensorsException($"Tensor '{name}': data_offsets must be two integers [begin, end] with 0 <= begin <= end.");
        }
        if (end > data.Length)
        {
            throw new SafetensorsException(
                $"Tensor '{name}': data_offsets [{begin}, {end}] are out of range: the data section holds {data.Length} bytes (truncated file?).");
        }
        long expectedBytes = count * elementSize; // cannot overflow: count <= long.MaxValue / 8
        if (end - begin != expectedBytes)
        {
            throw new SafetensorsException(
                $"Tensor '{name}': {dtype} shape [{string.Join(", ", shape)}] needs {expectedBytes} bytes but data_offsets [{begin}, {end}] span {end - begin}.");
        }
        var tensor = new SafetensorsTensor(name, dtype, shape.ToImmutable(), data.Slice((int)begin, (int)(end - begin)));
        return (tensor, begin, end);
    }

    private static void CheckNoOverlap(List<(long Begin, long End, string Name)> ranges)
    {
        ranges.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        for (int i = 1; i < ranges.Count; i++)
        {
            if (ranges[i].Begin < ranges[i - 1].End)
            {
                throw new SafetensorsException(
                    $"Tensors '{ranges[i - 1].Name}' [{ranges[i - 1].Begin}, {ranges[i - 1].End}] and '{ranges[i].Name}' [{ranges[i].Begin}, {ranges[i].End}] have overlapping data_offsets.");
            }
        }
    }
}
