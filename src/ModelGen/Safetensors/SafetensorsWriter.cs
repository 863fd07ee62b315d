using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ModelGen;

/// <summary>Writes safetensors files: F32 and I32 tensors in the given order, an optional <c>__metadata__</c> map.</summary>
/// <remarks>Thread safety: not thread-safe; one thread adds the tensors and writes the file.</remarks>
public sealed class SafetensorsWriter
{
    private readonly List<(string Name, string DType, long[] Shape, byte[] Data)> _tensors = [];
    private readonly Dictionary<string, string> _metadata = [];

    /// <summary>Adds an F32 tensor; the element count must match the shape.</summary>
    public SafetensorsWriter Add(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values) =>
        AddRaw(name, "F32", shape, MemoryMarshal.AsBytes(values), values.Length);

    /// <summary>Adds an I32 tensor; the element count must match the shape.</summary>
    public SafetensorsWriter Add(string name, ReadOnlySpan<long> shape, ReadOnlySpan<int> values) =>
        AddRaw(name, "I32", shape, MemoryMarshal.AsBytes(values), values.Length);

    /// <summary>Adds a <c>__metadata__</c> entry.</summary>
    public SafetensorsWriter AddMetadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    /// <summary>Writes the file.</summary>
    public void WriteTo(string path)
    {
        using FileStream stream = File.Create(path);
        WriteTo(stream);
    }

    /// <summary>Writes the file to a stream.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (_metadata.Count > 0)
            {
                writer.WriteStartObject("__metadata__");
                foreach ((string key, string value) in _metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach ((string name, string dtype, long[] shape, byte[] data) in _tensors)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", dtype);
                writer.WriteStartArray("shape");
                foreach (long dim in shape) writer.WriteNumberValue(dim);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + data.Length);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += data.Length;
            }
            writer.WriteEndObject();
        }
        // The format pads the header with spaces so that the data starts 8-byte aligned.
        int padding = (int)((8 - json.Length % 8) % 8);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(json.Length + padding));
        stream.Write(length);
        stream.Write(json.GetBuffer(), 0, (int)json.Length);
        for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
        foreach ((_, _, _, byte[] data) in _tensors) stream.Write(data);
    }

    private SafetensorsWriter AddRaw(string name, string dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> bytes, int count)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        long expected = 1;
        foreach (long dim in shape) expected *= dim;
        if (expected != count)
        {
            throw new ArgumentException(
                $"Tensor '{name}': shape [{string.Join(", ", shape.ToArray())}] holds {expected} elements but {count} were given.",
                nameof(shape));
        }
        if (name == "__metadata__" || _tensors.Exists(t => t.Name == name))
        {
            throw new ArgumentException($"Tensor name '{name}' is reserved or already added.", nameof(name));
        }
        byte[] data = bytes.ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            Span<int> words = MemoryMarshal.Cast<byte, int>(data.AsSpan());
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        _tensors.Add((name, dtype, shape.ToArray(), data));
        return this;
    }
}
