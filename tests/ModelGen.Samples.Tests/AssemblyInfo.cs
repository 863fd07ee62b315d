// The tests build the samples through the dotnet CLI, and every sample builds src/ModelGen and the generator:
// two builds at once would write the same obj/ and bin/ files. One test at a time, across all classes.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
