using System.Runtime.Intrinsics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;
using ModelGen.Benchmarks;

// dotnet run -c Release --project tests/ModelGen.Benchmarks -- [--aot] [--vector512] <BenchmarkDotNet options>
//   --anyCategories step stepPredict sequence train subnormal graph linear peak   picks tables (docs/benchmarks.md); --filter '*StepLstm32*' one class
//   --aot        adds NativeAOT jobs (default instruction set, and x86-64-v3) beside the JIT job; ModelGen benchmarks only
//   --vector512  adds a JIT job with DOTNET_MaxVectorTBitWidth=512 beside the default one; ModelGen benchmarks only
// dotnet run -c Release --project tests/ModelGen.Benchmarks -- --cold-start   first vs third training epoch, fresh processes
if (args.Contains(ColdStart.Command)) return ColdStart.Run(args);

List<string> options = [.. args];
bool aot = options.Remove("--aot"), vector512 = options.Remove("--vector512");
IConfig config = Jobs.Config(options, aot, vector512);
if (!RtNeuralPeer.IsAvailable)
{
    Console.WriteLine("// " + RtNeuralPeer.HowToBuild);
    config = config.AddFilter(new SimpleFilter(b => !b.Descriptor.Categories.Contains("rtneural")));
}
if (!Vector512.IsHardwareAccelerated)
{
    config = config.AddFilter(new SimpleFilter(b => !b.Descriptor.Categories.Contains("avx512")));
}
BenchmarkSwitcher.FromAssembly(typeof(BenchSmall).Assembly).Run([.. options], config);
return 0;
