using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// tanh and the logistic sigmoid on vectors, lane by lane: a unit's result does not depend on
/// <see cref="Vector{T}.Count"/> or on its lane, so models give bit-identical results with 4 and 8 lanes.
/// </summary>
/// <remarks>
/// tanh is Eigen's clamped rational approximation (odd degree-13 numerator over even degree-6 denominator),
/// within a few float32 ulps of the true value; σ(x) = ½·tanh(x/2) + ½ reuses it. Both are inlined into the
/// cell kernels: the project's performance notes measured a call to <c>TensorPrimitives.Tanh</c> per gate
/// block 2.3–2.6× slower on its machines.
/// </remarks>
internal static class Activations
{
    // Inputs are clamped to ±ClampBound, where the approximation is within 4 ulps of ±1.
    private const float ClampBound = 7.90531110763549805f;
    // Below this magnitude tanh(x) == x in float32.
    private const float LinearBound = 0.0004f;
    private const float A1 = 4.89352455891786e-03f;
    private const float A3 = 6.37261928875436e-04f;
    private const float A5 = 1.48572235717979e-05f;
    private const float A7 = 5.12229709037114e-08f;
    private const float A9 = -8.60467152213735e-11f;
    private const float A11 = 2.00018790482477e-13f;
    private const float A13 = -2.76076847742355e-16f;
    private const float B0 = 4.89352518554385e-03f;
    private const float B2 = 2.26843463243900e-03f;
    private const float B4 = 1.18534705686654e-04f;
    private const float B6 = 1.19825839466702e-06f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Tanh(Vector<float> x) => Tanh<Vector<float>, VectorLanes>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Sigmoid(Vector<float> x) => Sigmoid<Vector<float>, VectorLanes>(x);

    /// <summary>tanh in any of the kernels' vector types, lane by lane the same operations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Tanh<TVector, TLanes>(TVector x)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        TVector clamped = TLanes.Clamp(x, ClampBound);
        TVector x2 = TLanes.Multiply(clamped, clamped);
        TVector x4 = TLanes.Multiply(x2, x2);
        TVector x8 = TLanes.Multiply(x4, x4);
        // Estrin's scheme in x²: the numerator's polynomial takes three dependent multiply-adds where Horner's rule
        // takes six, and the denominator's two where it takes three; a tanh lies on every step's dependent chain.
        TVector p = TLanes.MultiplyAdd(x8,
            TLanes.MultiplyAdd(x4, TLanes.Broadcast(A13), TLanes.MultiplyAdd(x2, TLanes.Broadcast(A11), TLanes.Broadcast(A9))),
            TLanes.MultiplyAdd(x4,
                TLanes.MultiplyAdd(x2, TLanes.Broadcast(A7), TLanes.Broadcast(A5)),
                TLanes.MultiplyAdd(x2, TLanes.Broadcast(A3), TLanes.Broadcast(A1))));
        p = TLanes.Multiply(p, clamped);
        TVector q = TLanes.MultiplyAdd(x4,
            TLanes.MultiplyAdd(x2, TLanes.Broadcast(B6), TLanes.Broadcast(B4)),
            TLanes.MultiplyAdd(x2, TLanes.Broadcast(B2), TLanes.Broadcast(B0)));
        return TLanes.WhereMagnitudeBelow(x, LinearBound, x, TLanes.Divide(p, q));
    }

    /// <summary>σ(x) = ½·tanh(x/2) + ½ in any of the kernels' vector types.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Sigmoid<TVector, TLanes>(TVector x)
        where TVector : struct
        where TLanes : ILanes<TVector>
    {
        TVector half = TLanes.Broadcast(0.5f);
        return TLanes.MultiplyAdd(Tanh<TVector, TLanes>(TLanes.Multiply(x, half)), half, half);
    }
}
