namespace ModelGen;

/// <summary>
/// How <see cref="IRecurrentModel.LoadSafetensors(Stream, LoadOptions)"/> matches a file's tensors to the model's
/// parameters: PyTorch's <c>strict</c>, and a <see cref="KeyMap"/> from the file's keys to the model's names.
/// </summary>
/// <example>
/// A PyTorch module whose attributes are called <c>lstm</c> and <c>fc</c>:
/// <code>
/// LoadResult result = model.LoadSafetensors("model.safetensors", new LoadOptions
/// {
///     Rename = { ["lstm."] = "rnn.", ["fc."] = "head." },
/// });
/// </code>
/// </example>
/// <remarks>Thread safety: immutable once built (its <see cref="Rename"/> map aside); loads on several threads may share it.</remarks>
public sealed class LoadOptions
{
    /// <summary>
    /// PyTorch's <c>strict</c> (default true). When true, every tensor of the model must be in the file, and the
    /// file may not hold a tensor under the model's modules (<c>rnn.</c>, <c>head.</c>) that the model does not have
    /// (a layer, a direction, a projection, biases or a head more than the model); a ModelGen configuration in the
    /// file's <c>__metadata__</c> must equal the model's. Unlike PyTorch, tensors outside the model's modules
    /// (<c>input</c>, <c>optimizer.step</c>, …) are not an error: they are ignored and listed in
    /// <see cref="LoadResult.UnexpectedKeys"/>. When false, the tensors of the model that the file holds are loaded,
    /// the others keep their values, and only a file saved from another cell or non-linearity is refused.
    /// Either way, a tensor that is loaded must be F32 with exactly the model's shape.
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>
    /// The model's name for each of the file's keys (default: the key itself): prefix renames such as
    /// <c>Rename = { ["lstm."] = "rnn." }</c>, or a function, <c>Rename = KeyMap.From(key =&gt; …)</c>.
    /// </summary>
    public KeyMap Rename { get; init; } = new();
}

/// <summary>
/// The model's name for each key of a file: prefix renames (the longest matching prefix wins; a key that matches
/// none keeps its name), or a function. A key mapped to null is skipped: it is neither loaded nor reported as
/// unexpected.
/// </summary>
/// <remarks>
/// Names are compared with ordinal (case-sensitive) comparison. A prefix normally ends at a module boundary
/// (<c>"lstm."</c>, not <c>"lstm"</c>); <c>""</c> matches every key, so <c>[""] = "rnn."</c> loads the
/// <c>state_dict</c> of a bare <c>nn.LSTM</c> (<c>weight_ih_l0</c>, …), and <c>["module."] = ""</c> strips the
/// prefix that <c>nn.DataParallel</c> adds.
/// <para>Thread safety: adding rules is not thread-safe; once built, any number of loads may read the map at once.</para>
/// </remarks>
public sealed class KeyMap
{
    private readonly List<KeyValuePair<string, string?>> _prefixes = [];
    private readonly Func<string, string?>? _function;

    /// <summary>A map with no rules: every key keeps its name until prefix rules are added.</summary>
    public KeyMap()
    {
    }

    private KeyMap(Func<string, string?> function) => _function = function;

    /// <summary>
    /// A map that asks <paramref name="map"/> for the model's name of each of the file's keys; it returns null to
    /// skip the key. A map made this way takes no prefix rules.
    /// </summary>
    public static KeyMap From(Func<string, string?> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return new KeyMap(map);
    }

    /// <summary>
    /// The rule for keys that start with <paramref name="prefix"/>: the prefix is replaced by the value, or the
    /// keys are skipped when the value is null. Setting a prefix again replaces its rule.
    /// </summary>
    /// <exception cref="KeyNotFoundException">(get) There is no rule for that prefix.</exception>
    /// <exception cref="InvalidOperationException">(set) The map was made by <see cref="From"/>.</exception>
    public string? this[string prefix]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(prefix);
            foreach (KeyValuePair<string, string?> rule in _prefixes)
            {
                if (rule.Key == prefix) return rule.Value;
            }
            throw new KeyNotFoundException($"The KeyMap has no rule for the prefix '{prefix}'.");
        }
        set
        {
            ArgumentNullException.ThrowIfNull(prefix);
            if (_function is not null)
            {
                throw new InvalidOperationException("A KeyMap made by KeyMap.From takes no prefix rules: rename in the function.");
            }
            int index = _prefixes.FindIndex(rule => rule.Key == prefix);
            if (index >= 0) _prefixes[index] = new(prefix, value);
            else _prefixes.Add(new(prefix, value));
        }
    }

    /// <summary>The prefix rules, in the order they were added (empty for a map made by <see cref="From"/>).</summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Prefixes => _prefixes;

    /// <summary>Whether every key keeps its name: no rules and no function.</summary>
    public bool IsIdentity => _function is null && _prefixes.Count == 0;

    /// <summary>The model's name for a key of the file, or null when the key is skipped.</summary>
    public string? Map(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_function is not null) return _function(key);
        int best = -1;
        for (int i = 0; i < _prefixes.Count; i++)
        {
            string prefix = _prefixes[i].Key;
            if (key.StartsWith(prefix, StringComparison.Ordinal) && (best < 0 || prefix.Length > _prefixes[best].Key.Length)) best = i;
        }
        if (best < 0) return key;
        (string from, string? to) = (_prefixes[best].Key, _prefixes[best].Value);
        return to is null ? null : string.Concat(to, key.AsSpan(from.Length));
    }

    /// <summary>The rules as C# writes them, e.g. <c>{ ["lstm."] = "rnn.", ["fc."] = "head." }</c>.</summary>
    public override string ToString() =>
        _function is not null ? "KeyMap.From(function)"
        : _prefixes.Count == 0 ? "{ }"
        : "{ " + string.Join(", ", _prefixes.Select(rule => $"[\"{rule.Key}\"] = " + (rule.Value is null ? "null" : $"\"{rule.Value}\""))) + " }";
}
