using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generator.Diagnostics;
using Xunit.Abstractions;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Valid declarations cut after every token and inside every name and number, and mutated token by token
/// (deleted, repeated, inserted, replaced, swapped for a word of the same family, names in another case, numbers
/// changed, classes declared again in another file), as an editor shows them while the user types. Whatever the
/// text, the generator does not throw, no analyzer throws, and no compiler error is located in a generated file.
/// Seeded: every run checks the same variants.
/// </summary>
public class GeneratorFuzzTests(ITestOutputHelper output)
{
    /// <summary>Any fixed seed: a failure found once is found again, on every machine.</summary>
    private const int Seed = 5_06_09;

    /// <summary>About two thousand variants in all: a generating one costs some 60 ms of compile and analysis.</summary>
    private const int Mutations = 1400;

    /// <summary>Declarations that generate and compile, covering the cells, the options and the places a model may be.</summary>
    private static readonly string[] Valid =
    [
        "namespace Demo.Forecasting;\n[ModelGen.LstmModel(InputSize = 8, HiddenSize = 32, NumLayers = 2, ProjSize = 4, OutputSize = 4)]\npublic partial class Forecaster;",
        "namespace Demo.Text\n{\n    [ModelGen.GruModel(InputSize = 16, HiddenSize = 24, NumLayers = 3, Bidirectional = true)]\n    internal sealed partial class Tagger { }\n}",
        "using ModelGen;\nnamespace A;\npublic partial class Outer\n{\n    public partial struct Middle\n    {\n        [RnnModel(InputSize = 5, HiddenSize = 7, Bias = false, Nonlinearity = RnnNonlinearity.Relu, OutputSize = 1)]\n        private partial class Inner;\n    }\n}",
        "namespace A;\n[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, OutputSize = 1)]\npublic partial record Model(int Tag);",
        "namespace A;\npublic partial class Outer<T> where T : class\n{\n    [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)]\n    public partial class M;\n}",
        "namespace A.B;\npublic partial interface IOuter<TValue>\n{\n    [ModelGen.RnnModel(InputSize = 2, HiddenSize = 3, Bidirectional = true, OutputSize = 2)]\n    public partial class M;\n}",
        "public class Base { public int Extra => 1; }\n[ModelGen.RnnModel(InputSize = 3, HiddenSize = 4, NumLayers = 10, Bias = false)]\npublic partial class Deep : Base { public void Forward(int steps) { } }",
        "namespace @if.@class;\npublic partial record struct @record\n{\n    [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, Bidirectional = true, ProjSize = 2)]\n    public partial class @event;\n}",
        "namespace Demo;\n[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]\npublic partial class Model;\n[ModelGen.GruModel(InputSize = 2, HiddenSize = 3, OutputSize = 1)]\npublic partial class Other;\nstatic class Use\n{\n    static void Run(Model m, Other o) { m.Forward(new float[6], 1, new float[9]); o.PredictLast(new float[4], 2, new float[2]); }\n}",
        "namespace Demo;\n[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]\npublic partial class Split;\npublic partial class Split { public int Extra => 1; }",
        "namespace Demo;\nstatic class Sizes { public const int Hidden = 16; }\n[ModelGen.GruModel(InputSize = 4, HiddenSize = Sizes.Hidden * 2, Bias = false)]\npublic partial class Sized;",
        "namespace Demo\n{\n    namespace Inner\n    {\n        public partial class Host\n        {\n            [ModelGen.LstmModel(InputSize = 1, HiddenSize = 2, NumLayers = 1, Bias = true, Bidirectional = false, ProjSize = 1, OutputSize = 1)]\n            internal partial class Full { }\n        }\n    }\n}",
    ];

    /// <summary>Tokens to insert or to replace others with: punctuation, keywords and the attribute's words.</summary>
    private static readonly string[] Vocabulary =
    [
        "(", ")", "{", "}", "[", "]", "<", ">", ",", ";", ".", "=", ":", "@", "?", "=>", "//", "/*", "\"", "\n#if X\n", "\n#endif\n",
        "partial", "class", "record", "struct", "interface", "static", "file", "public", "private", "abstract", "sealed",
        "namespace", "where", "new", "in", "out", "T", "U", "using", "global::", "ModelGen", "LstmModel", "GruModel", "RnnModel",
        "InputSize", "HiddenSize", "NumLayers", "ProjSize", "OutputSize", "Bias", "Bidirectional", "Nonlinearity",
        "true", "false", "0", "-1", "1", "2", "1024", "1025", "2147483647", "ModelSpec", "Forward", "Parameters", "Outer", "M",
    ];

    /// <summary>Words that stand in for one another: a mutation swaps a word for another of its family.</summary>
    private static readonly string[][] Families =
    [
        ["class", "struct", "record", "interface"],
        ["public", "private", "internal", "protected", "file"],
        ["static", "sealed", "abstract", "readonly", "unsafe", "partial"],
        ["in", "out"],
        ["true", "false"],
        ["LstmModel", "GruModel", "RnnModel"],
        ["InputSize", "HiddenSize", "NumLayers", "ProjSize", "OutputSize", "Nonlinearity"],
    ];

    private static readonly string[] Numbers = ["0", "1", "2", "3", "-1", "7", "1023", "1024", "1025", "65536", "2147483647", "0x10"];

    [Fact]
    public void Valid_declarations_generate_and_compile()
    {
        // The variants start from these, so they must be right.
        foreach (string source in Valid)
        {
            (GeneratorRunResult result, Compilation compilation) = GeneratorHarness.Run(source);
            Assert.NotEmpty(result.GeneratedSources);
            Assert.Empty(GeneratorHarness.Problems(compilation));
        }
    }

    [Fact]
    public void Truncated_and_mutated_declarations_never_break_the_generator_or_the_analyzers()
    {
        List<string[]> variants = Variants();
        var clock = Stopwatch.StartNew();
        var failures = new ConcurrentBag<string>();
        int generated = 0;
        Parallel.ForEach(variants, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, sources =>
        {
            (string? failure, int files) = Check(sources);
            Interlocked.Add(ref generated, files);
            if (failure is not null) failures.Add(failure + "\n--- source ---\n" + string.Join("\n--- next file ---\n", sources));
        });
        output.WriteLine($"{variants.Count} variants, {generated} generated files, {clock.Elapsed.TotalSeconds:F1} s");

        // Some variants must still generate, or the checks below would have nothing to look at.
        Assert.True(generated > variants.Count / 10, $"only {generated} files were generated");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {variants.Count} variants failed; the first:\n\n"
            + string.Join("\n\n", failures.Order(StringComparer.Ordinal).Take(3)));
    }

    /// <summary>What is wrong with the generator's or the analyzers' handling of the sources, and how many files it generated.</summary>
    private static (string? Failure, int Files) Check(string[] sources)
    {
        (GeneratorRunResult result, Compilation compilation, ImmutableArray<Diagnostic> driverDiagnostics) =
            GeneratorHarness.RunWithDriverDiagnostics(GeneratorHarness.Compilation(sources));
        int files = result.GeneratedSources.Length;
        if (result.Exception is not null) return ("the generator threw " + result.Exception, files);
        if (driverDiagnostics.FirstOrDefault(d => d.Id is "CS8784" or "CS8785") is { } failed) return (failed.ToString(), files);

        var exceptions = new ConcurrentQueue<Exception>();
        var analysis = compilation.WithAnalyzers([new ModelDeclarationAnalyzer(), new TensorShapeAnalyzer()],
            new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), (exception, _, _) => exceptions.Enqueue(exception),
                concurrentAnalysis: false, logAnalyzerExecutionTime: false));
        // The compiler's diagnostics and the analyzers' from one pass over the code.
        ImmutableArray<Diagnostic> diagnostics = analysis.GetAllDiagnosticsAsync().GetAwaiter().GetResult();
        if (exceptions.TryPeek(out Exception? thrown)) return ("an analyzer threw " + thrown, files);
        if (diagnostics.FirstOrDefault(d => d.Id == "AD0001") is { } crash) return (crash.ToString(), files);
        if (diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error && GeneratorHarness.IsGenerated(d.Location)) is { } error)
        {
            return ("error in generated code: " + error + "\n--- " + error.Location.SourceTree!.FilePath + " ---\n"
                + error.Location.SourceTree.GetText(), files);
        }
        return (null, files);
    }

    /// <summary>
    /// The prefixes of every valid declaration that end after a token or inside a name or number being typed (a
    /// prefix that ends in whitespace parses as the one before it), then seeded mutations; each distinct variant once.
    /// </summary>
    private static List<string[]> Variants()
    {
        var variants = new List<string[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(params string[] sources)
        {
            if (seen.Add(string.Join("\0", sources))) variants.Add(sources);
        }
        foreach (string source in Valid)
        {
            Add("");
            foreach (SyntaxToken token in SyntaxFactory.ParseTokens(source))
            {
                if (token.Span.Length > 1 && token.Kind() is SyntaxKind.IdentifierToken or SyntaxKind.NumericLiteralToken)
                {
                    Add(source.Substring(0, token.SpanStart + (token.Span.Length / 2)));
                }
                Add(source.Substring(0, token.Span.End));
            }
        }
        var random = new Random(Seed);
        for (int i = 0; i < Mutations; i++)
        {
            string source = Valid[random.Next(Valid.Length)];
            int edits = 1 + random.Next(3);
            for (int edit = 0; edit < edits; edit++) source = Mutate(source, random);
            // Some variants get a second file: the same declarations, or their names in another case.
            switch (random.Next(5))
            {
                case 0: Add(source, source); break;
                case 1: Add(source, FlipNames(source, random)); break;
                default: Add(source); break;
            }
        }
        return variants;
    }

    /// <summary>One token of the source deleted, repeated, inserted, replaced, swapped within its family, or its case or value changed.</summary>
    private static string Mutate(string source, Random random)
    {
        SyntaxToken[] tokens = [.. SyntaxFactory.ParseTokens(source).Where(t => !t.IsKind(SyntaxKind.EndOfFileToken))];
        if (tokens.Length == 0) return source;
        SyntaxToken token = tokens[random.Next(tokens.Length)];
        string text = token.Text, before = source.Substring(0, token.SpanStart), after = source.Substring(token.Span.End);
        string word = Vocabulary[random.Next(Vocabulary.Length)];
        string[]? family = Families.FirstOrDefault(f => f.Contains(text));
        return random.Next(7) switch
        {
            0 => before + after,
            1 => before + text + " " + text + after,
            2 => before + word + " " + text + after,
            3 => before + word + after,
            4 when token.IsKind(SyntaxKind.IdentifierToken) => before + FlipCase(text, random) + after,
            4 or 5 when token.IsKind(SyntaxKind.NumericLiteralToken) => before + Numbers[random.Next(Numbers.Length)] + after,
            5 or 6 when family is not null => before + family[random.Next(family.Length)] + after,
            _ => before + FlipCase(text, random) + after,
        };
    }

    /// <summary>The source with its identifiers in another case (not the attribute's, which must still bind).</summary>
    private static string FlipNames(string source, Random random)
    {
        SyntaxToken[] tokens = [.. SyntaxFactory.ParseTokens(source)];
        var text = new StringBuilder();
        for (int i = 0; i < tokens.Length; i++)
        {
            SyntaxToken token = tokens[i];
            bool attributeWord = token.Text is "ModelGen" or "LstmModel" or "GruModel" or "RnnModel" or "RnnNonlinearity" or "Relu"
                || (i + 1 < tokens.Length && tokens[i + 1].IsKind(SyntaxKind.EqualsToken));
            text.Append(token.LeadingTrivia.ToFullString())
                .Append(token.IsKind(SyntaxKind.IdentifierToken) && !attributeWord && random.Next(2) == 0
                    ? FlipCase(token.Text, random)
                    : token.Text)
                .Append(token.TrailingTrivia.ToFullString());
        }
        return text.ToString();
    }

    /// <summary>The first letter's case swapped, or every letter's.</summary>
    private static string FlipCase(string text, Random random)
    {
        static char Swap(char c) => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c);
        int first = text.TakeWhile(c => !char.IsLetter(c)).Count();
        if (first == text.Length) return text;
        return random.Next(2) == 0
            ? text.Substring(0, first) + Swap(text[first]) + text.Substring(first + 1)
            : new string([.. text.Select(Swap)]);
    }
}
