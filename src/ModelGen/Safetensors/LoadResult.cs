namespace ModelGen;

/// <summary>
/// What a load matched, as PyTorch's <c>load_state_dict</c> returns it: the model's tensors that the file did not
/// hold, and the file's tensors that the model does not have.
/// </summary>
/// <remarks>Thread safety: immutable; any number of threads may read it.</remarks>
public sealed class LoadResult
{
    internal LoadResult(IReadOnlyList<string> loadedKeys, IReadOnlyList<string> missingKeys, IReadOnlyList<string> unexpectedKeys)
    {
        LoadedKeys = loadedKeys;
        MissingKeys = missingKeys;
        UnexpectedKeys = unexpectedKeys;
    }

    /// <summary>The model's names of the tensors that were loaded, in <c>state_dict</c> order.</summary>
    public IReadOnlyList<string> LoadedKeys { get; }

    /// <summary>
    /// The model's names of its tensors that the file does not hold (after renaming), in <c>state_dict</c> order;
    /// they kept their values. Always empty after a strict load.
    /// </summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>
    /// The file's keys (as the file spells them) whose names are not tensors of the model, in the file's data
    /// order; keys that <see cref="LoadOptions.Rename"/> maps to null are skipped, not listed.
    /// </summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Whether the file held exactly the model's tensors: nothing missing, nothing unexpected.</summary>
    public bool AllKeysMatched => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0;

    /// <summary>As PyTorch prints it: <c>&lt;All keys matched successfully&gt;</c>, or the keys that did not match.</summary>
    public override string ToString() =>
        AllKeysMatched
            ? "<All keys matched successfully>"
            : $"missing_keys=[{Quote(MissingKeys)}], unexpected_keys=[{Quote(UnexpectedKeys)}] ({LoadedKeys.Count} loaded)";

    private static string Quote(IEnumerable<string> keys) => string.Join(", ", keys.Select(key => "'" + key + "'"));
}
