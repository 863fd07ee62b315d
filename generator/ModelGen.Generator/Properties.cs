using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("ModelGen.Generator.Tests")]
