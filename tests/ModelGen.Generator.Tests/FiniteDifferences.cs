using System.Reflection;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The scaffolding of the central-difference gradient checks of generated graphs and encoder–decoders
/// (<see cref="GraphFiniteDifferenceTests"/>, <see cref="Seq2SeqFiniteDifferenceTests"/>): the quotient and bend of
/// one coordinate, the comparison with its kink guards, the choice of coordinates, random data, and the one-pass
/// in-memory compilation. The tolerance argument is <see cref="GraphFiniteDifferenceTests"/>'s.
/// </summary>
internal static class FiniteDifferences
{
    public const double Epsilon = 1e-2;
    public const double AbsoluteTolerance = 2e-3;
    public const double RelativeTolerance = 2e-2;

    /// <summary>
    /// The central quotient (L(x+ε) − L(x−ε)) / (x+ε − (x−ε)), with the step as float32 actually represents it, and
    /// the bend (L(x+ε) − 2·L(x) + L(x−ε)) / ε: about ε·L'' where L is smooth (so it halves with ε), about the
    /// jump of L' where a kink lies between x − ε and x + ε (so it does not).
    /// </summary>
    public static (double Quotient, double Bend) Central(Func<double> loss, Action<float> set, float value, double epsilon, double at)
    {
        float plus = (float)(value + epsilon), minus = (float)(value - epsilon);
        set(plus);
        double lossPlus = loss();
        set(minus);
        double lossMinus = loss();
        set(value);
        double step = ((double)plus - minus) / 2;
        return ((lossPlus - lossMinus) / (2 * step), (lossPlus - 2 * at + lossMinus) / step);
    }

    /// <summary>
    /// Compares one analytic derivative with the central differences of <paramref name="loss"/> in the coordinate
    /// that <paramref name="set"/> writes (currently <paramref name="value"/>), with ε and ε/2: a coordinate whose
    /// quotients depend on ε, or whose bend does not halve with ε (a kink within ε), is counted as checked but not
    /// usable and not compared. Adds a line to <paramref name="mismatches"/> when |fd − analytic| exceeds
    /// <see cref="AbsoluteTolerance"/> + <see cref="RelativeTolerance"/>·|analytic|.
    /// </summary>
    public static void Compare(Func<double> loss, string what, double analytic, float value, Action<float> set,
        GraphFdStatistics statistics, List<string> mismatches)
    {
        double at = loss();
        (double fd, double bend) = Central(loss, set, value, Epsilon, at);
        (double fdHalf, double bendHalf) = Central(loss, set, value, Epsilon / 2, at);
        double tolerance = AbsoluteTolerance + RelativeTolerance * Math.Abs(analytic);
        statistics.Checked++;
        // A kink within ε: the quotients depend on ε, or (a kink much closer than ε, which the central
        // quotients of ε and ε/2 straddle alike) the bend does not halve with the step as a smooth one does.
        if (!(Math.Abs(fd - fdHalf) <= tolerance / 4) || !(Math.Abs(bend - 2 * bendHalf) <= tolerance / 2)) return;
        statistics.Usable++;
        if (Math.Abs(fd) > AbsoluteTolerance) statistics.Significant++;
        double ratio = Math.Abs(fd - analytic) / tolerance;
        statistics.WorstRatio = Math.Max(statistics.WorstRatio, double.IsNaN(ratio) ? double.PositiveInfinity : ratio);
        if (!(ratio <= 1))
        {
            mismatches.Add($"d/d {what}: analytic {analytic:G6}, finite difference {fd:G6} (ε/2: {fdHalf:G6}), tolerance {tolerance:G3}");
        }
    }

    /// <summary>
    /// <paramref name="count"/> distinct parameter indices, never an excluded one: one from every tensor
    /// (in a random order, so that small graphs reach all of theirs), then each from a random tensor, so that a
    /// bias of four floats is checked as often as a weight of sixty (a wrong term in either is as wrong).
    /// </summary>
    public static List<int> ParameterIndices(IReadOnlyList<ParameterInfo> table, HashSet<int> excluded, Random random, int count)
    {
        var chosen = new List<int>();
        List<int[]> pools = [.. table.Select(t => Enumerable.Range(t.Offset, t.Length).Where(i => !excluded.Contains(i)).ToArray()).Where(p => p.Length > 0)];
        foreach (int[] pool in pools.OrderBy(_ => random.Next()))
        {
            if (chosen.Count >= count) break;
            chosen.Add(pool[random.Next(pool.Length)]);
        }
        int total = pools.Sum(p => p.Length);
        while (chosen.Count < Math.Min(count, total))
        {
            int[] pool = pools[random.Next(pools.Count)];
            int index = pool[random.Next(pool.Length)];
            if (!chosen.Contains(index)) chosen.Add(index);
        }
        return chosen;
    }

    /// <summary><c>name[i]</c> of a parameter index.</summary>
    public static string ParameterName(IReadOnlyList<ParameterInfo> table, int index)
    {
        ParameterInfo info = table.Single(p => index >= p.Offset && index < p.Offset + p.Length);
        return $"{info.Name}[{index - info.Offset}]";
    }

    /// <summary>The generated static <c>ParameterTable</c> of a model type.</summary>
    public static IReadOnlyList<ParameterInfo> ParameterTable(Type type) =>
        (IReadOnlyList<ParameterInfo>)type.GetProperty("ParameterTable", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    /// <summary>Values uniform in (−bound, bound).</summary>
    public static float[] Uniform(Random random, int length, float bound)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        return values;
    }

    /// <summary>Per-row lengths in [1, T], at least one below T when T &gt; 1 (else the lengths would change nothing).</summary>
    public static int[] Lengths(Random random, int batch, int steps)
    {
        int[] lengths = [.. Enumerable.Range(0, batch).Select(_ => 1 + random.Next(steps))];
        if (steps > 1 && lengths.All(l => l == steps)) lengths[random.Next(batch)] = 1 + random.Next(steps - 1);
        return lengths;
    }

    /// <summary>
    /// <see cref="GeneratorHarness.CompileAndLoad"/> in one pass: the emit reports every diagnostic of the
    /// compilation, so the separate GetDiagnostics pass (which binds every method a second time) is skipped.
    /// </summary>
    public static Assembly CompileAndLoad(string source)
    {
        (Microsoft.CodeAnalysis.GeneratorRunResult result, Microsoft.CodeAnalysis.Compilation compilation) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult emit = compilation.Emit(image);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Take(10)));
        Assert.Empty(emit.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Warning && GeneratorHarness.IsGenerated(d.Location)));
        var context = new System.Runtime.Loader.AssemblyLoadContext(name: null, isCollectible: true);
        context.Resolving += (_, name) => name.Name == typeof(ISequenceModel).Assembly.GetName().Name ? typeof(ISequenceModel).Assembly : null;
        image.Position = 0;
        return context.LoadFromStream(image);
    }
}
