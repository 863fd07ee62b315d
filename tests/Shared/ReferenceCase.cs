using ModelGen;
using Xunit.Sdk;

namespace ModelGen.Testing;

/// <summary>
/// One PyTorch reference file (see tests/TestData/reference) and the checks every model must pass against it.
/// </summary>
/// <remarks>
/// Tolerance: |actual − expected| ≤ 1e-5 + 1e-5·|expected|. The expected values were computed by PyTorch in
/// float64 from the stored float32 weights and rounded to float32, so they carry no float32 error of their own;
/// ours accumulates float32 rounding through T steps of L layers, plus a few ulps per tanh/σ approximation.
/// The worst error measured over the public files is ≈2e-7 (rnn_tanh, lstm_basic); the bound leaves 50× room
/// for other vector widths (4 or 8 lanes sum in another order) and longer sequences, and stays far below what
/// a wrong gate, bias or direction produces (1e-2 and more).
/// </remarks>
public sealed class ReferenceCase
{
    public const double AbsoluteTolerance = 1e-5;
    public const double RelativeTolerance = 1e-5;

    /// <summary>The environment variable that points the harness at another folder of reference files.</summary>
    public const string DirectoryVariable = "MODELGEN_REFERENCE_DIR";

    private ReferenceCase(string path, SafetensorsFile file)
    {
        Path = path;
        File = file;
    }

    public string Path { get; }
    public SafetensorsFile File { get; }
    public string Name => System.IO.Path.GetFileNameWithoutExtension(Path);

    /// <summary>The folder of reference files: <c>$MODELGEN_REFERENCE_DIR</c> when set, else the copy beside the tests.</summary>
    public static string Directory =>
        Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } custom
            ? System.IO.Path.GetFullPath(custom)
            : System.IO.Path.Combine(AppContext.BaseDirectory, "reference");

    /// <summary>The file names of every reference case, as xunit theory data.</summary>
    public static TheoryData<string> FileNames()
    {
        var names = new TheoryData<string>();
        foreach (string path in System.IO.Directory.EnumerateFiles(Directory, "*.safetensors").Order(StringComparer.Ordinal))
        {
            names.Add(System.IO.Path.GetFileName(path));
        }
        return names;
    }

    /// <summary>A file of <see cref="Directory"/>.</summary>
    public static ReferenceCase Load(string fileName) => LoadFrom(System.IO.Path.Combine(Directory, fileName));

    public static ReferenceCase LoadFrom(string path) => new(path, SafetensorsFile.Read(path));

    public string Meta(string key) =>
        File.Metadata.TryGetValue(key, out string? value)
            ? value
            : throw new XunitException($"{Name}: __metadata__ has no '{key}'.");

    public int MetaInt(string key) => int.Parse(Meta(key), System.Globalization.CultureInfo.InvariantCulture);

    public bool MetaBool(string key) => Meta(key) switch
    {
        "True" or "true" => true,
        "False" or "false" => false,
        string other => throw new XunitException($"{Name}: __metadata__ '{key}' = '{other}' is not a boolean."),
    };

    public float[] Tensor(string name) => File[name].ToFloatArray();

    public bool Has(string name) => File.Tensors.ContainsKey(name);

    /// <summary>Loads the file's weights into the model; returns B, T and the input and initial state (c0 empty unless LSTM).</summary>
    private (int Batch, int Steps, float[] Input, float[] H0, float[] C0) LoadInto(IRecurrentModel model)
    {
        using (FileStream stream = System.IO.File.OpenRead(Path)) model.LoadSafetensors(stream);
        return (MetaInt("batch"), MetaInt("seq_len"), Tensor("input"), Tensor("h0"), model.Cell == CellKind.Lstm ? Tensor("c0") : []);
    }

    /// <summary>Loads the file's weights into the model and checks every forward result it holds.</summary>
    public void CheckForward(IRecurrentModel model)
    {
        (int batch, int steps, float[] input, float[] h0, float[] c0) = LoadInto(model);

        var output = new float[batch * steps * model.OutputFeatures];
        var hN = new float[h0.Length];
        var cN = new float[c0.Length];
        model.Forward(input, batch, output, h0, c0, hN, cN);
        AssertClose("output", Tensor("output"), output);
        AssertClose("h_n", Tensor("h_n"), hN);
        if (model.Cell == CellKind.Lstm) AssertClose("c_n", Tensor("c_n"), cN);

        if (model is IHeadModel head)
        {
            var last = new float[batch * model.OutputSize];
            head.PredictLast(input, batch, last, h0, c0);
            AssertClose("y_last", Tensor("y_last"), last);
            var sequence = new float[batch * steps * model.OutputSize];
            head.PredictSequence(input, batch, sequence, h0, c0);
            AssertClose("y_seq", Tensor("y_seq"), sequence);
        }
        else if (Has("y_last"))
        {
            throw new XunitException($"{Name}: the file has a head (y_last) but the model has none.");
        }

        if (model is IStreamingModel streaming) CheckStreaming(streaming, batch, steps, input, h0, c0);
        else if (!MetaBool("bidirectional")) throw new XunitException($"{Name}: a unidirectional model must stream.");
    }

    /// <summary>
    /// Checks backpropagation against the file's <c>grad_last.*</c>, <c>grad_seq.*</c> and <c>grad_ce.*</c>:
    /// the gradient of every parameter, of the input, h0 and c0, and the loss.
    /// </summary>
    public void CheckGradients(IHeadModel model)
    {
        (int batch, int steps, float[] input, float[] h0, float[] c0) = LoadInto(model);
        var last = new float[batch * model.OutputSize];
        var sequence = new float[batch * steps * model.OutputSize];

        // sum(y_last * dy_last): the upstream gradient is dy_last itself.
        model.TrainPredictLast(input, batch, last, h0, c0);
        CheckBackward(model, "grad_last", Tensor("dy_last"), Dot(last, Tensor("dy_last")));

        model.TrainPredictSequence(input, batch, sequence, h0, c0);
        CheckBackward(model, "grad_seq", Tensor("dy_seq"), Dot(sequence, Tensor("dy_seq")));

        model.TrainPredictSequence(input, batch, sequence, h0, c0);
        var dLogits = new float[sequence.Length];
        float loss = Losses.CrossEntropy(sequence, model.OutputSize, File["ce_target"].ToInt32Array(), dLogits);
        CheckBackward(model, "grad_ce", dLogits, loss);
    }

    /// <summary>
    /// Three steps of <c>torch.optim.SGD</c> and of <c>torch.optim.Adam</c> on <c>mse_loss(y_last, target)</c>
    /// from a zero initial state: the losses before each step and every parameter after the third.
    /// </summary>
    public void CheckOptimizers(Func<IHeadModel> create)
    {
        float sgdLearningRate = MetaFloat("sgd_lr");
        float adamLearningRate = MetaFloat("adam_lr");
        float[] betas = [.. Meta("adam_betas").Trim('[', ']').Split(',').Select(b => float.Parse(b, System.Globalization.CultureInfo.InvariantCulture))];
        float epsilon = MetaFloat("adam_eps");
        CheckSteps(create(), "sgd3", count => new Sgd(count, sgdLearningRate));
        CheckSteps(create(), "adam3", count => new Adam(count, adamLearningRate, betas[0], betas[1], epsilon));
    }

    private void CheckSteps(IHeadModel model, string prefix, Func<int, Optimizer> optimizerFor)
    {
        using (FileStream stream = System.IO.File.OpenRead(Path)) model.LoadSafetensors(stream);
        int batch = MetaInt("batch");
        float[] input = Tensor("input");
        float[] target = Tensor("target");
        Optimizer optimizer = optimizerFor(model.ParameterCount);
        var prediction = new float[target.Length];
        var gradient = new float[target.Length];
        var losses = new float[3];
        for (int step = 0; step < losses.Length; step++)
        {
            model.TrainPredictLast(input, batch, prediction);
            losses[step] = Losses.MeanSquaredError(prediction, target, gradient);
            model.ZeroGradients();
            model.Backward(gradient, default, default, default);
            optimizer.Step(model);
        }
        AssertClose($"{prefix}.loss", Tensor($"{prefix}.loss"), losses);
        foreach (ParameterInfo parameter in model.ParameterTable)
        {
            AssertClose($"{prefix}.{parameter.Name}", Tensor($"{prefix}.{parameter.Name}"),
                model.Parameters.Slice(parameter.Offset, parameter.Length));
        }
    }

    public float MetaFloat(string key) => float.Parse(Meta(key), System.Globalization.CultureInfo.InvariantCulture);

    private void CheckBackward(IRecurrentModel model, string prefix, float[] upstream, float loss)
    {
        bool lstm = model.Cell == CellKind.Lstm;
        var dInput = new float[Tensor("input").Length];
        var dH0 = new float[Tensor("h0").Length];
        var dC0 = lstm ? new float[Tensor("c0").Length] : [];
        model.ZeroGradients();
        model.Backward(upstream, dInput, dH0, dC0);
        AssertClose($"{prefix}.loss", Tensor($"{prefix}.loss"), [loss]);
        AssertClose($"{prefix}.input", Tensor($"{prefix}.input"), dInput);
        AssertClose($"{prefix}.h0", Tensor($"{prefix}.h0"), dH0);
        if (lstm) AssertClose($"{prefix}.c0", Tensor($"{prefix}.c0"), dC0);
        foreach (ParameterInfo parameter in model.ParameterTable)
        {
            AssertClose($"{prefix}.{parameter.Name}", Tensor($"{prefix}.{parameter.Name}"),
                model.Gradients.Slice(parameter.Offset, parameter.Length));
        }
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return (float)sum;
    }

    /// <summary>Feeds the sequence one step at a time through the stateful API and checks every step.</summary>
    private void CheckStreaming(IStreamingModel model, int batch, int steps, float[] input, float[] h0, float[] c0)
    {
        int features = model.InputSize, hout = model.StateSize;
        float[] expectedOutput = Tensor("output");
        var stepInput = new float[batch * features];
        var stepOutput = new float[batch * hout];
        var streamed = new float[expectedOutput.Length];

        model.ResetState(batch);
        h0.CopyTo(model.HiddenState);
        c0.CopyTo(model.CellState);
        for (int t = 0; t < steps; t++)
        {
            Gather(input, batch, steps, features, t, stepInput);
            model.Step(stepInput, stepOutput);
            Scatter(stepOutput, batch, steps, hout, t, streamed);
        }
        AssertClose("output (streamed)", expectedOutput, streamed);
        AssertClose("h_n (streamed)", Tensor("h_n"), model.HiddenState.ToArray());
        if (model.Cell == CellKind.Lstm) AssertClose("c_n (streamed)", Tensor("c_n"), model.CellState.ToArray());

        if (model is IStreamingHeadModel head)
        {
            int outputs = model.OutputSize;
            var prediction = new float[batch * outputs];
            var predictions = new float[batch * steps * outputs];
            head.ResetState(batch);
            h0.CopyTo(head.HiddenState);
            c0.CopyTo(head.CellState);
            for (int t = 0; t < steps; t++)
            {
                Gather(input, batch, steps, features, t, stepInput);
                head.StepPredict(stepInput, prediction);
                Scatter(prediction, batch, steps, outputs, t, predictions);
            }
            AssertClose("y_seq (streamed)", Tensor("y_seq"), predictions);
            AssertClose("y_last (streamed)", Tensor("y_last"), prediction);
        }
    }

    /// <summary>x[:, t, :] of a [B, T, F] tensor into [B, F].</summary>
    private static void Gather(float[] sequence, int batch, int steps, int features, int t, float[] step)
    {
        for (int b = 0; b < batch; b++) sequence.AsSpan((b * steps + t) * features, features).CopyTo(step.AsSpan(b * features));
    }

    /// <summary>[B, F] into y[:, t, :] of a [B, T, F] tensor.</summary>
    private static void Scatter(float[] step, int batch, int steps, int features, int t, float[] sequence)
    {
        for (int b = 0; b < batch; b++) step.AsSpan(b * features, features).CopyTo(sequence.AsSpan((b * steps + t) * features));
    }

    public void AssertClose(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException($"{Name}: {what} has {actual.Length} values, expected {expected.Length}.");
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            double excess = error - (AbsoluteTolerance + RelativeTolerance * Math.Abs(expected[i]));
            if (!(excess <= 0) && (worst < 0 || excess > worstExcess || double.IsNaN(excess)))
            {
                worst = i;
                worstExcess = excess;
            }
        }
        if (worst >= 0)
        {
            throw new XunitException(
                $"{Name}: {what}[{worst}] = {actual[worst]:R}, expected {expected[worst]:R} (error {Math.Abs(actual[worst] - expected[worst]):G3}, tolerance {AbsoluteTolerance:G2} + {RelativeTolerance:G2}·|expected|).");
        }
    }
}
