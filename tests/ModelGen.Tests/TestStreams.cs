namespace ModelGen.Tests;

/// <summary>
/// A read-only stream for the readers' tests: <c>prefix</c>, then zeros up to <c>length</c> (which may be far
/// beyond what any buffer could hold, or endless). It may refuse to seek, hand out its bytes in small pieces of
/// seeded random size, and counts what is read; reading past <c>budget</c> throws, so that a reader that would
/// read a huge stream to its end fails at once instead of running out of memory or time.
/// </summary>
internal sealed class TestStream(byte[] prefix, long? length = null, bool seekable = true, int? pieceSeed = null,
    long budget = long.MaxValue) : Stream
{
    private readonly long _length = length ?? prefix.Length;
    private readonly Random? _pieces = pieceSeed is int seed ? new Random(seed) : null;
    private long _position;

    /// <summary>Bytes handed out so far.</summary>
    public long BytesRead { get; private set; }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => seekable;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => seekable ? _length : throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => seekable ? _position : throw new NotSupportedException();
        set => Seek(value, SeekOrigin.Begin);
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        int count = (int)Math.Clamp(_length - _position, 0, buffer.Length);
        if (count > 0 && _pieces is not null) count = _pieces.Next(1, count + 1);
        if (BytesRead + count > budget)
        {
            throw new InvalidOperationException($"The reader went past the test's budget of {budget} bytes.");
        }
        Span<byte> target = buffer[..count];
        target.Clear();
        if (_position < prefix.Length)
        {
            int fromPrefix = (int)Math.Min(count, prefix.Length - _position);
            prefix.AsSpan((int)_position, fromPrefix).CopyTo(target);
        }
        _position += count;
        BytesRead += count;
        return count;
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin)
    {
        if (!seekable) throw new NotSupportedException();
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        _position = target;
        return target;
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
