using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Every model gets a file name of its own. The compiler compares hint names case-insensitively, and a generator
/// that adds a name twice throws (CS8785), which takes the code of every model in the project with it.
/// </summary>
public class HintNameTests
{
    private const string Lstm = "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]";
    private const string Gru = "[ModelGen.GruModel(InputSize = 2, HiddenSize = 3, OutputSize = 1)]";

    /// <summary>Two models whose full names differ only in case, or only in being in a namespace or a type.</summary>
    public static TheoryData<string, bool> CollidingModels() => new()
    {
        // Names that differ only in case, in one namespace.
        { $"namespace Demo; {Lstm} public partial class Model; {Gru} public partial class model;", true },
        // Namespaces that differ only in case.
        { $"namespace Demo {{ {Lstm} public partial class Model; }} namespace demo {{ {Gru} public partial class Model; }}", true },
        // Containing types that differ only in case.
        { $"namespace Demo; public partial class Outer {{ {Lstm} public partial class M; }} public partial class outer {{ {Gru} public partial class M; }}", true },
        // Generic containing types that differ only in case.
        { $"namespace Demo; public partial class Outer<T> {{ {Lstm} public partial class M; }} public partial class outer<T> {{ {Gru} public partial class M; }}", true },
        // A.B.M in namespace A.B and in type A.B: the compiler rejects the pair (CS0101), the generator must not throw.
        { $"namespace A.B {{ {Lstm} public partial class M; }} namespace A {{ public partial class B {{ {Gru} public partial class M; }} }}", false },
    };

    [Theory]
    [MemberData(nameof(CollidingModels))]
    public void Models_whose_file_names_would_collide_each_get_their_own(string source, bool compiles)
    {
        (GeneratorRunResult result, Compilation output, ImmutableArray<Diagnostic> driverDiagnostics) =
            GeneratorHarness.RunWithDriverDiagnostics(GeneratorHarness.Compilation(source));

        Assert.Null(result.Exception);
        Assert.DoesNotContain(driverDiagnostics, d => d.Id is "CS8784" or "CS8785");
        Assert.Equal(2, result.GeneratedSources.Length);
        Assert.Equal(2, result.GeneratedSources.Select(s => s.HintName).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        if (compiles) Assert.Empty(GeneratorHarness.Problems(output));
    }

    [Fact]
    public void Hint_name_is_the_metadata_name_and_a_hash_of_it()
    {
        // Pinned: the name must be the same in every process and on every platform, or build outputs churn.
        (GeneratorRunResult result, _) = GeneratorHarness.Run(
            $"namespace Demo.Nested; public partial class Outer<T> {{ {Gru} public partial class Gru; }}");
        Assert.Equal("Demo.Nested.Outer`1.Gru.ee33ba2e.g.cs", Assert.Single(result.GeneratedSources).HintName);
    }

    [Fact]
    public void Hint_name_does_not_depend_on_other_models()
    {
        string alone = HintNameOf($"namespace Demo; {Lstm} public partial class Model;");
        string beside = HintNameOf($"namespace Demo; {Lstm} public partial class Model; {Gru} public partial class model;");
        Assert.Equal(alone, beside);

        static string HintNameOf(string source) =>
            GeneratorHarness.Run(source).Result.GeneratedSources.Single(s => s.SourceText.ToString().Contains(" on Demo.Model.")).HintName;
    }
}
