using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ModelGen.Benchmarks;

/// <summary>T: the time steps one call of every benchmark in the class processes.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class TimeStepsAttribute(int steps) : Attribute
{
    /// <summary>T.</summary>
    public int Steps { get; } = steps;
}

/// <summary>Mean (and median) divided by the class's <see cref="TimeStepsAttribute"/>: ns per time step.</summary>
public sealed class NsPerStepColumn(bool median) : IColumn
{
    /// <inheritdoc/>
    public string Id => nameof(NsPerStepColumn) + (median ? ".Median" : ".Mean");

    /// <inheritdoc/>
    public string ColumnName => median ? "Median/step" : "ns/step";

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => median ? 1 : 0;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => median
        ? "Median divided by T, the time steps one call processes (ns)"
        : "Mean divided by T, the time steps one call processes (ns)";

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        int? steps = benchmarkCase.Descriptor.Type.GetCustomAttribute<TimeStepsAttribute>()?.Steps;
        if (statistics is null || steps is null) return "NA";
        double nanoseconds = median ? statistics.Median : statistics.Mean;
        return (nanoseconds / steps.Value).ToString("N1", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
