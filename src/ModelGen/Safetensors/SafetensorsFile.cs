using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;

namespace ModelGen;

/// <summary>
/// A parsed safetensors file: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name
/// to its dtype, shape and <c>data_offsets</c> (relative to the end of the header), then the raw data.
/// Every rule of the format is checked on read (see <see cref="SafetensorsHeader"/>); a violation throws
/// <see cref="SafetensorsException"/> naming it.
/// </summary>
/// <remarks>
/// Thread safety: immutable once read, so any number of threads may read it and its tensors (a file made by
/// <see cref="Parse"/> views the caller's memory, which must not change meanwhile).
/// </remarks>
public sealed class SafetensorsFile
{
    /// <summary>Headers above this size are rejected (the format's reference implementation uses the same bound).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>
    /// Headers listing more tensors, or more <c>__metadata__</c> entries, than this are rejected. Real checkpoints
    /// hold a few thousand tensors per file at most; the bound keeps a hostile header cheap to refuse.
    /// </summary>
    public const int MaxEntries = 100_000;

    // Skipping the unwanted bytes of a stream that cannot seek, and growing a buffer whose size the stream has not
    // yet proved, go in steps of this size.
    private const int ChunkBytes = 1 << 16;

    private SafetensorsFile(ImmutableDictionary<string, SafetensorsTensor> tensors,
        ImmutableDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The tensors by name: all of the file's, or those selected when it was read.</summary>
    public ImmutableDictionary<string, SafetensorsTensor> Tensors { get; }

    /// <summary>The string-to-string <c>__metadata__</c> map (empty when absent).</summary>
    public ImmutableDictionary<string, string> Metadata { get; }

    /// <summary>The tensor of that name.</summary>
    /// <exception cref="SafetensorsException">There is none.</exception>
    public SafetensorsTensor this[string name] =>
        Tensors.TryGetValue(name, out SafetensorsTensor? tensor)
            ? tensor
            : throw new SafetensorsException($"Tensor '{name}' is missing from the file.");

    /// <summary>Reads and validates a file, with every tensor.</summary>
    /// <exception cref="SafetensorsException">The file is malformed.</exception>
    /// <exception cref="IOException">The file cannot be opened or read (e.g. <see cref="FileNotFoundException"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static SafetensorsFile Read(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>Reads and validates a file from a stream, from its current position, with every tensor.</summary>
    /// <inheritdoc cref="Read(Stream, Func{SafetensorsHeader, IEnumerable{string}})" path="/remarks"/>
    /// <exception cref="SafetensorsException">The file is malformed.</exception>
    /// <exception cref="IOException">The stream cannot be read.</exception>
    public static SafetensorsFile Read(Stream stream) => Read(stream, header => header.Tensors.Keys);

    /// <summary>
    /// Reads and validates the header, passes it to <paramref name="select"/>, which names the tensors wanted (or
    /// throws <see cref="SafetensorsException"/> to reject the file before any data is read), then reads the data
    /// of just those tensors.
    /// </summary>
    /// <remarks>
    /// The stream is read from its current position, and the file must end where the data section ends. A
    /// seekable stream's remaining length is checked against the header before any data is read, and the bytes of
    /// tensors not selected are seeked over. A stream that cannot seek is read to the end of the data section, the
    /// unwanted bytes in small chunks, and must end there. Either way only the selected tensors are held in memory.
    /// </remarks>
    /// <exception cref="SafetensorsException">The file is malformed, or a selected tensor is not in it.</exception>
    /// <exception cref="IOException">The stream cannot be read.</exception>
    public static SafetensorsFile Read(Stream stream, Func<SafetensorsHeader, IEnumerable<string>> select)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(select);
        long? available = stream.CanSeek ? stream.Length - stream.Position : null;
        Span<byte> prefix = stackalloc byte[8];
        int prefixRead = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (prefixRead < prefix.Length)
        {
            throw Truncated(prefixRead);
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        CheckHeaderLength(headerLength, available - 8);
        (byte[] json, int headerRead) = ReadBytes(stream, (int)headerLength, sizeKnown: available is not null);
        if (headerRead < json.Length)
        {
            throw HeaderPastEnd(headerLength, headerRead);
        }
        var reader = new DataReader(stream, SafetensorsHeader.Parse(json, available - 8 - (long)headerLength));
        IEnumerable<string> names = select(reader.Header)
            ?? throw new ArgumentException("The selector returned null instead of tensor names.", nameof(select));
        return new SafetensorsFile(reader.Read(names), reader.Header.Metadata);
    }

    /// <summary>Parses and validates the bytes of a whole file; the tensors' data are slices of <paramref name="file"/>.</summary>
    /// <exception cref="SafetensorsException">The file is malformed.</exception>
    public static SafetensorsFile Parse(ReadOnlyMemory<byte> file)
    {
        ReadOnlySpan<byte> bytes = file.Span;
        if (bytes.Length < 8)
        {
            throw Truncated(bytes.Length);
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        CheckHeaderLength(headerLength, bytes.Length - 8);
        ReadOnlyMemory<byte> data = file[(8 + (int)headerLength)..];
        SafetensorsHeader header = SafetensorsHeader.Parse(file.Slice(8, (int)headerLength), data.Length);
        var tensors = ImmutableDictionary.CreateBuilder<string, SafetensorsTensor>();
        foreach (SafetensorsTensorInfo info in header.Tensors.Values)
        {
            tensors.Add(info.Name, new SafetensorsTensor(info, data.Slice((int)info.Begin, (int)info.ByteLength)));
        }
        return new SafetensorsFile(tensors.ToImmutable(), header.Metadata);
    }

    private static SafetensorsException Truncated(int length) =>
        new($"Truncated file: {length} bytes, fewer than the 8-byte header length.");

    private static SafetensorsException HeaderPastEnd(ulong headerLength, long follow) =>
        new($"Header length {headerLength} runs past the end of the file ({follow} bytes follow the length).");

    /// <summary>Checks the stated header length against the limit and, when known, the bytes that follow it.</summary>
    private static void CheckHeaderLength(ulong headerLength, long? follow)
    {
        if (headerLength > MaxHeaderBytes)
        {
            throw new SafetensorsException($"Header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes.");
        }
        if (follow is long bytes && headerLength > (ulong)bytes)
        {
            throw HeaderPastEnd(headerLength, bytes);
        }
    }

    /// <summary>
    /// Reads <paramref name="length"/> bytes, or fewer if the stream ends first (the count read is returned).
    /// Unless the stream's size is known to hold them, the buffer grows as the data arrives, so a stream that
    /// claims more than it has costs only what it has.
    /// </summary>
    private static (byte[] Buffer, int Read) ReadBytes(Stream stream, int length, bool sizeKnown)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(sizeKnown ? length : Math.Min(length, ChunkBytes));
        int filled = 0;
        while (true)
        {
            filled += stream.ReadAtLeast(buffer.AsSpan(filled), buffer.Length - filled, throwOnEndOfStream: false);
            if (filled < buffer.Length || filled == length)
            {
                return (buffer, filled);
            }
            Array.Resize(ref buffer, (int)Math.Min(length, 2L * buffer.Length));
        }
    }

    /// <summary>Reads the data section after a validated header, keeping the tensors asked for.</summary>
    private sealed class DataReader(Stream stream, SafetensorsHeader header)
    {
        private long _position;  // within the data section

        public SafetensorsHeader Header { get; } = header;

        public ImmutableDictionary<string, SafetensorsTensor> Read(IEnumerable<string> names)
        {
            var selected = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            foreach (string name in names)
            {
                selected[name] = Header.Tensors.TryGetValue(name, out SafetensorsTensorInfo? info)
                    ? info
                    : throw new SafetensorsException($"Tensor '{name}' is missing from the file.");
            }
            SafetensorsTensorInfo[] inOrder = [.. selected.Values];
            Array.Sort(inOrder, SafetensorsHeader.CompareOffsets);

            var tensors = ImmutableDictionary.CreateBuilder<string, SafetensorsTensor>();
            foreach (SafetensorsTensorInfo info in inOrder)
            {
                Skip(info.Begin - _position);
                if (info.ByteLength > Array.MaxLength)
                {
                    throw new SafetensorsException(
                        $"Tensor '{info.Name}' {info.DType} {info.ShapeText} holds {info.ByteLength} bytes, more than one array can hold ({Array.MaxLength}).");
                }
                (byte[] data, int read) = ReadBytes(stream, (int)info.ByteLength, sizeKnown: stream.CanSeek);
                _position += read;
                if (read < data.Length)
                {
                    throw TruncatedData();
                }
                tensors.Add(info.Name, new SafetensorsTensor(info, data));
            }
            if (!stream.CanSeek)
            {
                // Its size was not known up front: the stream must hold the whole data section and end there.
                Skip(Header.DataLength - _position);
                if (stream.ReadByte() >= 0)
                {
                    throw new SafetensorsException(
                        $"The stream goes on past the {Header.DataLength}-byte data section the header describes (trailing bytes; is the header length right?).");
                }
            }
            return tensors.ToImmutable();
        }

        private void Skip(long count)
        {
            if (count == 0)
            {
                return;
            }
            if (stream.CanSeek)
            {
                stream.Seek(count, SeekOrigin.Current);
                _position += count;
                return;
            }
            byte[] scratch = ArrayPool<byte>.Shared.Rent((int)Math.Min(count, ChunkBytes));
            try
            {
                for (long left = count; left > 0;)
                {
                    int read = stream.Read(scratch, 0, (int)Math.Min(left, scratch.Length));
                    if (read == 0)
                    {
                        throw TruncatedData();
                    }
                    left -= read;
                    _position += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        private SafetensorsException TruncatedData()
        {
            SafetensorsTensorInfo? inside = Header.TensorAt(_position);
            string where = inside is null ? "" : $", inside tensor '{inside.Name}' [{inside.Begin}, {inside.End}]";
            return new($"Truncated data section: the stream ended after {_position} of the {Header.DataLength} bytes the tensors need{where}.");
        }
    }
}
