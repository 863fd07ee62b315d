using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Kernels;

/// <summary>
/// <c>a·b + c</c> as the kernels compute it: fused (one rounding) where the CPU has fused multiply-add, else a
/// multiply and an add (two roundings). <see cref="Vector.FusedMultiplyAdd(Vector{float}, Vector{float}, Vector{float})"/>
/// and <see cref="MathF.FusedMultiplyAdd"/> would emulate the fusion in software on a CPU without it — exact, but
/// 10–30× slower, and that is what a NativeAOT binary built for the default x86-64 target runs on.
/// </summary>
/// <remarks>
/// The choice is a constant of the compiled code (<see cref="IsFused"/>): one CPU, one set of results. Between a
/// CPU with FMA and one without, results differ by the second rounding of each multiply-add (about 2⁻²⁴ relative per
/// term); within either, they do not depend on the vector width.
/// </remarks>
internal static class MultiplyAdd
{
    /// <summary>Whether <see cref="Of(Vector{float}, Vector{float}, Vector{float})"/> fuses: x86 with FMA, or Arm64.</summary>
    public static bool IsFused
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Fma.IsSupported || AdvSimd.Arm64.IsSupported;
    }

    /// <summary><c>a·b + c</c>, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Of(Vector<float> a, Vector<float> b, Vector<float> c) =>
        IsFused ? Vector.FusedMultiplyAdd(a, b, c) : a * b + c;

    /// <summary><c>a·b + c</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Of(float a, float b, float c) => IsFused ? MathF.FusedMultiplyAdd(a, b, c) : a * b + c;
}
