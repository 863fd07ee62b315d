using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using ModelGen.Benchmarks;

// dotnet run -c Release --project tests/ModelGen.Benchmarks -- --filter '*'
//   --filter '*BenchSmall*' (or *BenchMedium*, *BenchGru*, *ModelGen_*, *OnnxRuntime*) picks benchmarks.
// Without a --job (or -j) argument the "Bench" job below runs: one process, 6 warm-up and 15 measured
// iterations of ≈0.5 s each, long enough for tiered JIT to reach fully optimised code on this 2-core
// machine. Any BenchmarkDotNet option works as well (--job short, --job medium, --exporters json, ...).
IConfig config = DefaultConfig.Instance
    .AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max)
    .AddColumn(new NsPerStepColumn(median: false), new NsPerStepColumn(median: true));
if (!args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal)))
{
    config = config.AddJob(Job.Default.WithId("Bench").WithLaunchCount(1).WithWarmupCount(6).WithIterationCount(15));
}
BenchmarkSwitcher.FromAssembly(typeof(BenchSmall).Assembly).Run(args, config);
