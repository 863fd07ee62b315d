using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// The gate math of one cell for one batch row and one time step. The driver
/// (<see cref="RecurrentLayer{TSpec, TCell, TInput}"/>) has already computed both projections of the step,
/// gate-packed (see <see cref="Packed"/>): <c>xg = W_ih x + b_ih</c> and <c>hg = W_hh h + b_hh</c>, with gate g
/// of the V units of block u at <c>(u·G + g)·V</c>. h and c hold V units per block, unit-major.
/// </summary>
internal interface ICell
{
    /// <summary>Gates per unit (rows of W_ih per hidden feature).</summary>
    static abstract int GateCount { get; }

    /// <summary>
    /// Updates <paramref name="h"/> (and <paramref name="c"/> for LSTM) in place from the gate
    /// pre-activations, for <paramref name="blocks"/> blocks of V units. On entry <paramref name="h"/> holds the
    /// previous h where the cell reads it (GRU).
    /// </summary>
    static abstract void Step(ref float xg, ref float hg, ref float h, ref float c, int blocks, bool relu);
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
    public static void Step(ref float xg, ref float hg, ref float h, ref float c, int blocks, bool relu)
    {
        int v = Vector<float>.Count;
        for (int u = 0; u < blocks; u++)
        {
            int gates = u * 4 * v, units = u * v;
            Vector<float> i = Activations.Sigmoid(Mem.Load(ref xg, gates) + Mem.Load(ref hg, gates));
            Vector<float> f = Activations.Sigmoid(Mem.Load(ref xg, gates + v) + Mem.Load(ref hg, gates + v));
            Vector<float> g = Activations.Tanh(Mem.Load(ref xg, gates + 2 * v) + Mem.Load(ref hg, gates + 2 * v));
            Vector<float> o = Activations.Sigmoid(Mem.Load(ref xg, gates + 3 * v) + Mem.Load(ref hg, gates + 3 * v));
            Vector<float> cNew = Vector.FusedMultiplyAdd(f, Mem.Load(ref c, units), i * g);
            cNew.StoreUnsafe(ref c, (nuint)units);
            (o * Activations.Tanh(cNew)).StoreUnsafe(ref h, (nuint)units);
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
    public static void Step(ref float xg, ref float hg, ref float h, ref float c, int blocks, bool relu)
    {
        int v = Vector<float>.Count;
        for (int u = 0; u < blocks; u++)
        {
            int gates = u * 3 * v, units = u * v;
            Vector<float> r = Activations.Sigmoid(Mem.Load(ref xg, gates) + Mem.Load(ref hg, gates));
            Vector<float> z = Activations.Sigmoid(Mem.Load(ref xg, gates + v) + Mem.Load(ref hg, gates + v));
            Vector<float> n = Activations.Tanh(Vector.FusedMultiplyAdd(r, Mem.Load(ref hg, gates + 2 * v), Mem.Load(ref xg, gates + 2 * v)));
            Vector.FusedMultiplyAdd(z, Mem.Load(ref h, units) - n, n).StoreUnsafe(ref h, (nuint)units);
        }
    }
}

/// <summary>Elman RNN: <c>h' = tanh(xg + hg)</c> or <c>relu(xg + hg)</c>.</summary>
internal readonly struct RnnCell : ICell
{
    public static int GateCount => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(ref float xg, ref float hg, ref float h, ref float c, int blocks, bool relu)
    {
        int v = Vector<float>.Count;
        for (int u = 0; u < blocks; u++)
        {
            Vector<float> pre = Mem.Load(ref xg, u * v) + Mem.Load(ref hg, u * v);
            (relu ? Vector.Max(pre, Vector<float>.Zero) : Activations.Tanh(pre)).StoreUnsafe(ref h, (nuint)(u * v));
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
