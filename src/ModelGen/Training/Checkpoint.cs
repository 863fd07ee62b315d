namespace ModelGen;

/// <summary>
/// A training checkpoint: the model's parameters and the optimiser's state, as two safetensors files named from
/// one base path — <c>path + ".safetensors"</c> (<see cref="ModelFile"/>, which PyTorch's <c>load_state_dict</c>
/// reads) and <c>path + ".optimizer.safetensors"</c> (<see cref="OptimizerFile"/>). PyTorch's equivalent is
/// <c>torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, path)</c>.
/// </summary>
/// <remarks>
/// Each file is replaced atomically: it is written in full to a temporary file in the same folder, flushed to disk,
/// then moved over the old one, so a crash leaves either the old file or the new one, never a torn one. The two
/// files are written first and moved one after the other (model, then optimiser); a crash between the two moves
/// leaves a model file one checkpoint newer than the optimiser file.
/// <para>Thread safety: static and stateless, but a save or load uses the model and the optimiser, so it belongs to
/// the thread that trains them; saves to the same path from several threads (or processes) race for the file.</para>
/// </remarks>
public static class Checkpoint
{
    /// <summary>The model's file: <c>path + ".safetensors"</c>.</summary>
    public static string ModelFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return path + ".safetensors";
    }

    /// <summary>The optimiser's file: <c>path + ".optimizer.safetensors"</c>.</summary>
    public static string OptimizerFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return path + ".optimizer.safetensors";
    }

    /// <summary>
    /// Writes <paramref name="model"/>'s parameters (<see cref="IRecurrentModel.SaveSafetensors(Stream)"/>) and
    /// <paramref name="optimizer"/>'s state (<see cref="Optimizer.SaveState"/>), each atomically; creates the folder
    /// if needed.
    /// </summary>
    public static void Save(IRecurrentModel model, Optimizer optimizer, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        string modelFile = Path.GetFullPath(ModelFile(path)), optimizerFile = Path.GetFullPath(OptimizerFile(path));
        Directory.CreateDirectory(Path.GetDirectoryName(modelFile)!);
        string modelTemp = WriteTemporary(modelFile, model.SaveSafetensors);
        string optimizerTemp = "";
        try
        {
            optimizerTemp = WriteTemporary(optimizerFile, optimizer.SaveState);
            File.Move(modelTemp, modelFile, overwrite: true);
            File.Move(optimizerTemp, optimizerFile, overwrite: true);
        }
        catch
        {
            // Deleting a temporary file that was already moved is a no-op.
            TryDelete(modelTemp);
            if (optimizerTemp.Length != 0) TryDelete(optimizerTemp);
            throw;
        }
    }

    /// <summary>
    /// Restores a checkpoint written by <see cref="Save"/>: the parameters (strictly, every tensor present) and the
    /// optimiser state. On any error neither changes.
    /// </summary>
    /// <exception cref="SafetensorsException">A file is malformed or does not fit the model or the optimiser.</exception>
    /// <exception cref="IOException">A file cannot be read (e.g. <see cref="FileNotFoundException"/>).</exception>
    public static void Load(IRecurrentModel model, Optimizer optimizer, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        string optimizerFile = OptimizerFile(path);
        float[] before = model.Parameters.ToArray();
        model.LoadSafetensors(ModelFile(path), strict: true);
        try
        {
            using var stream = File.OpenRead(optimizerFile);
            optimizer.LoadState(stream);
        }
        catch
        {
            before.CopyTo(model.EditParameters());
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="file"/> atomically: to a fresh temporary file beside it, flushed to disk, then moved
    /// over it. On any error the old file is untouched and the temporary file is gone.
    /// </summary>
    internal static void WriteAtomically(string file, Action<Stream> write) => Replace(WriteTemporary(file, write), file);

    private static string WriteTemporary(string file, Action<Stream> write)
    {
        string full = Path.GetFullPath(file);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        return temp;
    }

    private static void Replace(string temp, string file)
    {
        try
        {
            File.Move(temp, file, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
            // Best effort: the failure that brought us here is the one to report.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
