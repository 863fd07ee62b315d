using System.Collections.Immutable;
using System.ComponentModel;
using ModelGen.Kernels;

namespace ModelGen;

/// <summary>
/// The memory of a generated graph model, as llm.c lays it out: one parameter buffer in <c>state_dict</c> order,
/// one gradient buffer with the same layout, the kernels' packed copy of the weights, one activation arena for
/// inference and one for training (whose slices the generated schedule names), and the streaming state.
/// </summary>
/// <remarks>
/// <para>Parameters change only through named calls: <see cref="EditParameters"/> (which the optimisers,
/// loaders and initialisers use) and <see cref="MarkParametersChanged"/>. Reading <see cref="Parameters"/> never
/// changes anything.</para>
/// <para>Thread safety: not thread-safe; it belongs to one model, used by one thread at a time.</para>
/// </remarks>
public sealed class ModelBuffers
{
    private readonly float[] _parameters;
    private readonly float[] _gradients;
    private readonly int _offset;
    private readonly int _length;
    private readonly AlignedFloats _packed;
    // The arenas start on a 64-byte boundary, and a graph's plan puts every slice on one: a module's vector loads
    // never split across cache lines.
    private AlignedFloats _inference = new(0);
    private AlignedFloats _training = new(0);
    private float[] _state = [];
    // Shared with every view of the same buffers: a write through any of them makes every view's packing stale.
    private readonly ParameterVersion _parameterVersion;
    private int _packedVersion;

    /// <summary>Buffers for the parameters of <paramref name="parameterTable"/> (all zero) and <paramref name="packedLength"/> packed floats.</summary>
    public ModelBuffers(ImmutableArray<ParameterInfo> parameterTable, int packedLength)
    {
        ParameterTable = parameterTable;
        _length = Floats(parameterTable);
        _parameters = new float[_length];
        _gradients = new float[_length];
        _packed = new AlignedFloats(packedLength);
        _parameterVersion = new ParameterVersion();
    }

    /// <summary>
    /// The buffers of a part of a larger model: its parameters and gradients are the floats of
    /// <paramref name="owner"/>'s buffers from <paramref name="offset"/> on (an encoder–decoder model's
    /// <c>encoder.*</c> or <c>decoder.*</c>), laid out by <paramref name="parameterTable"/>; its packed weights, arenas
    /// and streaming state are its own. Writes through either side are seen by both.
    /// </summary>
    public ModelBuffers(ModelBuffers owner, int offset, ImmutableArray<ParameterInfo> parameterTable, int packedLength)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ParameterTable = parameterTable;
        _length = Floats(parameterTable);
        if (offset < 0 || offset > owner._length - _length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"offset: a part of {_length} floats must lie within the owner's {owner._length} floats.");
        }
        _parameters = owner._parameters;
        _gradients = owner._gradients;
        _offset = owner._offset + offset;
        _packed = new AlignedFloats(packedLength);
        _parameterVersion = owner._parameterVersion;
    }

    private static int Floats(ImmutableArray<ParameterInfo> table) => table.IsEmpty ? 0 : table[^1].Offset + table[^1].Length;

    /// <summary>The parameter version every view of one buffer shares.</summary>
    private sealed class ParameterVersion
    {
        public int Value = 1;
    }

    /// <summary>Every parameter tensor: its <c>state_dict</c> name, shape and offset.</summary>
    public ImmutableArray<ParameterInfo> ParameterTable { get; }

    /// <summary>All parameters, laid out as <see cref="ParameterTable"/> says.</summary>
    public ReadOnlySpan<float> Parameters => _parameters.AsSpan(_offset, _length);

    /// <summary>The gradient buffer, laid out like <see cref="Parameters"/>; Backward adds to it.</summary>
    public Span<float> Gradients => _gradients.AsSpan(_offset, _length);

    /// <summary>
    /// The parameter buffer for writing. Marks the packed weights stale, so the next forward call repacks them;
    /// writes made through the returned span after a forward call has run are seen only after another
    /// <see cref="EditParameters"/> or <see cref="MarkParametersChanged"/>.
    /// </summary>
    public Span<float> EditParameters()
    {
        _parameterVersion.Value++;
        return _parameters.AsSpan(_offset, _length);
    }

    /// <summary>Says that the parameters were written since the last forward call: the next one repacks.</summary>
    public void MarkParametersChanged() => _parameterVersion.Value++;

    /// <summary>Whether the packed copy is older than the parameters (for the generated <c>Pack</c>).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool PackedIsStale => _packedVersion != _parameterVersion.Value;

    /// <summary>The packed weights the forward kernels read.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ReadOnlySpan<float> Packed => _packed.Span;

    /// <summary>The packed buffer for repacking; <see cref="MarkPacked"/> when done.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Span<float> PackedForRepacking => _packed.Span;

    /// <summary>Records that the packed copy now matches the parameters.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void MarkPacked() => _packedVersion = _parameterVersion.Value;

    /// <summary>The inference arena, grown to at least <paramref name="length"/> floats (it never shrinks).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Span<float> InferenceArena(long length) => Grow(ref _inference, length);

    /// <summary>The training arena, grown to at least <paramref name="length"/> floats; Backward reads what the training forward left in it.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Span<float> TrainingArena(long length) => Grow(ref _training, length);

    /// <summary>The training arena as the last training forward left it.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Span<float> RecordedTrainingArena => _training.Span;

    /// <summary>The streaming state: <paramref name="length"/> floats, zeroed when <paramref name="reset"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Span<float> StreamingState(int length, bool reset)
    {
        if (_state.Length != length) _state = new float[length];
        else if (reset) Array.Clear(_state);
        return _state;
    }

    /// <summary>The streaming state as it stands.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Span<float> CurrentStreamingState => _state;

    /// <summary>
    /// Loads the tensors of a safetensors file by their <c>state_dict</c> names (after <see cref="LoadOptions.Rename"/>).
    /// Every tensor that is loaded must be F32 with the model's shape; with <see cref="LoadOptions.Strict"/>, every
    /// parameter must be in the file and no file key may name a tensor under one of the model's modules that the
    /// model lacks. Everything is checked before anything is written: a failed load leaves the parameters as they were.
    /// </summary>
    public LoadResult Load(Stream stream, LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Rename is null) throw new ArgumentException("LoadOptions.Rename must not be null.", nameof(options));
        var byName = ParameterTable.ToDictionary(info => info.Name, StringComparer.Ordinal);
        var modules = ParameterTable.Select(info => info.Name[..(info.Name.LastIndexOf('.') + 1)]).Distinct().ToArray();
        var copies = new List<(string FileKey, ParameterInfo Parameter)>();
        var unexpected = new List<string>();
        SafetensorsFile file = SafetensorsFile.Read(stream, header =>
        {
            var problems = new List<string>();
            var loaded = new HashSet<string>(StringComparer.Ordinal);
            foreach (SafetensorsTensorInfo tensor in header.Tensors.Values.OrderBy(t => t.Begin))
            {
                string? name = options.Rename.Map(tensor.Name);
                if (name is null) continue;
                if (!byName.TryGetValue(name, out ParameterInfo? info))
                {
                    if (options.Strict && modules.Any(module => name.StartsWith(module, StringComparison.Ordinal)))
                    {
                        problems.Add($"'{tensor.Name}' {tensor.ShapeText} is not a tensor of this model's module '{name[..name.LastIndexOf('.')]}'");
                    }
                    unexpected.Add(tensor.Name);
                    continue;
                }
                if (tensor.DType != "F32")
                {
                    problems.Add($"'{tensor.Name}' is {tensor.DType}, expected F32");
                }
                else if (!tensor.Shape.SequenceEqual(info.Shape.Select(d => (long)d)))
                {
                    problems.Add($"'{tensor.Name}' has shape {tensor.ShapeText}, expected {info.ShapeText} for '{info.Name}'");
                }
                else if (!loaded.Add(info.Name))
                {
                    problems.Add($"two keys map to '{info.Name}'");
                }
                else
                {
                    copies.Add((tensor.Name, info));
                }
            }
            if (options.Strict)
            {
                problems.AddRange(ParameterTable.Where(info => !loaded.Contains(info.Name)).Select(info => $"missing '{info.Name}' {info.ShapeText}"));
            }
            if (problems.Count > 0)
            {
                throw new SafetensorsException("The file does not fit the model: " + string.Join("; ", problems) + ".");
            }
            return copies.Select(copy => copy.FileKey);
        });
        Span<float> parameters = EditParameters();
        foreach ((string fileKey, ParameterInfo info) in copies) file.Tensors[fileKey].CopyTo(parameters.Slice(info.Offset, info.Length));
        var loadedNames = copies.Select(copy => copy.Parameter.Name).ToHashSet(StringComparer.Ordinal);
        return new LoadResult(
            ParameterTable.Where(info => loadedNames.Contains(info.Name)).Select(info => info.Name).ToArray(),
            ParameterTable.Where(info => !loadedNames.Contains(info.Name)).Select(info => info.Name).ToArray(),
            unexpected);
    }

    /// <summary>Writes every parameter under its <c>state_dict</c> name, with <paramref name="metadata"/> in <c>__metadata__</c>.</summary>
    public void Save(Stream stream, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new SafetensorsWriter();
        foreach ((string key, string value) in metadata) writer.AddMetadata(key, value);
        foreach (ParameterInfo info in ParameterTable)
        {
            writer.Add(info.Name, info.Shape.Select(d => (long)d).ToArray(), Parameters.Slice(info.Offset, info.Length));
        }
        writer.WriteTo(stream);
    }

    /// <summary>An arena slice seen as ints: the recorded token ids and lengths, and a max reduction's argmax.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static Span<int> Ints(Span<float> slice) => System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(slice);

    private static Span<float> Grow(ref AlignedFloats buffer, long length)
    {
        if (length > Array.MaxLength - AlignedFloats.Alignment)
        {
            throw new ArgumentException($"The call needs {length} floats of activations, more than one array of {Array.MaxLength} elements holds once aligned; use a smaller batch or shorter sequences.");
        }
        if (buffer.Length < length) buffer = new AlignedFloats((int)length);
        return buffer.Span;
    }
}
