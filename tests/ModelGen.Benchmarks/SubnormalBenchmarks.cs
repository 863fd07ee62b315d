using BenchmarkDotNet.Attributes;

namespace ModelGen.Benchmarks;

/// <summary>
/// bench_small's <c>PredictLast</c> with its input, or every weight, scaled by 2⁻¹³⁰ into the subnormal range,
/// against the normal call. The kernels flush subnormals to zero before they reach the arithmetic, so the three
/// should cost the same; without flushing, every multiply with a subnormal operand takes a microcode assist.
/// </summary>
[MemoryDiagnoser]
[TimeSteps(32)]
[BenchmarkCategory("subnormal", "modelgen")]
public class SubnormalBench
{
    private static readonly float Scale = MathF.ScaleB(1f, -130);
    private readonly BenchSmallModel _model = new();
    private readonly BenchSmallModel _subnormalWeights = new();
    private readonly float[] _prediction = new float[BenchSmallModel.OutputSize];
    private float[] _input = [];
    private float[] _subnormalInput = [];

    [GlobalSetup]
    public void Setup()
    {
        var bench = BenchCase.Load("bench_small");
        _model.LoadSafetensors(bench.SafetensorsPath);
        _subnormalWeights.LoadSafetensors(bench.SafetensorsPath);
        foreach (ref float weight in _subnormalWeights.EditParameters()) weight *= Scale;
        _input = bench.Input;
        _subnormalInput = [.. bench.Input.Select(x => x * Scale)];
        if (!_subnormalInput.Any(float.IsSubnormal)) throw new InvalidOperationException("The scaled input holds no subnormal.");
        _model.PredictLast(_input, 1, _prediction);
        bench.Check("ModelGen PredictLast", _prediction);
    }

    /// <summary>The bench input and weights.</summary>
    [Benchmark(Baseline = true)]
    public void Normal() => _model.PredictLast(_input, 1, _prediction);

    /// <summary>Every input value scaled into the subnormal range.</summary>
    [Benchmark]
    public void SubnormalInput() => _model.PredictLast(_subnormalInput, 1, _prediction);

    /// <summary>Every weight and bias scaled into the subnormal range.</summary>
    [Benchmark]
    public void SubnormalWeights() => _subnormalWeights.PredictLast(_input, 1, _prediction);
}
