using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// Flushing subnormal floats (magnitude below 2⁻¹²⁶) to zero, as real-time audio code does with the CPU's
/// flush-to-zero mode, which .NET cannot set. An x64 core takes a microcode assist of some hundred cycles for
/// each multiply or FMA with a subnormal operand, so one subnormal weight or input slows a whole pass by one
/// to two orders of magnitude. The kernels therefore never feed one to the arithmetic: weights are flushed
/// when packed, inputs and initial states when copied in, h and c when a cell stores them.
/// </summary>
/// <remarks>
/// Normal numbers and zeros pass unchanged, bit for bit; a subnormal becomes a zero of its sign. The result
/// differs from PyTorch's (which keeps subnormals by default) by less than 2⁻¹²⁶ in the flushed value.
/// </remarks>
internal static class Subnormals
{
    /// <summary>2⁻¹²⁶, the smallest positive normal float.</summary>
    public const float SmallestNormal = 1.17549435e-38f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Flush(float x) => MathF.Abs(x) < SmallestNormal ? MathF.CopySign(0f, x) : x;

    /// <summary>Each lane flushed: the magnitude bits of a subnormal cleared, its sign kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Flush(Vector<float> x)
    {
        Vector<int> tiny = Vector.LessThan(Vector.Abs(x), new Vector<float>(SmallestNormal));
        return Vector.AsVectorSingle(Vector.AndNot(Vector.AsVectorInt32(x), tiny & new Vector<int>(int.MaxValue)));
    }

    /// <summary>Each lane flushed, as <see cref="Flush(Vector{float})"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Flush(Vector128<float> x)
    {
        Vector128<int> tiny = Vector128.LessThan(Vector128.Abs(x), Vector128.Create(SmallestNormal)).AsInt32();
        return Vector128.AndNot(x.AsInt32(), tiny & Vector128.Create(int.MaxValue)).AsSingle();
    }

    /// <summary><paramref name="source"/> copied into <paramref name="destination"/> (at least as long), flushed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FlushCopy(ReadOnlySpan<float> source, Span<float> destination)
    {
        int v = Vector<float>.Count, i = 0;
        destination = destination[..source.Length];
        for (; i <= source.Length - v; i += v)
        {
            Flush(new Vector<float>(source[i..])).CopyTo(destination[i..]);
        }
        // Four left over of a wider Vector<T> (a 4-unit state, a 12-feature input): one 128-bit vector, not four
        // scalar compares; a streaming step of 4 units flushes three such spans.
        if (v > Vector128<float>.Count && i <= source.Length - Vector128<float>.Count)
        {
            Flush(Vector128.Create(source[i..])).CopyTo(destination[i..]);
            i += Vector128<float>.Count;
        }
        for (; i < source.Length; i++) destination[i] = Flush(source[i]);
    }
}
