using System.Collections.Immutable;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace ModelGen;

/// <summary>
/// The validated JSON header of a safetensors file: each tensor's dtype, shape and data offsets, and the
/// <c>__metadata__</c> map, without the data. <see cref="SafetensorsFile.Read(Stream, Func{SafetensorsHeader, IEnumerable{string}})"/>
/// shows it to the caller, who picks the tensors whose data is then read.
/// </summary>
/// <remarks>
/// The rules are those of the format's reference implementation (huggingface/safetensors): UTF-8 JSON starting
/// with <c>{</c> (trailing whitespace allowed: writers pad with spaces), an object whose keys are tensor names
/// and an optional <c>__metadata__</c> string-to-string map; each tensor has a known dtype, non-negative shape
/// dimensions and <c>data_offsets</c> whose span is exactly the bytes that dtype and shape need; sorted by
/// offset, the tensors tile the data section from byte 0 with no gap or overlap. Keys may not repeat.
/// <para>Thread safety: immutable; any number of threads may read it.</para>
/// </remarks>
public sealed class SafetensorsHeader
{
    private static readonly ImmutableDictionary<string, int> ElementSizes = new Dictionary<string, int>
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    }.ToImmutableDictionary();

    private readonly SafetensorsTensorInfo[] _inOffsetOrder;

    private SafetensorsHeader(IReadOnlyDictionary<string, SafetensorsTensorInfo> tensors, SafetensorsTensorInfo[] inOffsetOrder,
        ImmutableDictionary<string, string> metadata, long dataLength)
    {
        Tensors = tensors;
        _inOffsetOrder = inOffsetOrder;
        Metadata = metadata;
        DataLength = dataLength;
    }

    /// <summary>The tensors by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The string-to-string <c>__metadata__</c> map (empty when absent).</summary>
    public ImmutableDictionary<string, string> Metadata { get; }

    /// <summary>Size of the data section in bytes: where the last tensor ends.</summary>
    public long DataLength { get; }

    /// <summary>The tensor whose data holds byte <paramref name="offset"/> of the data section, if any.</summary>
    internal SafetensorsTensorInfo? TensorAt(long offset)
    {
        int low = 0, high = _inOffsetOrder.Length - 1;
        while (low <= high)
        {
            int middle = low + (high - low) / 2;
            SafetensorsTensorInfo tensor = _inOffsetOrder[middle];
            if (offset < tensor.Begin) high = middle - 1;
            else if (offset >= tensor.End) low = middle + 1;
            else return tensor;
        }
        return null;
    }

    /// <summary>
    /// Parses and validates the header bytes. <paramref name="dataLength"/> is the size of the data section that
    /// follows, when known: the tensors must then cover exactly that many bytes.
    /// </summary>
    internal static SafetensorsHeader Parse(ReadOnlyMemory<byte> header, long? dataLength)
    {
        ReadOnlySpan<byte> bytes = header.Span;
        // JsonDocument checks UTF-8 only when a string is decoded, and then throws InvalidOperationException.
        if (!Utf8.IsValid(bytes))
        {
            throw new SafetensorsException($"Header is not valid UTF-8 (first invalid byte at offset {FirstInvalidUtf8(bytes)} of the header).");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new SafetensorsException($"Header is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SafetensorsException("Header is not a JSON object.");
            }
            if (bytes[0] != (byte)'{')
            {
                throw new SafetensorsException($"Header starts with byte 0x{bytes[0]:X2}, but the format requires '{{' as its first byte.");
            }
            ImmutableDictionary<string, string>? metadata = null;
            var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            int position = 0;
            foreach (JsonProperty property in root.EnumerateObject())
            {
                string name = NameOf(property, "The header key at position {0}", position++);
                if (name == "__metadata__")
                {
                    metadata = metadata is null
                        ? ReadMetadata(property.Value)
                        : throw new SafetensorsException("__metadata__ appears twice in the header.");
                    continue;
                }
                if (tensors.Count == SafetensorsFile.MaxEntries)
                {
                    throw new SafetensorsException($"Header lists more than {SafetensorsFile.MaxEntries} tensors, the limit of this reader.");
                }
                if (tensors.ContainsKey(name))
                {
                    throw new SafetensorsException($"Tensor '{name}' appears twice in the header.");
                }
                tensors.Add(name, ReadTensor(name, property.Value, dataLength));
            }
            SafetensorsTensorInfo[] inOffsetOrder = [.. tensors.Values];
            long end = CheckContiguous(inOffsetOrder);
            if (dataLength is long available && available != end)
            {
                // Tensors running past the data were rejected one by one above, so the data section is longer.
                throw new SafetensorsException(
                    $"The data section holds {available} bytes but the tensors end at byte {end}: {available - end} trailing bytes (is the header length right?).");
            }
            return new SafetensorsHeader(new ReadOnlyDictionary<string, SafetensorsTensorInfo>(tensors), inOffsetOrder,
                metadata ?? ImmutableDictionary<string, string>.Empty, end);
        }
    }

    /// <summary>Orders tensors by where their data lies; ties (zero-length tensors, identical ranges) by name, so messages do not depend on header order.</summary>
    internal static int CompareOffsets(SafetensorsTensorInfo a, SafetensorsTensorInfo b) =>
        a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin)
        : a.End != b.End ? a.End.CompareTo(b.End)
        : string.CompareOrdinal(a.Name, b.Name);

    /// <summary>Sorted by offset, each tensor must start where the one before ends, the first at 0; returns the last end.</summary>
    private static long CheckContiguous(SafetensorsTensorInfo[] tensors)
    {
        Array.Sort(tensors, CompareOffsets);
        long end = 0;
        SafetensorsTensorInfo? previous = null;
        foreach (SafetensorsTensorInfo tensor in tensors)
        {
            if (tensor.Begin < end)
            {
                throw new SafetensorsException(
                    $"Tensors '{previous!.Name}' [{previous.Begin}, {previous.End}] and '{tensor.Name}' [{tensor.Begin}, {tensor.End}] have overlapping data_offsets.");
            }
            if (tensor.Begin > end)
            {
                throw new SafetensorsException(previous is null
                    ? $"Tensor '{tensor.Name}' starts at byte {tensor.Begin} of the data section; the first tensor must start at 0 (no gaps)."
                    : $"Tensors '{previous.Name}' [{previous.Begin}, {previous.End}] and '{tensor.Name}' [{tensor.Begin}, {tensor.End}] leave a gap of {tensor.Begin - end} bytes; tensors must be contiguous.");
            }
            end = tensor.End;
            previous = tensor;
        }
        return end;
    }

    private static ImmutableDictionary<string, string> ReadMetadata(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsException("__metadata__ is not a JSON object.");
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        int position = 0;
        foreach (JsonProperty entry in element.EnumerateObject())
        {
            string key = NameOf(entry, "The __metadata__ key at position {0}", position++);
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafetensorsException($"__metadata__ entry '{key}' is not a string.");
            }
            if (metadata.Count == SafetensorsFile.MaxEntries)
            {
                throw new SafetensorsException($"__metadata__ holds more than {SafetensorsFile.MaxEntries} entries, the limit of this reader.");
            }
            if (!metadata.TryAdd(key, StringOf(entry.Value, "__metadata__ entry '{0}'", key)))
            {
                throw new SafetensorsException($"__metadata__ key '{key}' appears twice.");
            }
        }
        return metadata.ToImmutableDictionary(StringComparer.Ordinal);
    }

    private static SafetensorsTensorInfo ReadTensor(string name, JsonElement entry, long? dataLength)
    {
        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        if (entry.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty field in entry.EnumerateObject())
            {
                switch (FieldOf(field, name))
                {
                    case Field.DType: dtypeElement = Once(name, "dtype", dtypeElement, field.Value); break;
                    case Field.Shape: shapeElement = Once(name, "shape", shapeElement, field.Value); break;
                    case Field.DataOffsets: offsetsElement = Once(name, "data_offsets", offsetsElement, field.Value); break;
                    default: break;  // other fields are ignored, as by the reference implementation
                }
            }
        }
        if (dtypeElement?.ValueKind != JsonValueKind.String || shapeElement?.ValueKind != JsonValueKind.Array
            || offsetsElement?.ValueKind != JsonValueKind.Array)
        {
            throw new SafetensorsException($"Tensor '{name}': header entry needs \"dtype\", \"shape\" and \"data_offsets\".");
        }
        string dtype = StringOf(dtypeElement.Value, "Tensor '{0}': dtype", name);
        if (!ElementSizes.TryGetValue(dtype, out int elementSize))
        {
            throw new SafetensorsException($"Tensor '{name}': unknown dtype '{dtype}'.");
        }

        var shape = ImmutableArray.CreateBuilder<long>(shapeElement.Value.GetArrayLength());
        long count = 1;
        foreach (JsonElement dim in shapeElement.Value.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
            {
                throw new SafetensorsException($"Tensor '{name}': shape entries must be non-negative integers.");
            }
            shape.Add(size);
            // As the reference implementation: the running product may not overflow, even if a later 0 would cancel it.
            if (size != 0 && count > long.MaxValue / size)
            {
                throw new SafetensorsException($"Tensor '{name}': shape [{string.Join(", ", shape)}...] has too many elements.");
            }
            count *= size;
        }
        if (count > long.MaxValue / elementSize)
        {
            throw new SafetensorsException($"Tensor '{name}': {dtype} shape [{string.Join(", ", shape)}] needs more than {long.MaxValue} bytes.");
        }

        JsonElement offsets = offsetsElement.Value;
        if (offsets.GetArrayLength() != 2
            || offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end)
            || begin < 0 || end < begin)
        {
            throw new SafetensorsException($"Tensor '{name}': data_offsets must be two integers [begin, end] with 0 <= begin <= end.");
        }
        if (end > dataLength)
        {
            throw new SafetensorsException(
                $"Tensor '{name}': data_offsets [{begin}, {end}] are out of range: the data section holds {dataLength} bytes (truncated file?).");
        }
        long expectedBytes = count * elementSize;
        if (end - begin != expectedBytes)
        {
            throw new SafetensorsException(
                $"Tensor '{name}': {dtype} shape [{string.Join(", ", shape)}] needs {expectedBytes} bytes but data_offsets [{begin}, {end}] span {end - begin}.");
        }
        return new SafetensorsTensorInfo(name, dtype, shape.MoveToImmutable(), count, begin, end);
    }

    private static JsonElement Once(string tensor, string field, JsonElement? seen, JsonElement value) =>
        seen is null ? value : throw new SafetensorsException($"Tensor '{tensor}': field \"{field}\" appears twice.");

    private enum Field { Other, DType, Shape, DataOffsets }

    // JSON allows escapes that decode to lone UTF-16 surrogates ("\ud800"), which no .NET string of text can hold:
    // decoding them throws InvalidOperationException, reported here as the malformed header it is. What the string
    // is (a format of one argument) is only formatted then: headers may hold 100 000 names.
    private static string NameOf(JsonProperty property, string what, object argument)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException e)
        {
            throw NotText(e, what, argument);
        }
    }

    private static string StringOf(JsonElement element, string what, object argument)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw NotText(e, what, argument);
        }
    }

    /// <summary>Which field of a tensor entry this is, compared without making a string of its name.</summary>
    private static Field FieldOf(JsonProperty field, string tensor)
    {
        try
        {
            return field.NameEquals("dtype"u8) ? Field.DType
                : field.NameEquals("shape"u8) ? Field.Shape
                : field.NameEquals("data_offsets"u8) ? Field.DataOffsets
                : Field.Other;
        }
        catch (InvalidOperationException e)
        {
            throw NotText(e, "Tensor '{0}': a field name", tensor);
        }
    }

    private static SafetensorsException NotText(InvalidOperationException e, string what, object argument) =>
        new($"{string.Format(CultureInfo.InvariantCulture, what, argument)} is not valid text: {e.Message} (a lone surrogate escape such as \\ud800?)", e);

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int offset = 0;
        while (Rune.DecodeFromUtf8(bytes[offset..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
        {
            offset += consumed;
        }
        return offset;
    }
}
