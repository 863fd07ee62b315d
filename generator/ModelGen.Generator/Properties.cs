using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("ModelGen.Generator.Tests")]
[assembly: InternalsVisibleTo("ModelGen.CodeFixes")]
[assembly: InternalsVisibleTo("ModelGen.Analyzers.Tests")]
