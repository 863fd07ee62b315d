using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen;

/// <summary>
/// The argument checks every public entry point makes before it touches memory: buffer sizes computed in 64
/// bits against the largest array .NET can allocate, and spans that must not alias.
/// </summary>
internal static class ArgumentChecks
{
    /// <summary>
    /// <paramref name="count"/> × <paramref name="width"/> as an array length, or an
    /// <see cref="ArgumentException"/> naming <paramref name="argument"/> and the limit when it exceeds
    /// <see cref="Array.MaxLength"/>: the kernels index every buffer with <c>int</c> offsets, so a length past
    /// the limit would wrap instead of failing.
    /// </summary>
    public static int Length(string argument, string what, long count, long width)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(argument, count, $"{what} must not be negative.");
        if (count > MaxCount(width)) ThrowTooLarge(argument, what, count, width);
        return (int)(count * width);
    }

    /// <summary>The exception of <see cref="Length"/>, for callers that build <paramref name="what"/> only on failure.</summary>
    [DoesNotReturn]
    public static void ThrowTooLarge(string argument, string what, long count, long width) =>
        throw new ArgumentException(
            $"{argument}: {what} = {count} needs {count} × {width} floats, more than the {Array.MaxLength} elements one .NET array can hold; at most {MaxCount(width)} fit.",
            argument);

    /// <summary>The largest count whose product with <paramref name="width"/> still fits one array.</summary>
    public static long MaxCount(long width) => width <= 0 ? long.MaxValue : Array.MaxLength / width;

    /// <summary>
    /// Throws unless <paramref name="written"/> and <paramref name="read"/> are disjoint, or (when
    /// <paramref name="sameIsSafe"/>) the very same span: a call that writes one while it still reads the other
    /// would otherwise return wrong values without a word.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NoOverlap(ReadOnlySpan<float> written, string writtenName, ReadOnlySpan<float> read, string readName,
        bool sameIsSafe = false)
    {
        // Inlined, the common case costs a few compares (a streaming step makes a dozen of these checks); it is
        // MemoryExtensions.Overlaps written out, which the JIT and NativeAOT left a call.
        nint offset = Unsafe.ByteOffset(ref MemoryMarshal.GetReference(written), ref MemoryMarshal.GetReference(read));
        bool overlaps = (nuint)offset < (nuint)written.Length * sizeof(float) || (nuint)(-offset) < (nuint)read.Length * sizeof(float);
        if (overlaps && !written.IsEmpty && !read.IsEmpty) Overlapping(written, writtenName, read, readName, sameIsSafe);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Overlapping(ReadOnlySpan<float> written, string writtenName, ReadOnlySpan<float> read, string readName,
        bool sameIsSafe)
    {
        if (sameIsSafe && written.Length == read.Length
            && Unsafe.AreSame(ref MemoryMarshal.GetReference(written), ref MemoryMarshal.GetReference(read)))
        {
            return;
        }
        string allowed = sameIsSafe ? " (passing the very same span as both is allowed)" : "";
        throw new ArgumentException(
            $"{writtenName} overlaps {readName}: the call writes {writtenName} while it still reads {readName}; pass separate buffers{allowed}.",
            writtenName);
    }
}
