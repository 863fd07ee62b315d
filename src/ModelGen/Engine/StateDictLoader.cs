using System.Globalization;
using System.Text;

namespace ModelGen;

/// <summary>
/// Matches a safetensors header to a recurrent model's parameter table, as <c>load_state_dict</c> matches a
/// <c>state_dict</c>: renames the file's keys, checks the ModelGen configuration in <c>__metadata__</c>, the
/// names, dtypes and shapes, and decides which tensors to read. Everything is decided from the header, so a file
/// that does not fit is refused before any data is read, with a message that says what the file holds instead.
/// </summary>
internal static class StateDictLoader
{
    /// <summary>Problems listed one by one in a message; the rest are counted.</summary>
    private const int MaxListed = 8;

    /// <summary>The modules of a recurrent model: a file's tensor under one of them that the model lacks is a mismatch.</summary>
    private static readonly string[] Modules = ["rnn.", "head."];

    /// <summary>What to read and where to copy it.</summary>
    public sealed class Plan(List<string> fileKeys, List<(string FileKey, ParameterInfo Parameter)> copies, LoadResult result)
    {
        /// <summary>The file's keys whose data is read.</summary>
        public List<string> FileKeys { get; } = fileKeys;

        /// <summary>Each loaded parameter and the file's key it comes from.</summary>
        public List<(string FileKey, ParameterInfo Parameter)> Copies { get; } = copies;

        public LoadResult Result { get; } = result;
    }

    /// <exception cref="SafetensorsException">The file does not fit the model under these options.</exception>
    public static Plan Match(SafetensorsHeader header, IReadOnlyList<ParameterInfo> table, ModelConfiguration model, LoadOptions options)
    {
        KeyMap map = options.Rename ?? throw new ArgumentException("LoadOptions.Rename must not be null.", nameof(options));
        bool strict = options.Strict;

        ModelConfiguration? saved = ModelConfiguration.Read(header.Metadata);
        if (saved is { } savedConfiguration && (strict ? savedConfiguration != model : savedConfiguration.DiffersInKind(model)))
        {
            throw ConfigurationMismatch(savedConfiguration, model);
        }

        // The file's tensors in data order, by the model's names.
        SafetensorsTensorInfo[] inFileOrder = [.. header.Tensors.Values];
        Array.Sort(inFileOrder, (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : string.CompareOrdinal(a.Name, b.Name));
        var byName = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        var mapped = new List<(SafetensorsTensorInfo Tensor, string Name)>();
        foreach (SafetensorsTensorInfo tensor in inFileOrder)
        {
            string? name = map.Map(tensor.Name);
            if (name is null) continue;
            if (byName.TryGetValue(name, out SafetensorsTensorInfo? earlier))
            {
                throw new SafetensorsException(
                    $"The file's tensors '{earlier.Name}' and '{tensor.Name}' both map to '{name}' under the key map {map}: make the rules tell them apart, or map one to null to skip it. Nothing was read.");
            }
            byName[name] = tensor;
            mapped.Add((tensor, name));
        }

        var parameterNames = new HashSet<string>(table.Select(p => p.Name), StringComparer.Ordinal);
        // What the file says it is (its metadata), else what its tensors say; null when neither tells.
        ModelConfiguration? fileConfiguration = saved ?? Infer(byName);
        var problems = new List<string>();
        var missing = new List<ParameterInfo>();
        var copies = new List<(string, ParameterInfo)>();
        bool shapeProblems = false;
        foreach (ParameterInfo info in table)
        {
            if (!byName.TryGetValue(info.Name, out SafetensorsTensorInfo? tensor))
            {
                missing.Add(info);
                continue;
            }
            string from = tensor.Name == info.Name ? "" : $" (the file's '{tensor.Name}')";
            if (tensor.DType != "F32")
            {
                string convert = tensor.DType is "F16" or "BF16" or "F64" ? " (convert it with .float() before saving, or with docs/tools/export_state_dict.py)" : "";
                problems.Add($"Tensor '{info.Name}'{from} has dtype {tensor.DType}, expected F32{convert}.");
            }
            else if (!tensor.Shape.SequenceEqual(info.Shape.Select(d => (long)d)))
            {
                problems.Add($"Tensor '{info.Name}'{from} has shape {tensor.ShapeText}, expected {info.ShapeText} ({Expected(info.Name, model)}){FileReading(info, tensor.Shape, model, fileConfiguration)}");
                shapeProblems = true;
            }
            else
            {
                copies.Add((tensor.Name, info));
            }
        }

        var unexpected = mapped.Where(m => !parameterNames.Contains(m.Name)).ToList();
        var hints = new List<string>();
        if (strict)
        {
            if (missing.Count > 0) problems.InsertRange(0, MissingProblems(missing, inFileOrder, parameterNames, map, hints));
            int before = problems.Count;
            problems.AddRange(UnexpectedProblems(unexpected.Where(u => InModule(u.Name)).ToList(), byName, model));
            shapeProblems |= problems.Count > before;
        }
        if (problems.Count > 0)
        {
            if (shapeProblems || missing.Count > 0) AddFileConfigurationHint(hints, saved, byName, model);
            if (strict && missing.Count > 0 && hints.Count == 0)
            {
                hints.Add("To load the tensors the file has and keep the others, pass strict: false; the result's MissingKeys lists the rest.");
            }
            throw Fail(model, problems, hints);
        }

        var result = new LoadResult(
            [.. copies.Select(c => c.Item2.Name)],
            [.. missing.Select(m => m.Name)],
            [.. unexpected.Select(u => u.Tensor.Name)]);
        return new Plan([.. copies.Select(c => c.Item1)], copies, result);
    }

    private static bool InModule(string name) => Modules.Any(module => name.StartsWith(module, StringComparison.Ordinal));

    private static SafetensorsException ConfigurationMismatch(ModelConfiguration file, ModelConfiguration model)
    {
        string differences = string.Join("; ", file.Differences(model).Select(key => $"{key} {file.ValueOf(key)} in the file, {model.ValueOf(key)} in the model"));
        string advice = file.DiffersInKind(model)
            ? "Its tensors belong to another cell or non-linearity: declare the model as the file's attribute says."
            : "To load the tensors that fit anyway, pass new LoadOptions { Strict = false }.";
        return new SafetensorsException(
            $"The file was saved from another model: {file.AttributeText} (its __metadata__), but this model is {model.AttributeText}: {differences}. Nothing was read. {advice}");
    }

    private static SafetensorsException Fail(ModelConfiguration model, List<string> problems, List<string> hints)
    {
        var text = new StringBuilder();
        if (problems.Count == 1)
        {
            text.Append(problems[0]);
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"The file does not fit the model {model.AttributeText}: {problems.Count} problems. Nothing was read.");
            foreach (string problem in problems.Take(MaxListed)) text.Append("\n- ").Append(problem);
            if (problems.Count > MaxListed) text.Append(CultureInfo.InvariantCulture, $"\n- … and {problems.Count - MaxListed} more.");
        }
        foreach (string hint in hints) text.Append('\n').Append(hint);
        return new SafetensorsException(text.ToString());
    }

    // ---- Missing tensors: the closest keys, and a prefix rename ----

    /// <summary>One line per missing tensor, with the file's key it most likely is; adds the prefix renames that would find them to <paramref name="hints"/>.</summary>
    private static List<string> MissingProblems(List<ParameterInfo> missing, SafetensorsTensorInfo[] file,
        HashSet<string> parameterNames, KeyMap map, List<string> hints)
    {
        // Suggestions come from the file's keys that were not loaded, as the file spells them.
        string[] candidates = [.. file.Select(t => t.Name).Where(key => map.Map(key) is not { } name || !parameterNames.Contains(name))];

        // Per module (rnn., head.), the prefixes under which the file holds every missing tensor of that module.
        var rules = new List<(string From, string To)>();
        var ambiguous = new List<string>();
        foreach (IGrouping<string, ParameterInfo> module in missing.GroupBy(info => ModuleOf(info.Name)))
        {
            HashSet<string>? common = null;
            foreach (ParameterInfo info in module)
            {
                var prefixes = new HashSet<string>(SuffixPrefixes(info.Name, candidates), StringComparer.Ordinal);
                if (common is null) common = prefixes;
                else common.IntersectWith(prefixes);
                if (common.Count == 0) break;
            }
            common?.Remove(module.Key);
            if (common is null || common.Count == 0) continue;
            if (common.Count == 1) rules.Add((common.Single(), module.Key));
            else ambiguous.Add($"The missing '{module.Key}' tensors are in the file under each of {string.Join(", ", common.Order(StringComparer.Ordinal).Select(p => $"'{p}'"))}: map the one that is the model's to '{module.Key}'.");
        }

        var lines = new List<string>(missing.Count);
        int listed = 0;
        foreach (ParameterInfo info in missing)
        {
            string? guess = null;
            if (listed++ < MaxListed)
            {
                string local = info.Name[ModuleOf(info.Name).Length..];
                (string From, string To) rule = rules.FirstOrDefault(r => r.To == ModuleOf(info.Name));
                guess = rule.From is not null ? rule.From + local : Closest(info.Name, candidates) ?? SuffixPrefixes(info.Name, candidates).Order(StringComparer.Ordinal).Select(p => p + local).FirstOrDefault();
            }
            lines.Add($"Tensor '{info.Name}' {info.ShapeText} is missing from the file" + (guess is null ? "." : $"; did you mean '{guess}'?"));
        }

        if (rules.Count > 0)
        {
            string what = string.Join(" and ", rules.Select(r => r.From.Length == 0 ? $"every key to '{r.To}' + the key" : $"'{r.From}' to '{r.To}'"));
            string code = string.Join(", ", rules.Select(r => $"[\"{r.From}\"] = \"{r.To}\""));
            hints.Add($"The file names the model's tensors with other prefixes: map {what}, with new LoadOptions {{ Rename = {{ {code} }} }}" +
                      (map.IsIdentity ? "." : $" (beside the rules given, {map})."));
        }
        hints.AddRange(ambiguous);
        return lines;
    }

    /// <summary>"rnn." for "rnn.weight_ih_l0".</summary>
    private static string ModuleOf(string name) => name[..(name.IndexOf('.', StringComparison.Ordinal) + 1)];

    /// <summary>The prefixes p for which the file has p + the name without its module, e.g. "lstm." for "rnn.weight_ih_l0".</summary>
    private static IEnumerable<string> SuffixPrefixes(string name, string[] candidates)
    {
        string local = name[ModuleOf(name).Length..];
        foreach (string key in candidates)
        {
            if (key == local || (key.EndsWith(local, StringComparison.Ordinal) && key[^(local.Length + 1)] == '.'))
            {
                yield return key[..^local.Length];
            }
        }
    }

    /// <summary>The candidate nearest to <paramref name="name"/> in edit distance, if one is near enough to be a likely typo.</summary>
    private static string? Closest(string name, string[] candidates)
    {
        int limit = Math.Max(2, name.Length / 3);
        string? best = null;
        int bestDistance = limit + 1;
        foreach (string candidate in candidates)
        {
            if (Math.Abs(candidate.Length - name.Length) >= bestDistance) continue;
            int distance = EditDistance(name, candidate, bestDistance - 1);
            if (distance < bestDistance || (distance == bestDistance && best is not null && string.CompareOrdinal(candidate, best) < 0))
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>Levenshtein distance, or more than <paramref name="limit"/> once every path exceeds it.</summary>
    internal static int EditDistance(string a, string b, int limit)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            int rowMinimum = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                rowMinimum = Math.Min(rowMinimum, current[j]);
            }
            if (rowMinimum > limit) return limit + 1;
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    // ---- Tensors under the model's modules that the model does not have ----

    private static IEnumerable<string> UnexpectedProblems(List<(SafetensorsTensorInfo Tensor, string Name)> unexpected,
        Dictionary<string, SafetensorsTensorInfo> byName, ModelConfiguration model)
    {
        int fileLayers = byName.Keys.Select(name => RoleOf(name)?.Layer ?? -1).DefaultIfEmpty(-1).Max() + 1;
        foreach (IGrouping<string, (SafetensorsTensorInfo Tensor, string Name)> group in unexpected.GroupBy(u => WhyNotInModel(u.Name, u.Tensor, model, fileLayers)))
        {
            string[] keys = [.. group.Select(u => u.Tensor.Name == u.Name ? $"'{u.Name}'" : $"'{u.Tensor.Name}' (as '{u.Name}')")];
            string list = keys.Length <= 4
                ? string.Join(", ", keys)
                : string.Join(", ", keys.Take(3)) + $" and {keys.Length - 3} more";
            yield return $"The file's {list} {(keys.Length == 1 ? "is not a tensor" : "are not tensors")} of the model: {group.Key}.";
        }
    }

    private static string WhyNotInModel(string name, SafetensorsTensorInfo tensor, ModelConfiguration model, int fileLayers)
    {
        if (name.StartsWith("head.", StringComparison.Ordinal))
        {
            return model.OutputSize == 0 && name is "head.weight" or "head.bias"
                ? $"the file has a head (OutputSize {(tensor.Shape.Length > 0 ? Lit(tensor.Shape[0]) : "?")}), the model has none (OutputSize = 0)"
                : "the model's head has no tensor of that name";
        }
        if (RoleOf(name) is not { } role) return "no recurrent layer has a tensor of that name";
        if (role.Layer >= model.NumLayers) return $"the file has {Lit(fileLayers)} layers, the model {Lit(model.NumLayers)} (NumLayers = {Lit(model.NumLayers)})";
        if (role.Reverse && !model.Bidirectional) return "the file's layers are bidirectional, the model's are not (Bidirectional = false)";
        if (role.Kind == "weight_hr" && model.ProjSize == 0) return "the file's layers have a projection (weight_hr), the model's have none (ProjSize = 0)";
        if (role.Kind.StartsWith("bias", StringComparison.Ordinal) && !model.Bias) return "the file's layers have biases, the model's have none (Bias = false)";
        return "the model has no tensor of that name";
    }

    // ---- What the file's tensors say about the model they came from ----

    private static void AddFileConfigurationHint(List<string> hints, ModelConfiguration? saved,
        Dictionary<string, SafetensorsTensorInfo> byName, ModelConfiguration model)
    {
        if (saved is { } fromMetadata)
        {
            if (fromMetadata != model) hints.Add($"The file was saved from {fromMetadata.AttributeText} (its __metadata__); the model is {model.AttributeText}.");
            return;
        }
        if (Infer(byName) is not { } inferred) return;
        // The tensors do not show an RNN's non-linearity: compare without it.
        if (inferred with { Nonlinearity = model.Nonlinearity } == model) return;
        string nonlinearity = inferred.Cell == CellKind.Rnn ? " (whose non-linearity, tanh or ReLU, the tensors do not show)" : "";
        hints.Add($"The file's tensors look like {inferred.AttributeText}{nonlinearity}; the model is {model.AttributeText}.");
    }

    /// <summary>
    /// The configuration the file's tensors describe: H and the gates from <c>rnn.weight_hh_l0</c> [G·H, Hout] (and
    /// <c>rnn.weight_hr_l0</c> [P, H]), I from <c>rnn.weight_ih_l0</c>, the layers, directions, biases and head
    /// from the names; null when they do not describe one.
    /// </summary>
    internal static ModelConfiguration? Infer(IReadOnlyDictionary<string, SafetensorsTensorInfo> byName)
    {
        if (!byName.TryGetValue("rnn.weight_hh_l0", out SafetensorsTensorInfo? hh) || hh.Shape.Length != 2
            || !byName.TryGetValue("rnn.weight_ih_l0", out SafetensorsTensorInfo? ih) || ih.Shape.Length != 2)
        {
            return null;
        }
        long rows = hh.Shape[0], hidden = hh.Shape[1], proj = 0;
        if (byName.TryGetValue("rnn.weight_hr_l0", out SafetensorsTensorInfo? hr))
        {
            if (hr.Shape.Length != 2 || hr.Shape[0] != hh.Shape[1]) return null;
            (proj, hidden) = (hr.Shape[0], hr.Shape[1]);
        }
        if (hidden <= 0 || hidden > int.MaxValue || rows % hidden != 0) return null;
        CellKind? cell = (rows / hidden) switch { 4 => CellKind.Lstm, 3 => CellKind.Gru, 1 => CellKind.Rnn, _ => null };
        if (cell is null || (proj > 0 && (cell != CellKind.Lstm || proj >= hidden)) || ih.Shape[1] > int.MaxValue) return null;
        int layers = byName.Keys.Select(name => RoleOf(name)?.Layer ?? -1).Max() + 1;
        bool bidirectional = byName.Keys.Any(name => RoleOf(name) is { Reverse: true });
        long output = byName.TryGetValue("head.weight", out SafetensorsTensorInfo? head) && head.Shape.Length == 2 ? head.Shape[0] : 0;
        if (output > int.MaxValue) return null;
        return new ModelConfiguration(cell.Value, (int)ih.Shape[1], (int)hidden, layers, byName.ContainsKey("rnn.bias_ih_l0"),
            bidirectional, (int)proj, RnnNonlinearity.Tanh, (int)output);
    }

    // ---- Shape mismatches, explained ----

    /// <summary>The role of a recurrent tensor: <c>rnn.weight_ih_l2_reverse</c> is (weight_ih, 2, reverse).</summary>
    private readonly record struct TensorRole(string Kind, int Layer, bool Reverse);

    private static TensorRole? RoleOf(string name)
    {
        if (!name.StartsWith("rnn.", StringComparison.Ordinal)) return null;
        string rest = name[4..];
        bool reverse = rest.EndsWith("_reverse", StringComparison.Ordinal);
        if (reverse) rest = rest[..^"_reverse".Length];
        int at = rest.LastIndexOf("_l", StringComparison.Ordinal);
        if (at < 0 || !int.TryParse(rest.AsSpan(at + 2), NumberStyles.None, CultureInfo.InvariantCulture, out int layer)) return null;
        string kind = rest[..at];
        return kind is "weight_ih" or "weight_hh" or "bias_ih" or "bias_hh" or "weight_hr" ? new TensorRole(kind, layer, reverse) : null;
    }

    /// <summary>What the model's shape of a tensor is made of, e.g. "LSTM: 4 gates × HiddenSize 32 by InputSize 8".</summary>
    private static string Expected(string name, ModelConfiguration model)
    {
        if (name == "head.weight") return $"OutputSize {Lit(model.OutputSize)} by the {Lit(model.OutputFeatures)} features of the top layer";
        if (name == "head.bias") return $"OutputSize {Lit(model.OutputSize)}";
        TensorRole role = RoleOf(name)!.Value;
        string gates = $"{model.CellName}: {GatesTimesHidden(model.GateCount, model.HiddenSize)}";
        return role.Kind switch
        {
            "weight_ih" when role.Layer == 0 => $"{gates} by InputSize {Lit(model.InputSize)}",
            "weight_ih" => $"{gates} by the {Lit(model.OutputFeatures)} features of layer {Lit(role.Layer - 1)}" +
                           (model.Bidirectional ? $" (2 directions × {Lit(model.StateSize)})" : ""),
            "weight_hh" => $"{gates} by " + (model.ProjSize > 0 ? $"ProjSize {Lit(model.ProjSize)}" : $"HiddenSize {Lit(model.HiddenSize)}"),
            "weight_hr" => $"ProjSize {Lit(model.ProjSize)} by HiddenSize {Lit(model.HiddenSize)}",
            _ => gates,
        };
    }

    private static string GatesTimesHidden(long gates, long hidden) =>
        gates == 1 ? $"HiddenSize {Lit(hidden)}" : $"{Lit(gates)} gates × HiddenSize {Lit(hidden)}";

    /// <summary>What the file's shape says, as a sentence that follows the expected shape (". The file's …"), or ".".</summary>
    private static string FileReading(ParameterInfo info, IReadOnlyList<long> shape, ModelConfiguration model, ModelConfiguration? file)
    {
        if (shape.Count != info.Shape.Length)
        {
            return $". The file's tensor has {Lit(shape.Count)} dimensions, the model's {Lit(info.Shape.Length)}.";
        }
        var parts = new List<string>();
        long rows = shape.Count > 0 ? shape[0] : 0, columns = shape.Count > 1 ? shape[1] : 0;
        bool rowsDiffer = shape.Count > 0 && rows != info.Shape[0];
        bool columnsDiffer = shape.Count > 1 && columns != info.Shape[1];
        string where(long expected) => $"where the model has {Lit(expected)}";
        if (info.Name == "head.weight" || info.Name == "head.bias")
        {
            if (rowsDiffer) parts.Add($"its {Lit(rows)} rows are OutputSize {Lit(rows)}, {where(model.OutputSize)}");
            if (columnsDiffer) parts.Add($"its {Lit(columns)} columns are the features of the file's top layer (D × Hout), {where(model.OutputFeatures)}");
        }
        else
        {
            TensorRole role = RoleOf(info.Name)!.Value;
            if (role.Kind == "weight_hr")
            {
                if (rowsDiffer) parts.Add($"its {Lit(rows)} rows are ProjSize {Lit(rows)}, {where(model.ProjSize)}");
                if (columnsDiffer) parts.Add($"its {Lit(columns)} columns are HiddenSize {Lit(columns)}, {where(model.HiddenSize)}");
            }
            else if (role.Kind == "weight_hh" && (rowsDiffer || columnsDiffer))
            {
                // The columns are Hout, so the rows tell the gates: the whole shape names the cell.
                parts.Add($"its shape is that of {OrList(RecurrentReadings(rows, columns))}");
            }
            else
            {
                if (rowsDiffer)
                {
                    // The file's configuration, when known, tells which of the readings it is.
                    List<string> readings = file is { } f && (long)f.GateCount * f.HiddenSize == rows
                        ? [$"{GatesTimesHidden(f.GateCount, f.HiddenSize)} ({f.CellName})"]
                        : GateReadings(rows);
                    parts.Add($"its {Lit(rows)} rows are {OrList(readings)}");
                }
                if (columnsDiffer && role.Kind == "weight_ih")
                {
                    parts.Add(role.Layer == 0
                        ? $"its {Lit(columns)} columns are InputSize {Lit(columns)}, {where(model.InputSize)}"
                        : $"its {Lit(columns)} columns are the features of layer {Lit(role.Layer - 1)}, " + LayerFeatures(columns, model, file));
                }
            }
        }
        return parts.Count == 0 ? "." : ". In the file, " + string.Join("; ", parts) + ".";
    }

    /// <summary>Why the file's layer output has <paramref name="columns"/> features (D × Hout), when its configuration says.</summary>
    private static string LayerFeatures(long columns, ModelConfiguration model, ModelConfiguration? file)
    {
        if (file is not { } f || f.OutputFeatures != columns) return $"D × Hout = {Lit(columns)}, where the model has {Lit(model.OutputFeatures)}";
        string shape = $"{Lit(f.NumDirections)} × {Lit(f.StateSize)}";
        if (f.Bidirectional != model.Bidirectional) return $"{shape}: the file's layers are {(f.Bidirectional ? "" : "not ")}bidirectional";
        if (f.ProjSize != model.ProjSize)
        {
            return f.ProjSize == 0 ? $"{shape}: the file's layers have no projection" : $"{shape}: the file's layers project h to ProjSize {Lit(f.ProjSize)}";
        }
        return $"{shape}: the file's HiddenSize is {Lit(f.HiddenSize)}";
    }

    /// <summary>The cells and sizes a recurrent weight [G·H, Hout] of this shape can belong to.</summary>
    private static List<string> RecurrentReadings(long rows, long columns)
    {
        var readings = new List<string>();
        foreach ((long gates, string cell) in new[] { (4L, "an LSTM"), (3L, "a GRU"), (1L, "an RNN") })
        {
            if (columns > 0 && rows == gates * columns) readings.Add($"{cell} ({GatesTimesHidden(gates, columns)})");
        }
        if (rows % 4 == 0 && columns > 0 && columns < rows / 4)
        {
            readings.Add($"an LSTM with a projection (4 gates × HiddenSize {Lit(rows / 4)}, ProjSize {Lit(columns)})");
        }
        if (readings.Count == 0) readings.Add("no LSTM, GRU or RNN layer");
        return readings;
    }

    /// <summary>The cells and hidden sizes whose stacked gates give this many rows.</summary>
    private static List<string> GateReadings(long rows)
    {
        var readings = new List<string>();
        foreach ((long gates, string cell) in new[] { (4L, "LSTM"), (3L, "GRU"), (1L, "RNN") })
        {
            if (rows > 0 && rows % gates == 0) readings.Add($"{GatesTimesHidden(gates, rows / gates)} ({cell})");
        }
        return readings;
    }

    private static string OrList(List<string> items) =>
        items.Count <= 1 ? string.Concat(items) : string.Join(", ", items.Take(items.Count - 1)) + " or " + items[^1];

    private static string Lit(long value) => value.ToString(CultureInfo.InvariantCulture);
}
