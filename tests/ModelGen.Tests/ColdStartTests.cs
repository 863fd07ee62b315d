using System.Reflection;
using System.Runtime.CompilerServices;
using ModelGen.Kernels;

namespace ModelGen.Tests;

/// <summary>
/// The kernels a training step or a forward spends its time in are compiled with full optimisation on their first
/// call. Under tiered compilation a method with loops otherwise starts as unoptimised tier-0 code (calls for every
/// vector operation) and is recompiled only after enough calls, which made the first epoch of a small model several
/// times slower than the next ones. So every method of these kernels is either
/// <see cref="MethodImplOptions.AggressiveOptimization"/> or <see cref="MethodImplOptions.AggressiveInlining"/> (and
/// then inlined into one that is); only the out-of-line throw helpers (<see cref="MethodImplOptions.NoInlining"/>)
/// are neither. The first-epoch speed itself is measured by the benchmarks' cold-start command.
/// </summary>
public class ColdStartTests
{
    private const MethodImplAttributes CompiledOptimised = MethodImplAttributes.AggressiveOptimization | MethodImplAttributes.AggressiveInlining;

    public static TheoryData<string> KernelTypes => new()
    {
        typeof(RowProduct).FullName!,
        typeof(Backprop).FullName!,
        typeof(Subnormals).FullName!,
        typeof(RecurrentLayer<,,>).FullName!,
        typeof(RecurrentLayerBackward<,,>).FullName!,
        typeof(LstmCell).FullName!,
        typeof(GruCell).FullName!,
        typeof(RnnCell).FullName!,
        typeof(Activations).FullName!,
        typeof(MultiplyAdd).FullName!,
    };

    [Theory]
    [MemberData(nameof(KernelTypes))]
    public void Every_method_of_a_kernel_is_compiled_optimised_on_its_first_call(string typeName)
    {
        Type type = typeof(RowProduct).Assembly.GetType(typeName, throwOnError: true)!;
        string[] tiered = [.. Methods(type).Where(m => !IsCompiledOptimised(m)).Select(m => m.Name)];
        Assert.True(tiered.Length == 0, $"{type.Name}: {string.Join(", ", tiered)} would start as tier-0 code.");
    }

    [Fact]
    public void The_module_and_optimiser_kernels_of_a_training_step_are_compiled_optimised_on_their_first_call()
    {
        // The modules' per-call work; their set-up (Pack, Initialize, checks, lengths) runs once and may tier.
        (Type Type, string[] Names)[] kernels =
        [
            (typeof(LinearKernel<>), ["Forward", "Backward", "AddCombination"]),
            (typeof(RecurrentKernel<>), ["Forward", "StreamingForward", "SequenceForward", "Backward"]),
            (typeof(ActivationKernel<>), ["Forward", "Backward"]),
            (typeof(AttentionKernel<>), ["ProjectKeys", "Forward", "Backward", "Dot", "TanhOfSum", "AdditiveScoreBackward", "AddScaled"]),
            (typeof(DropoutKernel), ["Forward", "Backward"]),
            (typeof(EmbeddingKernel<>), ["Forward", "Backward"]),
            (typeof(LayerNormKernel<>), ["Forward", "Normalize", "Sum", "SumSquaredDeviations", "Backward"]),
            (typeof(ReduceKernel), ["Last", "LastBackward", "Mean", "Divide", "MeanBackward", "Max", "MaxBackward", "FinalHidden", "FinalHiddenBackward"]),
            (typeof(Adam), ["Update"]),
            (typeof(Losses), ["Pointwise"]),
        ];
        var tiered = new List<string>();
        foreach ((Type type, string[] names) in kernels)
        {
            foreach (string name in names)
            {
                MethodInfo[] methods = [.. Methods(type).Where(m => m.Name == name)];
                Assert.True(methods.Length > 0, $"{type.Name} has no method {name}: the list above is out of date.");
                tiered.AddRange(methods.Where(m => !IsCompiledOptimised(m)).Select(m => $"{type.Name}.{name}"));
            }
        }
        Assert.True(tiered.Count == 0, $"{string.Join(", ", tiered)} would start as tier-0 code.");
    }

    private static IEnumerable<MethodInfo> Methods(Type type) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && !m.IsAbstract && !IsCompilerGenerated(m) && !IsInterfaceBridge(m));

    private static bool IsCompiledOptimised(MethodInfo method)
    {
        MethodImplAttributes flags = method.MethodImplementationFlags;
        return (flags & CompiledOptimised) != 0 || ((flags & MethodImplAttributes.NoInlining) != 0 && method.Name.StartsWith("Throw", StringComparison.Ordinal));
    }

    private static bool IsCompilerGenerated(MethodInfo method) => method.IsDefined(typeof(CompilerGeneratedAttribute));

    // The one-call forwarder C# emits where an implementation's `in` parameter differs from the interface's in its
    // modifiers (ICell.Backward): it has no attributes of its own and is inlined into its optimised caller.
    private static bool IsInterfaceBridge(MethodInfo method) => method.Name.Contains('.', StringComparison.Ordinal);
}
