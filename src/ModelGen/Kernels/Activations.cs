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
    public static Vector<float> Tanh(Vector<float> x)
    {
        Vector<float> clamped = Vector.Min(Vector.Max(x, new Vector<float>(-ClampBound)), new Vector<float>(ClampBound));
        Vector<float> x2 = clamped * clamped;
        Vector<float> p = MultiplyAdd.Of(x2, new Vector<float>(A13), new Vector<float>(A11));
        p = MultiplyAdd.Of(x2, p, new Vector<float>(A9));
        p = MultiplyAdd.Of(x2, p, new Vector<float>(A7));
        p = MultiplyAdd.Of(x2, p, new Vector<float>(A5));
        p = MultiplyAdd.Of(x2, p, new Vector<float>(A3));
        p = MultiplyAdd.Of(x2, p, new Vector<float>(A1));
        p *= clamped;
        Vector<float> q = MultiplyAdd.Of(x2, new Vector<float>(B6), new Vector<float>(B4));
        q = MultiplyAdd.Of(x2, q, new Vector<float>(B2));
        q = MultiplyAdd.Of(x2, q, new Vector<float>(B0));
        Vector<int> small = Vector.LessThan(Vector.Abs(x), new Vector<float>(LinearBound));
        return Vector.ConditionalSelect(Vector.AsVectorSingle(small), x, p / q);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Sigmoid(Vector<float> x) =>
        MultiplyAdd.Of(Tanh(x * new Vector<float>(0.5f)), new Vector<float>(0.5f), new Vector<float>(0.5f));
}
