using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ModelGen.Benchmarks;

/// <summary>Marks the ModelGen benchmark of a class that <see cref="ModelGenRatioColumn"/> divides by each row.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class ModelGenReferenceAttribute : Attribute;

/// <summary>
/// The floating-point operations of one benchmark operation (one call, or one step when the benchmark sets
/// OperationsPerInvoke) of a recurrent model: forward = Σ over layers 2·B·T·G·H·(K + H) (G = 4 for LSTM, 3 for GRU;
/// K = I for the first layer, H after) + the head's 2·B·O·H; a training step ≈ 3 × forward. On a method it overrides
/// its class's.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class FlopAttribute(int gates, int batch, int steps, int input, int hidden, int layers, int output, bool training) : Attribute
{
    /// <summary>A Linear module over <paramref name="rows"/> rows: 2·rows·In·Out (the head term alone), × 3 for a training step.</summary>
    public FlopAttribute(int rows, int inFeatures, int outFeatures, bool training = false)
        : this(0, rows, 1, 0, inFeatures, 1, outFeatures, training)
    {
    }

    /// <summary>One fused multiply-add instruction of <paramref name="lanes"/> lanes: 2·lanes.</summary>
    public FlopAttribute(int lanes)
        : this(rows: lanes, inFeatures: 1, outFeatures: 1)
    {
    }

    /// <summary>FLOP per operation.</summary>
    public double Flop { get; } = (training ? 3.0 : 1.0) * (
        2.0 * batch * steps * gates * hidden * (input + hidden)
        + 2.0 * batch * steps * gates * hidden * (hidden + hidden) * (layers - 1)
        + 2.0 * batch * output * hidden);
}

/// <summary>A custom column computed from one row's statistics (and, for the ratio, another row's).</summary>
public abstract class RowColumn(string id, string name, string legend, int priority) : IColumn
{
    /// <inheritdoc/>
    public string Id => id;

    /// <inheritdoc/>
    public string ColumnName => name;

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => priority;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => legend;

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        return Value(summary, benchmarkCase) is double value ? value.ToString(Format, CultureInfo.InvariantCulture) : "-";
    }

    /// <summary>The number format.</summary>
    protected virtual string Format => "N2";

    /// <summary>The value, or null for "-".</summary>
    protected abstract double? Value(Summary summary, BenchmarkCase benchmarkCase);

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

/// <summary>
/// ModelGen / this row: the mean of the class's <see cref="ModelGenReferenceAttribute"/> benchmark (same job, same
/// parameters) divided by this row's mean. Below 1: ModelGen is faster than this peer.
/// </summary>
public sealed class ModelGenRatioColumn() : RowColumn("ModelGenRatio", "ModelGen/this",
    "Mean of the class's ModelGen benchmark (same job) / this row's mean: below 1, ModelGen is faster", 2)
{
    /// <inheritdoc/>
    protected override double? Value(Summary summary, BenchmarkCase benchmarkCase)
    {
        BenchmarkCase? reference = summary.BenchmarksCases.FirstOrDefault(c =>
            c.Descriptor.Type == benchmarkCase.Descriptor.Type
            && c.Descriptor.WorkloadMethod.GetCustomAttribute<ModelGenReferenceAttribute>() is not null
            && c.Job.DisplayInfo == benchmarkCase.Job.DisplayInfo
            && c.Parameters.DisplayInfo == benchmarkCase.Parameters.DisplayInfo);
        double? mine = summary[benchmarkCase]?.ResultStatistics?.Mean;
        double? theirs = reference is null ? null : summary[reference]?.ResultStatistics?.Mean;
        return mine is > 0 && theirs is not null ? theirs / mine : null;
    }
}

/// <summary>GFLOP/s: the method's or else the class's <see cref="FlopAttribute"/> divided by the mean (FLOP per ns = GFLOP/s).</summary>
public sealed class GflopsColumn() : RowColumn("Gflops", "GFLOP/s",
    "FLOP of one operation (forward = Σ layers 2·B·T·G·H·(K+H) + head 2·B·O·H; training step = 3 × forward) / mean", 3)
{
    /// <inheritdoc/>
    protected override string Format => "N1";

    /// <inheritdoc/>
    protected override double? Value(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? flop = (benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<FlopAttribute>()
            ?? benchmarkCase.Descriptor.Type.GetCustomAttribute<FlopAttribute>())?.Flop;
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return flop is null || mean is not > 0 ? null : flop / mean;
    }
}
