using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Kernels;

/// <summary>Whether a forward pass records what backward needs: a constant after specialisation.</summary>
public interface ICacheMode
{
    /// <summary>Whether records are written.</summary>
    static abstract bool Enabled { get; }
}

/// <summary>Inference: nothing is recorded.</summary>
public readonly struct NoCache : ICacheMode
{
    /// <inheritdoc/>
    public static bool Enabled => false;
}

/// <summary>Training: every module records what its backward reads (a recurrent cell: its gate activations and cell values).</summary>
public readonly struct RecordCache : ICacheMode
{
    /// <inheritdoc/>
    public static bool Enabled => true;
}

/// <summary>
/// The gate math of one cell for one batch row and one time step, forward and backward.
/// </summary>
/// <remarks>
/// <para>Forward: the driver (<see cref="RecurrentLayer{TSpec, TCell, TInput}"/>) has already computed both
/// projections of the step, gate-packed (see <see cref="Packed"/>): <c>xg = W_ih x + b_ih</c> and
/// <c>hg = W_hh h + b_hh</c>, with gate g of the V units of block u at <c>(u·G + g)·V</c>. h and c hold V units
/// per block. When training, the cell records its gate activations gate-major (gate g of unit j at
/// <c>g·Hp + j</c>, Hp = H rounded up to whole vectors) and one cell value per unit (LSTM: c; GRU: the hidden
/// part of n, <c>W_hn h + b_hn</c>).</para>
/// <para>Backward: from those records and dL/dh of the step, the cell returns the gradients of the gate
/// pre-activations on the input side (<c>dzx</c>, multiplying W_ih and b_ih) and on the hidden side
/// (<c>dzh</c>, multiplying W_hh and b_hh; equal to dzx except for GRU's n gate), and the part of dL/dh_prev that
/// does not go through W_hh. All spans are gate-major and padded to Hp.</para>
/// <para>The h and c a cell stores are flushed of subnormals (<see cref="Subnormals"/>), so that the next step's
/// arithmetic never takes a subnormal operand.</para>
/// </remarks>
internal interface ICell
{
    /// <summary>Gates per unit (rows of W_ih per hidden feature).</summary>
    static abstract int GateCount { get; }

    /// <summary>
    /// Updates <paramref name="h"/> (and <paramref name="c"/> for LSTM) in place from the gate
    /// pre-activations, for <paramref name="blocks"/> blocks of V units. On entry <paramref name="h"/> holds the
    /// previous h where the cell reads it (GRU).
    /// </summary>
    static abstract void Step<TCache>(ref float xg, ref float hg, ref float h, ref float c, int blocks, bool relu,
        ref float gateCache, ref float cellCache) where TCache : struct, ICacheMode;

    /// <summary>One step of backpropagation through the cell; see the type's remarks.</summary>
    static abstract void Backward(in CellBackward step);
}

/// <summary>The records and gradients of one cell step in backward; every span gate-major or unit-major, padded to Hp.</summary>
internal ref struct CellBackward
{
    public int Padded;                       // Hp
    public bool Relu;
    public ReadOnlySpan<float> Gates;        // [G*Hp] activations of this step
    public ReadOnlySpan<float> Cell;         // [Hp] LSTM: c_t; GRU: W_hn h_prev + b_hn
    public ReadOnlySpan<float> CellPrevious; // [Hp] LSTM: c_{t-1}; empty for the others
    public ReadOnlySpan<float> HPrevious;    // [Hp] GRU: h_{t-1}; empty for the others
    public ReadOnlySpan<float> DH;           // [Hp] dL/dh_t (the cell's own h, before any projection)
    public Span<float> DC;                   // [Hp] LSTM: in dL/dc_t from the step after, out dL/dc_{t-1}
    public Span<float> DZInput;              // [G*Hp] out
    public Span<float> DZHidden;             // [G*Hp] out, GRU; empty for LSTM and RNN, whose dzh is dzx
    public Span<float> DHPreviousDirect;     // [Houtp] out: dL/dh_{t-1} not through W_hh (GRU: z ⊙ dh; others zero)
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
    public static void Step<TCache>(ref float xg, ref float hg, ref float h, ref float c, int blocks, bool relu,
        ref float gateCache, ref float cellCache) where TCache : struct, ICacheMode
    {
        int v = Vector<float>.Count, padded = blocks * v, u = 0;
        // From 2 blocks on: a pair's five 512-bit activations are half the instructions of two blocks' ten (an LSTM 16
        // step measured 9% faster). blocks is a constant where sizes are (the streaming step), so a one-block cell never
        // imports the pair path (nor a target without 512-bit vectors: the intrinsic first, see IsWider).
        if (Vector512.IsHardwareAccelerated && Vector512Lanes.IsWider && 2 * v == Vector512<float>.Count && blocks >= 2)
        {
            for (; u + 2 <= blocks; u += 2) StepTwoBlocks<TCache>(ref xg, ref hg, ref h, ref c, u, padded, ref gateCache, ref cellCache);
        }
        for (; u < blocks; u++)
        {
            int gates = u * 4 * v, units = u * v;
            Vector<float> i = Activations.Sigmoid(Mem.Load(ref xg, gates) + Mem.Load(ref hg, gates));
            Vector<float> f = Activations.Sigmoid(Mem.Load(ref xg, gates + v) + Mem.Load(ref hg, gates + v));
            Vector<float> g = Activations.Tanh(Mem.Load(ref xg, gates + 2 * v) + Mem.Load(ref hg, gates + 2 * v));
            Vector<float> o = Activations.Sigmoid(Mem.Load(ref xg, gates + 3 * v) + Mem.Load(ref hg, gates + 3 * v));
            Vector<float> cNew = Subnormals.Flush(MultiplyAdd.Of(f, Mem.Load(ref c, units), i * g));
            cNew.StoreUnsafe(ref c, (nuint)units);
            Subnormals.Flush(o * Activations.Tanh(cNew)).StoreUnsafe(ref h, (nuint)units);
            if (TCache.Enabled)
            {
                i.StoreUnsafe(ref gateCache, (nuint)units);
                f.StoreUnsafe(ref gateCache, (nuint)(padded + units));
                g.StoreUnsafe(ref gateCache, (nuint)(2 * padded + units));
                o.StoreUnsafe(ref gateCache, (nuint)(3 * padded + units));
                cNew.StoreUnsafe(ref cellCache, (nuint)units);
            }
        }
    }

    /// <summary>
    /// <see cref="Step"/> for blocks u and u + 1 with 8-float <see cref="Vector{T}"/>, the activations in 512-bit
    /// registers: a block's gates <c>[i f g o]</c> are two of them, <c>[i f]</c> all sigmoid and <c>[g o]</c> tanh then
    /// sigmoid (its o half scaled by ½ on the way in, as <see cref="Activations.Sigmoid(Vector{float})"/> does), and the
    /// two blocks' new c share one tanh: 5 activations for 16 units where 8-float vectors take 10. Every lane runs
    /// the operations of the 8-float path: the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepTwoBlocks<TCache>(ref float xg, ref float hg, ref float h, ref float c, int u, int padded,
        ref float gateCache, ref float cellCache) where TCache : struct, ICacheMode
    {
        const int v = 8;
        int gates = u * 4 * v, units = u * v;
        Vector512<float> half = Vector512.Create(0.5f);
        // 1 in the g half, ½ in the o half.
        Vector512<float> oHalf = Vector512.Create(Vector256<float>.One, Vector256.Create(0.5f));
        Vector512<float> sigmoidIf0 = Activations.Sigmoid<Vector512<float>, Vector512Lanes>(Sum(ref xg, ref hg, gates));
        Vector512<float> sigmoidIf1 = Activations.Sigmoid<Vector512<float>, Vector512Lanes>(Sum(ref xg, ref hg, gates + 4 * v));
        Vector512<float> tanhGo0 = Activations.Tanh<Vector512<float>, Vector512Lanes>(Sum(ref xg, ref hg, gates + 2 * v) * oHalf);
        Vector512<float> tanhGo1 = Activations.Tanh<Vector512<float>, Vector512Lanes>(Sum(ref xg, ref hg, gates + 6 * v) * oHalf);
        Vector256<float> i0 = sigmoidIf0.GetLower(), f0 = sigmoidIf0.GetUpper(), g0 = tanhGo0.GetLower();
        Vector256<float> i1 = sigmoidIf1.GetLower(), f1 = sigmoidIf1.GetUpper(), g1 = tanhGo1.GetLower();
        Vector256<float> o0 = Vector512Lanes.MultiplyAdd(tanhGo0, half, half).GetUpper();
        Vector256<float> o1 = Vector512Lanes.MultiplyAdd(tanhGo1, half, half).GetUpper();
        Vector<float> cNew0 = Subnormals.Flush(MultiplyAdd.Of(f0.AsVector(), Mem.Load(ref c, units), (i0 * g0).AsVector()));
        Vector<float> cNew1 = Subnormals.Flush(MultiplyAdd.Of(f1.AsVector(), Mem.Load(ref c, units + v), (i1 * g1).AsVector()));
        cNew0.StoreUnsafe(ref c, (nuint)units);
        cNew1.StoreUnsafe(ref c, (nuint)(units + v));
        Vector512<float> tanhC = Activations.Tanh<Vector512<float>, Vector512Lanes>(Vector512.Create(cNew0.AsVector256(), cNew1.AsVector256()));
        Subnormals.Flush((o0 * tanhC.GetLower()).AsVector()).StoreUnsafe(ref h, (nuint)units);
        Subnormals.Flush((o1 * tanhC.GetUpper()).AsVector()).StoreUnsafe(ref h, (nuint)(units + v));
        if (TCache.Enabled)
        {
            i0.StoreUnsafe(ref gateCache, (nuint)units); i1.StoreUnsafe(ref gateCache, (nuint)(units + v));
            f0.StoreUnsafe(ref gateCache, (nuint)(padded + units)); f1.StoreUnsafe(ref gateCache, (nuint)(padded + units + v));
            g0.StoreUnsafe(ref gateCache, (nuint)(2 * padded + units)); g1.StoreUnsafe(ref gateCache, (nuint)(2 * padded + units + v));
            o0.StoreUnsafe(ref gateCache, (nuint)(3 * padded + units)); o1.StoreUnsafe(ref gateCache, (nuint)(3 * padded + units + v));
            cNew0.StoreUnsafe(ref cellCache, (nuint)units); cNew1.StoreUnsafe(ref cellCache, (nuint)(units + v));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sum(ref float xg, ref float hg, int index) =>
        Vector512.LoadUnsafe(ref xg, (nuint)index) + Vector512.LoadUnsafe(ref hg, (nuint)index);

    /// <summary>
    /// <c>dc = dc' + dh ⊙ o ⊙ (1 − tanh²c')</c>; <c>dzi = dc ⊙ g ⊙ i(1−i)</c>, <c>dzf = dc ⊙ c ⊙ f(1−f)</c>,
    /// <c>dzg = dc ⊙ i ⊙ (1−g²)</c>, <c>dzo = dh ⊙ tanh c' ⊙ o(1−o)</c>; dL/dc_{t-1} = dc ⊙ f.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(in CellBackward s)
    {
        int p = s.Padded;
        ReadOnlySpan<Vector<float>> i = Mem.Vectors(s.Gates[..p]), f = Mem.Vectors(s.Gates.Slice(p, p)),
            g = Mem.Vectors(s.Gates.Slice(2 * p, p)), o = Mem.Vectors(s.Gates.Slice(3 * p, p));
        ReadOnlySpan<Vector<float>> c = Mem.Vectors(s.Cell), cPrev = Mem.Vectors(s.CellPrevious), dh = Mem.Vectors(s.DH);
        Span<Vector<float>> dc = Mem.Vectors(s.DC), dz = Mem.Vectors(s.DZInput);
        int blocks = p / Vector<float>.Count;
        for (int u = 0; u < blocks; u++)
        {
            Vector<float> tanhC = Activations.Tanh(c[u]);
            Vector<float> dcTotal = dc[u] + dh[u] * o[u] * (Vector<float>.One - tanhC * tanhC);
            dz[u] = dcTotal * g[u] * i[u] * (Vector<float>.One - i[u]);
            dz[blocks + u] = dcTotal * cPrev[u] * f[u] * (Vector<float>.One - f[u]);
            dz[2 * blocks + u] = dcTotal * i[u] * (Vector<float>.One - g[u] * g[u]);
            dz[3 * blocks + u] = dh[u] * tanhC * o[u] * (Vector<float>.One - o[u]);
            dc[u] = dcTotal * f[u];
        }
        s.DHPreviousDirect.Clear();
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
    public static void Step<TCache>(ref float xg, ref float hg, ref float h, ref float c, int blocks, bool relu,
        ref float gateCache, ref float cellCache) where TCache : struct, ICacheMode
    {
        int v = Vector<float>.Count, padded = blocks * v, u = 0;
        // From 3 blocks on, as LstmCell's pair from 2: two blocks' three 512-bit activations where 8-float vectors take
        // six (GRU 32 and 64 steps 2-3% faster; at 2 blocks, GRU 16, the six narrow ones in two chains were 5% faster).
        if (Vector512.IsHardwareAccelerated && Vector512Lanes.IsWider && 2 * v == Vector512<float>.Count && blocks >= 3)
        {
            for (; u + 2 <= blocks; u += 2) StepTwoBlocks<TCache>(ref xg, ref hg, ref h, u, padded, ref gateCache, ref cellCache);
        }
        for (; u < blocks; u++)
        {
            int gates = u * 3 * v, units = u * v;
            Vector<float> r = Activations.Sigmoid(Mem.Load(ref xg, gates) + Mem.Load(ref hg, gates));
            Vector<float> z = Activations.Sigmoid(Mem.Load(ref xg, gates + v) + Mem.Load(ref hg, gates + v));
            Vector<float> hn = Mem.Load(ref hg, gates + 2 * v);
            Vector<float> n = Activations.Tanh(MultiplyAdd.Of(r, hn, Mem.Load(ref xg, gates + 2 * v)));
            Subnormals.Flush(MultiplyAdd.Of(z, Mem.Load(ref h, units) - n, n)).StoreUnsafe(ref h, (nuint)units);
            if (TCache.Enabled)
            {
                r.StoreUnsafe(ref gateCache, (nuint)units);
                z.StoreUnsafe(ref gateCache, (nuint)(padded + units));
                n.StoreUnsafe(ref gateCache, (nuint)(2 * padded + units));
                hn.StoreUnsafe(ref cellCache, (nuint)units);
            }
        }
    }

    /// <summary>
    /// <see cref="Step"/> for blocks u and u + 1 with 8-float <see cref="Vector{T}"/>, the activations in 512-bit
    /// registers: a block's <c>[r z]</c> is one of them, all sigmoid, and the two blocks' n share one tanh. Every lane
    /// runs the operations of the 8-float path: the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepTwoBlocks<TCache>(ref float xg, ref float hg, ref float h, int u, int padded,
        ref float gateCache, ref float cellCache) where TCache : struct, ICacheMode
    {
        const int v = 8;
        int gates = u * 3 * v, units = u * v;
        Vector512<float> rz0 = Activations.Sigmoid<Vector512<float>, Vector512Lanes>(
            Vector512.LoadUnsafe(ref xg, (nuint)gates) + Vector512.LoadUnsafe(ref hg, (nuint)gates));
        Vector512<float> rz1 = Activations.Sigmoid<Vector512<float>, Vector512Lanes>(
            Vector512.LoadUnsafe(ref xg, (nuint)(gates + 3 * v)) + Vector512.LoadUnsafe(ref hg, (nuint)(gates + 3 * v)));
        Vector<float> r0 = rz0.GetLower().AsVector(), z0 = rz0.GetUpper().AsVector();
        Vector<float> r1 = rz1.GetLower().AsVector(), z1 = rz1.GetUpper().AsVector();
        Vector<float> hn0 = Mem.Load(ref hg, gates + 2 * v), hn1 = Mem.Load(ref hg, gates + 5 * v);
        Vector512<float> n = Activations.Tanh<Vector512<float>, Vector512Lanes>(Vector512.Create(
            MultiplyAdd.Of(r0, hn0, Mem.Load(ref xg, gates + 2 * v)).AsVector256(),
            MultiplyAdd.Of(r1, hn1, Mem.Load(ref xg, gates + 5 * v)).AsVector256()));
        Vector<float> n0 = n.GetLower().AsVector(), n1 = n.GetUpper().AsVector();
        Subnormals.Flush(MultiplyAdd.Of(z0, Mem.Load(ref h, units) - n0, n0)).StoreUnsafe(ref h, (nuint)units);
        Subnormals.Flush(MultiplyAdd.Of(z1, Mem.Load(ref h, units + v) - n1, n1)).StoreUnsafe(ref h, (nuint)(units + v));
        if (TCache.Enabled)
        {
            r0.StoreUnsafe(ref gateCache, (nuint)units); r1.StoreUnsafe(ref gateCache, (nuint)(units + v));
            z0.StoreUnsafe(ref gateCache, (nuint)(padded + units)); z1.StoreUnsafe(ref gateCache, (nuint)(padded + units + v));
            n0.StoreUnsafe(ref gateCache, (nuint)(2 * padded + units)); n1.StoreUnsafe(ref gateCache, (nuint)(2 * padded + units + v));
            hn0.StoreUnsafe(ref cellCache, (nuint)units); hn1.StoreUnsafe(ref cellCache, (nuint)(units + v));
        }
    }

    /// <summary>
    /// <c>dn = dh ⊙ (1−z)</c>, <c>dzn = dn ⊙ (1−n²)</c>, <c>dzr = dzn ⊙ hn ⊙ r(1−r)</c>,
    /// <c>dzz = dh ⊙ (h − n) ⊙ z(1−z)</c>; the hidden side of n is <c>dzn ⊙ r</c>; dh_{t-1} gets <c>dh ⊙ z</c> directly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(in CellBackward s)
    {
        int p = s.Padded;
        ReadOnlySpan<Vector<float>> r = Mem.Vectors(s.Gates[..p]), z = Mem.Vectors(s.Gates.Slice(p, p)),
            n = Mem.Vectors(s.Gates.Slice(2 * p, p));
        ReadOnlySpan<Vector<float>> hn = Mem.Vectors(s.Cell), hPrev = Mem.Vectors(s.HPrevious), dh = Mem.Vectors(s.DH);
        Span<Vector<float>> dzx = Mem.Vectors(s.DZInput), dzh = Mem.Vectors(s.DZHidden),
            direct = Mem.Vectors(s.DHPreviousDirect);
        int blocks = p / Vector<float>.Count;
        for (int u = 0; u < blocks; u++)
        {
            Vector<float> dzn = dh[u] * (Vector<float>.One - z[u]) * (Vector<float>.One - n[u] * n[u]);
            Vector<float> dzr = dzn * hn[u] * r[u] * (Vector<float>.One - r[u]);
            Vector<float> dzz = dh[u] * (hPrev[u] - n[u]) * z[u] * (Vector<float>.One - z[u]);
            dzx[u] = dzh[u] = dzr;
            dzx[blocks + u] = dzh[blocks + u] = dzz;
            dzx[2 * blocks + u] = dzn;
            dzh[2 * blocks + u] = dzn * r[u];
            direct[u] = dh[u] * z[u];
        }
    }
}

/// <summary>Elman RNN: <c>h' = tanh(xg + hg)</c> or <c>relu(xg + hg)</c>.</summary>
internal readonly struct RnnCell : ICell
{
    public static int GateCount => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step<TCache>(ref float xg, ref float hg, ref float h, ref float c, int blocks, bool relu,
        ref float gateCache, ref float cellCache) where TCache : struct, ICacheMode
    {
        int v = Vector<float>.Count;
        for (int u = 0; u < blocks; u++)
        {
            Vector<float> pre = Mem.Load(ref xg, u * v) + Mem.Load(ref hg, u * v);
            Vector<float> hNew = Subnormals.Flush(relu ? Vector.Max(pre, Vector<float>.Zero) : Activations.Tanh(pre));
            hNew.StoreUnsafe(ref h, (nuint)(u * v));
            if (TCache.Enabled) hNew.StoreUnsafe(ref gateCache, (nuint)(u * v));
        }
    }

    /// <summary><c>dz = dh ⊙ (1 − h'²)</c> for tanh, <c>dh ⊙ [h' &gt; 0]</c> for ReLU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(in CellBackward s)
    {
        ReadOnlySpan<Vector<float>> h = Mem.Vectors(s.Gates[..s.Padded]), dh = Mem.Vectors(s.DH);
        Span<Vector<float>> dz = Mem.Vectors(s.DZInput);
        for (int u = 0; u < dz.Length; u++)
        {
            dz[u] = s.Relu
                ? Vector.ConditionalSelect(Vector.GreaterThan(h[u], Vector<float>.Zero), dh[u], Vector<float>.Zero)
                : dh[u] * (Vector<float>.One - h[u] * h[u]);
        }
        s.DHPreviousDirect.Clear();
    }
}

/// <summary>Unchecked element and vector access for kernels whose callers have checked the lengths once.</summary>
internal static class Mem
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(ref float source, int index) => Vector.LoadUnsafe(ref source, (nuint)index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref float At(ref float source, int index) => ref Unsafe.Add(ref source, index);

    /// <summary>
    /// Asks the core to bring <paramref name="values"/> into its caches ahead of use (x86; a no-op elsewhere): for
    /// the rows the time loops visit a whole sequence apart, which the hardware prefetchers do not follow.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch(ReadOnlySpan<float> values)
    {
        if (!Sse.IsSupported || values.IsEmpty) return;
        fixed (float* start = values)
        {
            // One touch per 64-byte line.
            for (int i = 0; i < values.Length; i += 16) Sse.Prefetch0(start + i);
            Sse.Prefetch0(start + values.Length - 1);
        }
    }

    /// <summary>A float span seen as vectors (its length a multiple of <see cref="Vector{T}.Count"/>).</summary>
    public static ReadOnlySpan<Vector<float>> Vectors(ReadOnlySpan<float> values) => MemoryMarshal.Cast<float, Vector<float>>(values);

    /// <summary>A float span seen as vectors (its length a multiple of <see cref="Vector{T}.Count"/>).</summary>
    public static Span<Vector<float>> Vectors(Span<float> values) => MemoryMarshal.Cast<float, Vector<float>>(values);
}
