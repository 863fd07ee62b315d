using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// The vector a micro-kernel computes in, as a struct the JIT specialises generic kernels for (the style of
/// TensorPrimitives' operators): one kernel body, compiled once for <see cref="Vector{T}"/> and once for
/// <see cref="Vector512{T}"/>.
/// </summary>
/// <remarks>
/// Every lane does exactly what <see cref="MultiplyAdd.Of(Vector{float}, Vector{float}, Vector{float})"/> does in
/// that lane, so a kernel gives the same bits in either vector type: an output's arithmetic does not depend on
/// how many of its neighbours share its register.
/// </remarks>
internal interface ILanes<TVector> where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>Vector registers the kernels may plan for: 16 (SSE, AVX2, Arm64's 32 kept to the common count) or 32 (AVX-512).</summary>
    static abstract int Registers { get; }

    static abstract TVector Load(ref float source, int index);

    static abstract void Store(TVector value, ref float destination, int index);

    static abstract TVector Broadcast(float value);

    /// <summary>Lane <paramref name="lane"/> of <paramref name="value"/>.</summary>
    static abstract float Element(TVector value, int lane);

    /// <summary><c>a·b + c</c>, fused exactly where <see cref="MultiplyAdd.IsFused"/>.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract TVector Multiply(TVector a, TVector b);

    static abstract TVector Divide(TVector a, TVector b);

    /// <summary>
    /// <paramref name="x"/> clamped to ±<paramref name="bound"/> with the core's own min and max instructions: a NaN
    /// lane gives either bound or NaN, whichever the platform's instructions give, so a caller that must propagate
    /// NaN selects it back (<see cref="WhereMagnitudeBelow"/>). The IEEE minimum and maximum of <c>Vector.Min</c>
    /// and <c>Vector.Max</c> fix up NaN and signed zeros with several more instructions in a tanh's dependent chain.
    /// </summary>
    static abstract TVector Clamp(TVector x, float bound);

    /// <summary>
    /// Lane by lane, <paramref name="below"/> where |<paramref name="x"/>| &lt; <paramref name="bound"/> or
    /// <paramref name="x"/> is NaN, else <paramref name="otherwise"/>.
    /// </summary>
    static abstract TVector WhereMagnitudeBelow(TVector x, float bound, TVector below, TVector otherwise);
}

/// <summary><see cref="Vector{T}"/>: the width the runtime chose for the process (4, 8 or 16 floats).</summary>
internal readonly struct VectorLanes : ILanes<Vector<float>>
{
    public static int Count
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector<float>.Count;
    }

    /// <summary>32 when Vector{T} is 512 bits wide (only on AVX-512 cores, which have 32), else 16.</summary>
    public static int Registers
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector<float>.Count == 16 ? 32 : 16;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(ref float source, int index) => Vector.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector<float> value, ref float destination, int index) => value.StoreUnsafe(ref destination, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Broadcast(float value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(Vector<float> value, int lane) => value[lane];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> MultiplyAdd(Vector<float> a, Vector<float> b, Vector<float> c) => Kernels.MultiplyAdd.Of(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Multiply(Vector<float> a, Vector<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Divide(Vector<float> a, Vector<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Clamp(Vector<float> x, float bound) =>
        Vector.MinNative(Vector.MaxNative(x, new Vector<float>(-bound)), new Vector<float>(bound));

    // Not |x| ≥ bound, which is false for NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> WhereMagnitudeBelow(Vector<float> x, float bound, Vector<float> below, Vector<float> otherwise) =>
        Vector.ConditionalSelect(Vector.AsVectorSingle(Vector.GreaterThanOrEqual(Vector.Abs(x), new Vector<float>(bound))), otherwise, below);
}

/// <summary>
/// <see cref="Vector512{T}"/>: 16 floats, for the kernels that use the core's 512-bit registers where it has them
/// while <see cref="Vector{T}"/> stays at the runtime's default of 256 bits (<see cref="IsWider"/>).
/// </summary>
internal readonly struct Vector512Lanes : ILanes<Vector512<float>>
{
    /// <summary>
    /// Whether 512-bit vectors run in hardware and are wider than <see cref="Vector{T}"/>: the JIT's constant for
    /// the core it compiles for (false under a NativeAOT target without AVX-512, and where the runtime judges
    /// 512-bit code slower, as on cores that lower their clock for it). A branch to a 512-bit path tests
    /// <see cref="Vector512.IsHardwareAccelerated"/> before it: that intrinsic is folded while the JIT imports the
    /// method, this getter only once it is inlined, so without the test a target without 512-bit vectors (a NativeAOT
    /// default, a core without AVX-512) imported the dead wide path and spent the method's inlining budget on it.
    /// </summary>
    public static bool IsWider
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.IsHardwareAccelerated && Vector<float>.Count < Vector512<float>.Count;
    }

    public static int Count
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512<float>.Count;
    }

    public static int Registers
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => 32;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source, int index) => Vector512.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float destination, int index) => value.StoreUnsafe(ref destination, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(Vector512<float> value, int lane) => value.GetElement(lane);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Kernels.MultiplyAdd.IsFused ? Vector512.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Clamp(Vector512<float> x, float bound) =>
        Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(-bound)), Vector512.Create(bound));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WhereMagnitudeBelow(Vector512<float> x, float bound, Vector512<float> below, Vector512<float> otherwise) =>
        Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.Abs(x), Vector512.Create(bound)), otherwise, below);
}
