using System.Runtime.InteropServices;

namespace ModelGen.Benchmarks;

/// <summary>
/// The optional RTNeural peer: RTNeural's compile-time <c>ModelT</c> (Eigen backend, <c>-O3 -march=native</c>) in
/// librt_eigen_native.so, built by rtneural/build.sh from rtneural/rt_bench.cpp and copied beside the program by
/// the build. RTNeural is not part of the repository; without the library its benchmarks are not run.
/// </summary>
public static unsafe class RtNeuralPeer
{
    /// <summary>The library's file name.</summary>
    public const string FileName = "librt_eigen_native.so";

    /// <summary>What to do when the library is missing.</summary>
    public const string HowToBuild =
        "RTNeural peer not built: its benchmarks are not run. Build it with tests/ModelGen.Benchmarks/rtneural/build.sh " +
        "(or RTNEURAL_ROOT=<RTNeural checkout> .../build.sh), then dotnet build tests/ModelGen.Benchmarks -c Release.";

    private static readonly Lazy<nint> s_library = new(() => NativeLibrary.Load(Path!));

    /// <summary>Where the library is: $RTNEURAL_LIB, else beside the program; null when neither exists.</summary>
    public static string? Path
    {
        get
        {
            string? path = Environment.GetEnvironmentVariable("RTNEURAL_LIB");
            if (string.IsNullOrEmpty(path)) path = System.IO.Path.Combine(AppContext.BaseDirectory, FileName);
            return File.Exists(path) ? path : null;
        }
    }

    /// <summary>Whether the library is there.</summary>
    public static bool IsAvailable => Path is not null;

    private static T Export<T>(string name) where T : unmanaged
    {
        if (!IsAvailable) throw new InvalidOperationException(HowToBuild);
        nint address = NativeLibrary.GetExport(s_library.Value, name);
        return *(T*)&address;
    }

    /// <summary>
    /// A one-layer LSTM or GRU (I = H, no head), or bench_small's LSTM 8→32 + Dense 32→4, holding the model's
    /// parameters, over a ring of inputs <c>[rows, I]</c>.
    /// </summary>
    public static RtModel Create(IRecurrentModel model, float[] ring)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ring);
        int kind = (model.Cell, model.OutputSize) switch
        {
            (CellKind.Lstm, 0) => 0,
            (CellKind.Gru, 0) => 1,
            (CellKind.Lstm, 4) when model.InputSize == 8 && model.HiddenSize == 32 => 2,
            _ => throw new NotSupportedException("rt_bench.cpp builds LSTM/GRU N→N and LSTM 8→32 + Dense 32→4 only."),
        };
        LayerWeights w = Weights.Layer(model, 0);
        (float[]? headWeight, float[]? headBias) = Weights.Head(model);
        headWeight ??= [0f];
        headBias ??= [0f];
        var create = Export<nint>("rt_create");
        nint handle;
        fixed (float* a = w.Wih, b = w.Whh, c = w.Bih, d = w.Bhh, e = headWeight, f = headBias)
        {
            handle = ((delegate* unmanaged<int, int, float*, float*, float*, float*, float*, float*, nint>)create)(kind, model.HiddenSize, a, b, c, d, e, f);
        }
        if (handle == 0) throw new InvalidOperationException($"{FileName} has no model for {model.Cell} {model.InputSize}→{model.HiddenSize}.");
        return new RtModel(handle, model.InputSize, ring);
    }

    /// <summary>One RTNeural model and its ring of inputs.</summary>
    public sealed class RtModel : IDisposable
    {
        private readonly delegate* unmanaged<nint, void> _reset = (delegate* unmanaged<nint, void>)Export<nint>("rt_reset");
        private readonly delegate* unmanaged<nint, float*, float*, void> _step = (delegate* unmanaged<nint, float*, float*, void>)Export<nint>("rt_step");
        private readonly delegate* unmanaged<nint, long, double> _run = (delegate* unmanaged<nint, long, double>)Export<nint>("rt_run");
        private readonly delegate* unmanaged<nint, void> _destroy = (delegate* unmanaged<nint, void>)Export<nint>("rt_destroy");
        private readonly nint _handle;
        private readonly int _inputSize;
        private readonly float[] _ring;

        internal RtModel(nint handle, int inputSize, float[] ring)
        {
            _handle = handle;
            _inputSize = inputSize;
            _ring = ring;
            var setRing = (delegate* unmanaged<nint, float*, int, void>)Export<nint>("rt_set_ring");
            fixed (float* p = ring) setRing(handle, p, ring.Length / inputSize);
        }

        /// <summary><c>model.reset()</c>: zero state; the ring restarts.</summary>
        public void Reset() => _reset(_handle);

        /// <summary><paramref name="steps"/> <c>model.forward</c> calls over the ring, in one native call; returns a checksum.</summary>
        public double Run(long steps) => _run(_handle, steps);

        /// <summary>From a reset state, <paramref name="steps"/> steps' outputs (of <paramref name="outputs"/> floats each); resets again after.</summary>
        public float[] Trace(int steps, int outputs)
        {
            Reset();
            var trace = new float[steps * outputs];
            int rows = _ring.Length / _inputSize;
            fixed (float* x = _ring, y = trace)
            {
                for (int t = 0; t < steps; t++) _step(_handle, x + t % rows * _inputSize, y + t * outputs);
            }
            Reset();
            return trace;
        }

        /// <inheritdoc/>
        public void Dispose() => _destroy(_handle);
    }
}
