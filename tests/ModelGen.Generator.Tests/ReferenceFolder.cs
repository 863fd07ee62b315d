namespace ModelGen.Generator.Tests;

/// <summary>A folder of reference files for a data-driven harness: the in-repo copy, or the one an environment variable names.</summary>
internal static class ReferenceFolder
{
    /// <summary>The folder <paramref name="variable"/> names, else <paramref name="copied"/> beside the test assembly.</summary>
    public static string Resolve(string variable, string copied) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } custom
            ? Path.GetFullPath(custom)
            : Path.Combine(AppContext.BaseDirectory, copied);

    /// <summary>The names of the folder's safetensors files, in ordinal order: one test case each.</summary>
    public static TheoryData<string> Files(string folder)
    {
        var names = new TheoryData<string>();
        foreach (string path in Directory.EnumerateFiles(folder, "*.safetensors").Order(StringComparer.Ordinal))
        {
            names.Add(Path.GetFileName(path));
        }
        return names;
    }
}
