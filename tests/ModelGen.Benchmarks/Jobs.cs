using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.NativeAot;

namespace ModelGen.Benchmarks;

/// <summary>The suite's configuration: its columns and jobs.</summary>
public static class Jobs
{
    /// <summary>
    /// The default job, unless the arguments name one (--job / -j): one process, 5 warm-up and 12 measured iterations
    /// of ≈0.5 s each, long enough for tiered JIT to reach fully optimised code and short enough that the whole
    /// suite runs in about 15 minutes on 2 cores.
    /// </summary>
    public static Job Default { get; } = Job.Default.WithId("JIT").WithLaunchCount(1).WithWarmupCount(5).WithIterationCount(12);

    /// <summary>
    /// The columns (ns/step, ModelGen/this, GFLOP/s, median, min, max) and the jobs: the run length of
    /// <c>--job dry|short|medium|long|default</c> (taken out of <paramref name="args"/>; without it <see cref="Default"/>),
    /// for the JIT job and for every job the switches add.
    /// </summary>
    public static IConfig Config(List<string> args, bool aot, bool vector512)
    {
        ArgumentNullException.ThrowIfNull(args);
        IConfig config = DefaultConfig.Instance
            .AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max)
            .AddColumn(new NsPerStepColumn(median: false), new ModelGenRatioColumn(), new GflopsColumn());
        // BenchmarkDotNet builds each job through a project it generates under bin/, which sets
        // ImportDirectoryBuildTargets=false; turned back on, that project imports Directory.Build.targets beside this
        // file, whose WeakenGlibcxx step fixes the libLibTorchSharp.so copied into the generated project's output.
        // (Set on each job, not through a mutator: a mutator's Arguments would replace the AOT job's own.)
        Job baseJob = TakeRunLength(args).WithArguments([ImportTargets]).WithEnvironmentVariables(KeepFreedMemory);
        // With more than one job, the JIT job is BenchmarkDotNet's baseline: its Ratio column is then AOT / JIT, 512-bit / 256-bit.
        Job jit = baseJob.WithId("JIT");
        config = config.AddJob(aot || vector512 ? jit.AsBaseline() : jit);
        if (aot)
        {
            // NativeAOT publishes of the benchmark program (BenchmarkDotNet's NativeAOT toolchain, the SDK's
            // ILCompiler). BenchmarkDotNet writes IlcInstructionSet=native unless told otherwise; for the "AOT" job
            // the global property /p:IlcInstructionSet= (empty) overrides that, so the compiler's default instruction
            // set is used, as in a plain `dotnet publish -p:PublishAot=true`. "AOT-v3" compiles x86-64-v3 (AVX2, FMA,
            // BMI) in, and "AOT-native" the build machine's instruction sets (AVX-512 where it has them, as the JIT uses).
            config = config
                .AddJob(AotJob(baseJob, "AOT", instructionSet: ""))
                .AddJob(AotJob(baseJob, "AOT-v3", "x86-64-v3"))
                .AddJob(AotJob(baseJob, "AOT-native", "native"));
        }
        if (vector512)
        {
            // Vector<float> of 16 lanes on an AVX-512 CPU (the JIT's default is 256 bits, 8 lanes).
            config = config.AddJob(baseJob.WithId("JIT-512").WithEnvironmentVariable("DOTNET_MaxVectorTBitWidth", "512"));
        }
        if (aot || vector512)
        {
            // TorchSharp, ONNX Runtime and RTNeural do not change with these jobs: only ModelGen's benchmarks run.
            config = config.AddFilter(new SimpleFilter(b => b.Descriptor.Categories.Contains("modelgen")));
        }
        return config;
    }

    private static MsBuildArgument ImportTargets { get; } = new("/p:ImportDirectoryBuildTargets=true");

    /// <summary>A NativeAOT job for <paramref name="instructionSet"/> (empty: the ILCompiler's default).</summary>
    private static Job AotJob(Job baseJob, string id, string instructionSet)
    {
        NativeAotToolchainBuilder toolchain = NativeAotToolchain.CreateBuilder().UseNuGet();
        if (instructionSet.Length > 0) toolchain = toolchain.IlcInstructionSet(instructionSet);
        return baseJob.WithId(id).WithToolchain(toolchain.TargetFrameworkMoniker("net10.0").ToToolchain())
            .WithArguments([ImportTargets, new MsBuildArgument($"/p:IlcInstructionSet={instructionSet}")]);
    }

    /// <summary>
    /// glibc's malloc keeping what a process frees instead of returning each large block to the kernel (as jemalloc or
    /// tcmalloc, which PyTorch deployments often preload, do). Without it libtorch maps, faults in and unmaps its
    /// multi-megabyte activation and gradient buffers on every call: its B = 64 training step takes twice as long.
    /// ModelGen allocates nothing per call, so this changes only the peers.
    /// </summary>
    private static EnvironmentVariable[] KeepFreedMemory { get; } =
    [
        new("MALLOC_MMAP_THRESHOLD_", "2000000000"),
        new("MALLOC_TRIM_THRESHOLD_", "4000000000"),
    ];

    private static Job TakeRunLength(List<string> args)
    {
        int at = args.FindIndex(a => a is "--job" or "-j");
        if (at < 0 || at + 1 >= args.Count) return Default;
        Job job = args[at + 1].ToLowerInvariant() switch
        {
            "dry" => Job.Dry,
            "short" => Job.ShortRun,
            "medium" => Job.MediumRun,
            "long" => Job.LongRun,
            "default" => Job.Default,
            _ => throw new ArgumentException($"--job {args[at + 1]}: this program takes dry, short, medium, long or default."),
        };
        args.RemoveRange(at, 2);
        return job;
    }
}
