namespace ModelGen;

/// <summary>
/// What <see cref="Trainer"/> (single-stack models), <see cref="GraphTrainer"/> (graphs) and
/// <see cref="Seq2SeqTrainer"/> (encoder–decoders) share: the optimiser, gradient clipping and the step that applies
/// them, the carried-state switch of truncated BPTT, and what the fit loop needs of the model.
/// </summary>
public abstract class TrainerBase : IFitHost
{
    private readonly ITrainableModel _model;

    /// <summary>A trainer of <paramref name="model"/> with <paramref name="optimizer"/>, sized for the model's parameters.</summary>
    private protected TrainerBase(ITrainableModel model, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (optimizer.ParameterCount != model.ParameterCount)
        {
            throw new ArgumentException(
                $"optimizer: sized for {optimizer.ParameterCount} parameters, the model has {model.ParameterCount}.", nameof(optimizer));
        }
        _model = model;
        Optimizer = optimizer;
    }

    /// <summary>The optimiser applied after each backward pass.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>When set, gradients are scaled to this global L2 norm at most (<c>clip_grad_norm_</c>).</summary>
    public float? ClipGradientNorm { get; set; }

    /// <summary>When set, every gradient is clamped to ±this value (<c>clip_grad_value_</c>).</summary>
    public float? ClipGradientValue { get; set; }

    /// <summary>Carry the final state of each step into the next (truncated BPTT); see the remarks.</summary>
    public bool CarryState { get; set; }

    /// <summary>The global gradient norm measured by the last step when <see cref="ClipGradientNorm"/> is set.</summary>
    public float LastGradientNorm { get; private set; }

    /// <summary>Forgets the carried state: the next step starts from zeros.</summary>
    public void ResetCarriedState() => HasCarriedState = false;

    /// <summary>Whether a carried state from the last step is there to start the next one from.</summary>
    private protected bool HasCarriedState { get; set; }

    /// <summary>After backward: clipping by value, then by norm (as configured), then the optimiser's step; returns <paramref name="loss"/>.</summary>
    private protected float ClipAndStep(float loss)
    {
        Span<float> gradients = _model.Gradients;
        if (ClipGradientValue is float clip) GradientClipping.ClipByValue(gradients, clip);
        if (ClipGradientNorm is float maxNorm) LastGradientNorm = GradientClipping.ClipByNorm(gradients, maxNorm);
        Optimizer.Step(_model);
        return loss;
    }

    /// <summary>Writes a <see cref="Checkpoint"/> of the model and the optimiser at <paramref name="path"/>.</summary>
    private protected abstract void SaveCheckpoint(string path);

    /// <summary>The two files of <see cref="Checkpoint.Save"/>, each replaced atomically (model first, then optimiser).</summary>
    private protected void SaveCheckpoint(string path, Action<Stream> saveModel)
    {
        string modelFile = Path.GetFullPath(Checkpoint.ModelFile(path));
        Directory.CreateDirectory(Path.GetDirectoryName(modelFile)!);
        Checkpoint.WriteAtomically(modelFile, saveModel);
        Checkpoint.WriteAtomically(Path.GetFullPath(Checkpoint.OptimizerFile(path)), Optimizer.SaveState);
    }

    int IFitHost.ParameterCount => _model.ParameterCount;

    void IFitHost.CopyParameters(float[] destination) => _model.Parameters.CopyTo(destination);

    void IFitHost.RestoreParameters(float[] source) => source.CopyTo(_model.EditParameters());

    void IFitHost.SaveCheckpoint(string path) => SaveCheckpoint(path);
}
