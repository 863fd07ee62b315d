using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ModelGen.Benchmarks;

// 7. The core's fused multiply-add peak, the denominator of the "share of the peak" the tables give: twelve
// independent multiply-add chains in registers, no memory traffic (two multiply-add pipes × a latency of 4 cycles
// need at least eight chains in flight). One operation is one multiply-add instruction, so GFLOP/s is
// 2 × lanes / ns. It runs under the JIT job only: it measures the core, not ModelGen.

/// <summary>Multiply-add throughput of one core with 256-bit and 512-bit vectors.</summary>
[BenchmarkCategory("peak")]
public class FusedMultiplyAddPeak
{
    /// <summary>Iterations of the twelve chains per call.</summary>
    private const int Iterations = 1 << 20;

    /// <summary>Multiply-add instructions per call.</summary>
    private const int Instructions = 12 * Iterations;

    private float _seed;

    /// <summary>Refuses to time a multiply-add the core would emulate; sets the chains' start.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (!Fma.IsSupported)
            throw new PlatformNotSupportedException("FusedMultiplyAddPeak: the core (or the job's instruction set) has no fused multiply-add; there is no peak to measure.");
        _seed = 1f;
    }

    /// <summary>One 256-bit (8-float) multiply-add: 16 FLOP.</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    [Flop(lanes: 8)]
    public float Vector256_MultiplyAdd() => Chains<Vector256<float>, Lanes256>(_seed);

    /// <summary>One 512-bit (16-float) multiply-add: 32 FLOP (Program.cs leaves it out where the core has no AVX-512).</summary>
    [Benchmark(OperationsPerInvoke = Instructions)]
    [BenchmarkCategory("avx512")]
    [Flop(lanes: 16)]
    public float Vector512_MultiplyAdd() => Chains<Vector512<float>, Lanes512>(_seed);

    /// <summary>One vector type's multiply-add and broadcast.</summary>
    private interface IVectorOps<TVector>
    {
        static abstract TVector Create(float value);

        static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

        static abstract float Sum(TVector a, TVector b, TVector c);
    }

    private readonly struct Lanes256 : IVectorOps<Vector256<float>>
    {
        public static Vector256<float> Create(float value) => Vector256.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

        public static float Sum(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.Sum(a + b + c);
    }

    private readonly struct Lanes512 : IVectorOps<Vector512<float>>
    {
        public static Vector512<float> Create(float value) => Vector512.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

        public static float Sum(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.Sum(a + b + c);
    }

    /// <summary>Twelve chains a = a·m + c, each dependent only on itself; the sum keeps them from being dropped.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains<TVector, TOps>(float seed) where TOps : IVectorOps<TVector>
    {
        TVector m = TOps.Create(0.999999f), c = TOps.Create(1e-7f);
        TVector a0 = TOps.Create(seed), a1 = TOps.Create(seed + 1), a2 = TOps.Create(seed + 2), a3 = TOps.Create(seed + 3);
        TVector a4 = TOps.Create(seed + 4), a5 = TOps.Create(seed + 5), a6 = TOps.Create(seed + 6), a7 = TOps.Create(seed + 7);
        TVector a8 = TOps.Create(seed + 8), a9 = TOps.Create(seed + 9), a10 = TOps.Create(seed + 10), a11 = TOps.Create(seed + 11);
        for (int i = 0; i < Iterations; i++)
        {
            a0 = TOps.MultiplyAdd(a0, m, c);
            a1 = TOps.MultiplyAdd(a1, m, c);
            a2 = TOps.MultiplyAdd(a2, m, c);
            a3 = TOps.MultiplyAdd(a3, m, c);
            a4 = TOps.MultiplyAdd(a4, m, c);
            a5 = TOps.MultiplyAdd(a5, m, c);
            a6 = TOps.MultiplyAdd(a6, m, c);
            a7 = TOps.MultiplyAdd(a7, m, c);
            a8 = TOps.MultiplyAdd(a8, m, c);
            a9 = TOps.MultiplyAdd(a9, m, c);
            a10 = TOps.MultiplyAdd(a10, m, c);
            a11 = TOps.MultiplyAdd(a11, m, c);
        }
        return TOps.Sum(a0, a5, a11) + TOps.Sum(a1, a2, a3) + TOps.Sum(a4, a6, a7) + TOps.Sum(a8, a9, a10);
    }
}

/// <summary>
/// How fast one core reads a buffer that its L1 data cache holds (16 KiB) and one that only its L2 holds (128 KiB: the
/// weights an LSTM of 64 units reads each step, more than an L1 of 32 or 48 KiB), in 256-bit loads, front to back as
/// a step reads its packed weights. One operation is one pass over the buffer; the GB/s column divides its bytes by
/// the mean.
/// </summary>
[BenchmarkCategory("peak")]
[Config(typeof(Columns))]
public unsafe class CacheReadBandwidth
{
    /// <summary>Passes per call.</summary>
    private const int Passes = 256;

    private float* _buffer;

    /// <summary>The buffer's size.</summary>
    [Params(16, 128)]
    public int KiB { get; set; }

    private int Floats => KiB * 1024 / sizeof(float);

    /// <summary>A 64-byte aligned buffer of ones.</summary>
    [GlobalSetup]
    public void Allocate()
    {
        _buffer = (float*)NativeMemory.AlignedAlloc((nuint)(KiB * 1024), 64);
        new Span<float>(_buffer, Floats).Fill(1f);
    }

    /// <summary>One pass: eight independent sums of 256-bit loads (two loads and two adds per cycle keep pace).</summary>
    [Benchmark(OperationsPerInvoke = Passes)]
    public float Read()
    {
        float* p = _buffer;
        int n = Floats;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int pass = 0; pass < Passes; pass++)
        {
            for (int i = 0; i < n; i += 64)
            {
                s0 += Vector256.LoadAligned(p + i);
                s1 += Vector256.LoadAligned(p + i + 8);
                s2 += Vector256.LoadAligned(p + i + 16);
                s3 += Vector256.LoadAligned(p + i + 24);
                s4 += Vector256.LoadAligned(p + i + 32);
                s5 += Vector256.LoadAligned(p + i + 40);
                s6 += Vector256.LoadAligned(p + i + 48);
                s7 += Vector256.LoadAligned(p + i + 56);
            }
        }
        return Vector256.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7);
    }

    /// <summary>Frees the buffer.</summary>
    [GlobalCleanup]
    public void Free()
    {
        NativeMemory.AlignedFree(_buffer);
        _buffer = null;
    }

    /// <summary>The GB/s column of this class.</summary>
    private sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(new BandwidthColumn());
    }

    /// <summary>GB/s: the buffer's bytes (its KiB parameter) divided by the mean of one pass.</summary>
    private sealed class BandwidthColumn() : RowColumn("Bandwidth", "GB/s", "Bytes of one pass over the buffer / mean (bytes per ns = GB/s)", 4)
    {
        protected override string Format => "N1";

        protected override double? Value(Summary summary, BenchmarkCase benchmarkCase)
        {
            double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
            return benchmarkCase.Parameters[nameof(KiB)] is int kib && mean is > 0 ? kib * 1024.0 / mean : null;
        }
    }
}
