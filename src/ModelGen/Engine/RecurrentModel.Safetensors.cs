namespace ModelGen;

// Safetensors I/O: PyTorch's state_dict names, load_state_dict's strict and its missing and unexpected keys, and
// the model's configuration in __metadata__.
public sealed partial class RecurrentModel<TSpec>
{
    /// <summary>The configuration that <see cref="SaveSafetensors(Stream)"/> writes and loading checks.</summary>
    private static readonly ModelConfiguration Configuration = new(TSpec.Cell, TSpec.InputSize, TSpec.HiddenSize,
        TSpec.NumLayers, TSpec.Bias, TSpec.Bidirectional, TSpec.ProjSize,
        TSpec.Cell == CellKind.Rnn ? TSpec.Nonlinearity : RnnNonlinearity.Tanh, TSpec.OutputSize);

    /// <summary>See <see cref="IRecurrentModel.LoadSafetensors(string, bool)"/>.</summary>
    public LoadResult LoadSafetensors(string path, bool strict = true) => LoadSafetensors(path, new LoadOptions { Strict = strict });

    /// <summary>See <see cref="IRecurrentModel.LoadSafetensors(Stream, bool)"/>.</summary>
    public LoadResult LoadSafetensors(Stream stream, bool strict = true) => LoadSafetensors(stream, new LoadOptions { Strict = strict });

    /// <summary>See <see cref="IRecurrentModel.LoadSafetensors(string, LoadOptions)"/>.</summary>
    public LoadResult LoadSafetensors(string path, LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using FileStream stream = File.OpenRead(path);
        return LoadSafetensors(stream, options);
    }

    /// <summary>See <see cref="IRecurrentModel.LoadSafetensors(Stream, LoadOptions)"/>.</summary>
    public LoadResult LoadSafetensors(Stream stream, LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Rename is null) throw new ArgumentException("LoadOptions.Rename must not be null.", nameof(options));
        // The header is matched against the parameter table before any data is read; then only the tensors to
        // load are read, the file's other tensors skipped.
        StateDictLoader.Plan? plan = null;
        SafetensorsFile file = SafetensorsFile.Read(stream, header =>
        {
            plan = StateDictLoader.Match(header, ParameterTable, Configuration, options);
            return plan.FileKeys;
        });
        // Everything checked and read: only now is the model changed, so a failed load leaves it as it was.
        _parameterVersion++;
        foreach ((string fileKey, ParameterInfo info) in plan!.Copies)
        {
            file.Tensors[fileKey].CopyTo(_parameters.AsSpan(info.Offset, info.Length));
        }
        return plan.Result;
    }

    /// <summary>See <see cref="IRecurrentModel.SaveSafetensors(string)"/>.</summary>
    public void SaveSafetensors(string path)
    {
        using FileStream stream = File.Create(path);
        SaveSafetensors(stream);
    }

    /// <summary>See <see cref="IRecurrentModel.SaveSafetensors(Stream)"/>.</summary>
    public void SaveSafetensors(Stream stream)
    {
        var writer = new SafetensorsWriter();
        Configuration.WriteTo(writer);
        foreach (ParameterInfo info in ParameterTable)
        {
            long[] shape = info.Shape.Select(d => (long)d).ToArray();
            writer.Add(info.Name, shape, _parameters.AsSpan(info.Offset, info.Length));
        }
        writer.WriteTo(stream);
    }
}
