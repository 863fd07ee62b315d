using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// The gate math of one cell for one batch row and one time step. The driver
/// (<see cref="RecurrentLayer"/>) has already computed both projections of the step, gate-major in PyTorch's
/// order: <c>xg = W_ih x + b_ih</c> and <c>hg = W_hh h + b_hh</c>, each <c>[G*H]</c>.
/// </summary>
internal interface ICell
{
    /// <summary>Gates per unit (rows of W_ih per hidden feature).</summary>
    static abstract int GateCount { get; }

    /// <summary>
    /// Updates <paramref name="h"/> <c>[H]</c> (and <paramref name="c"/> <c>[H]</c> for LSTM) in place from the
    /// gate pre-activations. On entry <paramref name="h"/> holds the previous h where the cell reads it (GRU).
    /// </summary>
    static abstract void Step(ref float xg, ref float hg, ref float h, ref float c, int hidden, bool relu);
}

/// <summary>LSTM: i, f, g, o.</summary>
internal readonly struct LstmCell : ICell
{
    public static int GateCount => 4;

    /// <summary>
    /// <c>i = σ(xi + hi)</c>, <c>f = σ(xf + hf)</c>, <c>g = tanh(xg + hg)</c>, <c>o = σ(xo + ho)</c>,
    /// <c>c' = f ⊙ c + i ⊙ g</c>, <c>h' = o ⊙ tanh(c')</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(ref float xg, ref float hg, ref float h, ref float c, int hidden, bool relu)
    {
        int f = hidden, g = 2 * hidden, o = 3 * hidden;
        int j = 0;
        for (; j <= hidden - Vector<float>.Count; j += Vector<float>.Count)
        {
            Vector<float> i = Activations.Sigmoid(Mem.Load(ref xg, j) + Mem.Load(ref hg, j));
            Vector<float> fg = Activations.Sigmoid(Mem.Load(ref xg, f + j) + Mem.Load(ref hg, f + j));
            Vector<float> gg = Activations.Tanh(Mem.Load(ref xg, g + j) + Mem.Load(ref hg, g + j));
            Vector<float> og = Activations.Sigmoid(Mem.Load(ref xg, o + j) + Mem.Load(ref hg, o + j));
            Vector<float> cNew = Vector.FusedMultiplyAdd(fg, Mem.Load(ref c, j), i * gg);
            cNew.StoreUnsafe(ref c, (nuint)j);
            (og * Activations.Tanh(cNew)).StoreUnsafe(ref h, (nuint)j);
        }
        for (; j < hidden; j++)
        {
            float i = Activations.Sigmoid(Mem.At(ref xg, j) + Mem.At(ref hg, j));
            float fg = Activations.Sigmoid(Mem.At(ref xg, f + j) + Mem.At(ref hg, f + j));
            float gg = Activations.Tanh(Mem.At(ref xg, g + j) + Mem.At(ref hg, g + j));
            float og = Activations.Sigmoid(Mem.At(ref xg, o + j) + Mem.At(ref hg, o + j));
            float cNew = MathF.FusedMultiplyAdd(fg, Mem.At(ref c, j), i * gg);
            Mem.At(ref c, j) = cNew;
            Mem.At(ref h, j) = og * Activations.Tanh(cNew);
        }
    }
}

/// <summary>GRU: r, z, n, with <c>b_hn</c> inside the reset product as in PyTorch.</summary>
internal readonly struct GruCell : ICell
{
    public static int GateCount => 3;

    /// <summary>
    /// <c>r = σ(xr + hr)</c>, <c>z = σ(xz + hz)</c>, <c>n = tanh(xn + r ⊙ hn)</c> (hn = W_hn h + b_hn),
    /// <c>h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(ref float xg, ref float hg, ref float h, ref float c, int hidden, bool relu)
    {
        int z = hidden, n = 2 * hidden;
        int j = 0;
        for (; j <= hidden - Vector<float>.Count; j += Vector<float>.Count)
        {
            Vector<float> r = Activations.Sigmoid(Mem.Load(ref xg, j) + Mem.Load(ref hg, j));
            Vector<float> zg = Activations.Sigmoid(Mem.Load(ref xg, z + j) + Mem.Load(ref hg, z + j));
            Vector<float> ng = Activations.Tanh(Vector.FusedMultiplyAdd(r, Mem.Load(ref hg, n + j), Mem.Load(ref xg, n + j)));
            Vector.FusedMultiplyAdd(zg, Mem.Load(ref h, j) - ng, ng).StoreUnsafe(ref h, (nuint)j);
        }
        for (; j < hidden; j++)
        {
            float r = Activations.Sigmoid(Mem.At(ref xg, j) + Mem.At(ref hg, j));
            float zg = Activations.Sigmoid(Mem.At(ref xg, z + j) + Mem.At(ref hg, z + j));
            float ng = Activations.Tanh(MathF.FusedMultiplyAdd(r, Mem.At(ref hg, n + j), Mem.At(ref xg, n + j)));
            Mem.At(ref h, j) = MathF.FusedMultiplyAdd(zg, Mem.At(ref h, j) - ng, ng);
        }
    }
}

/// <summary>Elman RNN: <c>h' = tanh(xg + hg)</c> or <c>relu(xg + hg)</c>.</summary>
internal readonly struct RnnCell : ICell
{
    public static int GateCount => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(ref float xg, ref float hg, ref float h, ref float c, int hidden, bool relu)
    {
        int j = 0;
        for (; j <= hidden - Vector<float>.Count; j += Vector<float>.Count)
        {
            Vector<float> pre = Mem.Load(ref xg, j) + Mem.Load(ref hg, j);
            (relu ? Vector.Max(pre, Vector<float>.Zero) : Activations.Tanh(pre)).StoreUnsafe(ref h, (nuint)j);
        }
        for (; j < hidden; j++)
        {
            float pre = Mem.At(ref xg, j) + Mem.At(ref hg, j);
            Mem.At(ref h, j) = relu ? MathF.Max(pre, 0f) : Activations.Tanh(pre);
        }
    }
}

/// <summary>Unchecked element and vector access for kernels whose callers have checked the lengths once.</summary>
internal static class Mem
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(ref float source, int index) => Vector.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref float At(ref float source, int index) => ref Unsafe.Add(ref source, index);
}
