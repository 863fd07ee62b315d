using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// Every rule is an error with a description that names its help page (which exists), its release-tracking entry, its
/// README line, and an analyzer that reports it.
/// </summary>
public class DiagnosticCatalogTests
{
    public static TheoryData<string> Ids() => [.. Descriptors().Select(d => d.Id)];

    private static IEnumerable<DiagnosticDescriptor> Descriptors() =>
        typeof(DiagnosticDescriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!);

    [Fact]
    public void Ids_are_MG0001_onwards_without_gaps_and_each_is_supported_by_one_analyzer()
    {
        string[] ids = [.. Descriptors().Select(d => d.Id).Order(StringComparer.Ordinal)];
        Assert.Equal(Enumerable.Range(1, ids.Length).Select(i => $"MG{i:0000}"), ids);
        DiagnosticAnalyzer[] analyzers = [new ModelDeclarationAnalyzer(), new TensorShapeAnalyzer()];
        string[] supported = [.. analyzers.SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).Order(StringComparer.Ordinal)];
        Assert.Equal(ids, supported);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Rule_has_its_page_release_entry_and_readme_line(string id)
    {
        DiagnosticDescriptor descriptor = Descriptors().Single(d => d.Id == id);
        Assert.Equal(DiagnosticSeverity.Error, descriptor.DefaultSeverity);
        Assert.True(descriptor.IsEnabledByDefault);
        // No help link (the project has no public address); the description is one sentence, then names the page.
        Assert.Equal("", descriptor.HelpLinkUri);
        string description = descriptor.Description.ToString(CultureInfo.InvariantCulture);
        string pageReference = $" See {DiagnosticDescriptors.HelpPageFolder}{id}.md.";
        Assert.Equal("docs/diagnostics/", DiagnosticDescriptors.HelpPageFolder);
        Assert.EndsWith(pageReference, description, StringComparison.Ordinal);
        string sentence = description[..^pageReference.Length];
        Assert.True(sentence.Length > 20 && sentence.EndsWith('.')
                && !sentence[..^1].Contains(". ", StringComparison.Ordinal) && !sentence.Contains('\n', StringComparison.Ordinal),
            $"{id}: the description should be one sentence before the page reference, but it is: {description}");
        Assert.Equal(1, description.Split("docs/diagnostics/").Length - 1);

        string pagePath = Path.Combine(Root(), "docs", "diagnostics", id + ".md");
        Assert.True(File.Exists(pagePath), $"{id}: its description names {pagePath}, which does not exist");
        string page = File.ReadAllText(pagePath);
        Assert.StartsWith($"# {id}: {descriptor.Title}\n", page, StringComparison.Ordinal);
        foreach (string section in new[] { "## Cause", "## Example", "## How to fix", "## Code fix" }) Assert.Contains(section, page);

        string unshipped = File.ReadAllText(Path.Combine(Root(), "generator", "ModelGen.Generator", "AnalyzerReleases.Unshipped.md"));
        Assert.Contains($"{id} | ModelGen | Error | {descriptor.Title}", unshipped);

        Assert.Contains($"[{id}](docs/diagnostics/{id}.md)", File.ReadAllText(Path.Combine(Root(), "README.md")));
    }

    private static string Root([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", ".."));
}
