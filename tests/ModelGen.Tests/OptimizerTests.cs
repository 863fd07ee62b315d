using Xunit.Sdk;

namespace ModelGen.Tests;

/// <summary>
/// The optimisers, gradient clipping, optimiser state and the losses against independent double-precision
/// implementations written here from PyTorch's documented algorithms (torch.optim.SGD, Adam, AdamW,
/// clip_grad_norm_, clip_grad_value_, F.mse_loss, F.cross_entropy).
/// </summary>
/// <remarks>
/// Parameters and gradients have an odd length (37) so that the vectorised loops leave a tail for every vector
/// width. Tolerance for the optimisers: |actual − expected| ≤ 1e-6·max(|expected|, 1). The parameters are O(1);
/// float32 rounds each of the ~5 operations per step to 6e-8 of the parameter scale, so 5 steps stay below
/// ~5e-7 of it, while a wrong rule (missing bias correction, dampening on the first step, ε in the wrong place,
/// decay applied the Adam way in AdamW...) changes the updates, which are 1e-2..1e-1, by far more. A parameter
/// that cancels to near zero is measured against the parameter scale, not against itself.
/// </remarks>
public class OptimizerTests
{
    private const int Length = 37;
    private const int Steps = 5;
    private const double Tolerance = 1e-6;

    private static float[] Parameters() => TestHelpers.RandomValues(Length, seed: 11);

    /// <summary>The gradient of step t (from 1): new random values each step, scaled.</summary>
    private static float[] Gradient(int step, float scale = 1f) =>
        [.. TestHelpers.RandomValues(Length, seed: 100 + step).Select(g => g * scale)];

    // ---- Reference implementations (double) -------------------------------------------------------------------

    /// <summary>
    /// torch.optim.SGD, from its documentation: g ← g + λθ; with μ ≠ 0: b ← g at t = 1, else b ← μb + (1−τ)g;
    /// g ← g + μb (Nesterov) or g ← b; θ ← θ − γg.
    /// </summary>
    private static double[] ReferenceSgd(float[] start, Func<int, float[]> gradients, int steps, Func<int, double> learningRate,
        double momentum, double dampening, bool nesterov, double weightDecay)
    {
        double[] theta = [.. start.Select(v => (double)v)];
        var buffer = new double[theta.Length];
        for (int t = 1; t <= steps; t++)
        {
            float[] gradient = gradients(t);
            for (int i = 0; i < theta.Length; i++)
            {
                double g = gradient[i];
                if (weightDecay != 0) g += weightDecay * theta[i];
                if (momentum != 0)
                {
                    buffer[i] = t > 1 ? momentum * buffer[i] + (1 - dampening) * g : g;
                    g = nesterov ? g + momentum * buffer[i] : buffer[i];
                }
                theta[i] -= learningRate(t) * g;
            }
        }
        return theta;
    }

    /// <summary>
    /// torch.optim.Adam and AdamW, from their documentation. Adam: g ← g + λθ. AdamW: θ ← θ − γλθ. Then
    /// m ← β1m + (1−β1)g, v ← β2v + (1−β2)g², m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ), θ ← θ − γ m̂/(√v̂ + ε).
    /// </summary>
    private static double[] ReferenceAdam(float[] start, Func<int, float[]> gradients, int steps, Func<int, double> learningRate,
        double beta1, double beta2, double epsilon, double weightDecay, bool decoupled)
    {
        double[] theta = [.. start.Select(v => (double)v)];
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        for (int t = 1; t <= steps; t++)
        {
            float[] gradient = gradients(t);
            double lr = learningRate(t);
            for (int i = 0; i < theta.Length; i++)
            {
                double g = gradient[i];
                if (decoupled) theta[i] -= lr * weightDecay * theta[i];
                else g += weightDecay * theta[i];
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(beta1, t));
                double vHat = v[i] / (1 - Math.Pow(beta2, t));
                theta[i] -= lr * mHat / (Math.Sqrt(vHat) + epsilon);
            }
        }
        return theta;
    }

    private static void AssertMatches(double[] expected, ReadOnlySpan<float> actual, string what, double tolerance = Tolerance, double floor = 1)
    {
        Assert.Equal(expected.Length, actual.Length);
        int worst = -1;
        double worstError = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]) / Math.Max(Math.Abs(expected[i]), floor);
            if (!(error <= worstError) || double.IsNaN(error))
            {
                worst = i;
                worstError = double.IsNaN(error) ? double.PositiveInfinity : error;
            }
        }
        if (!(worstError <= tolerance))
        {
            throw new XunitException(
                $"{what}[{worst}] = {actual[worst]:R}, expected {expected[worst]:R} (relative error {worstError:G3} > {tolerance:G3}).");
        }
    }

    // ---- SGD ---------------------------------------------------------------------------------------------------

    public static TheoryData<string, float, float, float, bool, float> SgdOptions() => new()
    {
        // name, lr, momentum, dampening, nesterov, weight decay
        { "plain", 0.1f, 0f, 0f, false, 0f },
        { "weight decay", 0.1f, 0f, 0f, false, 0.05f },
        { "momentum", 0.1f, 0.9f, 0f, false, 0f },
        { "momentum with dampening", 0.1f, 0.9f, 0.3f, false, 0f },
        { "momentum with dampening and weight decay", 0.05f, 0.8f, 0.5f, false, 0.1f },
        { "nesterov", 0.1f, 0.9f, 0f, true, 0f },
        { "nesterov with weight decay", 0.1f, 0.9f, 0f, true, 0.05f },
    };

    [Theory]
    [MemberData(nameof(SgdOptions))]
    public void Sgd_follows_torch_optim_SGD(string name, float learningRate, float momentum, float dampening, bool nesterov, float weightDecay)
    {
        float[] parameters = Parameters();
        double[] expected = ReferenceSgd(parameters, t => Gradient(t), Steps, _ => learningRate, momentum, dampening, nesterov, weightDecay);
        var sgd = new Sgd(Length, learningRate, momentum, dampening, nesterov, weightDecay);
        for (int t = 1; t <= Steps; t++) sgd.Step(parameters, Gradient(t));
        Assert.Equal(Steps, sgd.StepCount);
        AssertMatches(expected, parameters, $"SGD ({name}) parameters");
    }

    [Fact]
    public void Sgd_reads_the_learning_rate_at_every_step()
    {
        float[] parameters = Parameters();
        static double Schedule(int t) => 0.2 * Math.Pow(0.5, t - 1);
        double[] expected = ReferenceSgd(parameters, t => Gradient(t), Steps, Schedule, 0.9, 0, false, 0);
        var sgd = new Sgd(Length, 0.2f, momentum: 0.9f);
        for (int t = 1; t <= Steps; t++)
        {
            sgd.LearningRate = (float)Schedule(t);
            sgd.Step(parameters, Gradient(t));
        }
        AssertMatches(expected, parameters, "SGD with a schedule");
    }

    [Fact]
    public void Sgd_rejects_nesterov_without_momentum_or_with_dampening()
    {
        Assert.Throws<ArgumentException>("nesterov", () => new Sgd(Length, 0.1f, nesterov: true));
        Assert.Throws<ArgumentException>("nesterov", () => new Sgd(Length, 0.1f, momentum: 0.9f, dampening: 0.1f, nesterov: true));
        _ = new Sgd(Length, 0.1f, momentum: 0.9f, nesterov: true);
    }

    [Fact]
    public void Step_rejects_buffers_of_another_length()
    {
        var adam = new Adam(Length);
        Assert.Throws<ArgumentException>(() => adam.Step(new float[Length + 1], new float[Length + 1]));
        Assert.Throws<ArgumentException>(() => adam.Step(new float[Length], new float[Length - 1]));
        Assert.Equal(0, adam.StepCount);
    }

    // ---- Adam / AdamW ------------------------------------------------------------------------------------------

    public static TheoryData<string, bool, float, float, float, float, float, float> AdamOptions() => new()
    {
        // name, decoupled (AdamW), lr, beta1, beta2, epsilon, weight decay, gradient scale
        { "Adam defaults", false, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1f },
        { "Adam large lr", false, 0.05f, 0.9f, 0.999f, 1e-8f, 0f, 1f },
        { "Adam betas", false, 0.05f, 0.8f, 0.95f, 1e-6f, 0f, 1f },
        { "Adam weight decay", false, 0.05f, 0.9f, 0.999f, 1e-8f, 0.1f, 1f },
        // ε comparable to √v̂: its place (after the bias correction of √v) matters.
        { "Adam epsilon comparable to gradients", false, 0.05f, 0.9f, 0.999f, 1e-3f, 0f, 1e-3f },
        { "AdamW", true, 0.05f, 0.9f, 0.999f, 1e-8f, 0.1f, 1f },
        { "AdamW betas and epsilon", true, 0.05f, 0.8f, 0.95f, 1e-3f, 0.5f, 1e-3f },
    };

    [Theory]
    [MemberData(nameof(AdamOptions))]
    public void Adam_and_AdamW_follow_torch_optim(string name, bool decoupled, float learningRate, float beta1, float beta2,
        float epsilon, float weightDecay, float gradientScale)
    {
        float[] parameters = Parameters();
        double[] expected = ReferenceAdam(parameters, t => Gradient(t, gradientScale), Steps, _ => learningRate,
            beta1, beta2, epsilon, weightDecay, decoupled);
        Adam adam = decoupled
            ? new AdamW(Length, learningRate, beta1, beta2, epsilon, weightDecay)
            : new Adam(Length, learningRate, beta1, beta2, epsilon, weightDecay);
        Assert.Equal(decoupled, adam.DecoupledWeightDecay);
        for (int t = 1; t <= Steps; t++) adam.Step(parameters, Gradient(t, gradientScale));
        AssertMatches(expected, parameters, $"{name} parameters");
    }

    [Fact]
    public void AdamW_defaults_are_pytorchs()
    {
        var adamW = new AdamW(Length);
        Assert.Equal(1e-3f, adamW.LearningRate);
        Assert.Equal(0.9f, adamW.Beta1);
        Assert.Equal(0.999f, adamW.Beta2);
        Assert.Equal(1e-8f, adamW.Epsilon);
        Assert.Equal(1e-2f, adamW.WeightDecay);
        var adam = new Adam(Length);
        Assert.Equal(0f, adam.WeightDecay);
        Assert.False(adam.DecoupledWeightDecay);

        float[] parameters = Parameters();
        double[] expected = ReferenceAdam(parameters, t => Gradient(t), Steps, _ => 1e-3, 0.9, 0.999, 1e-8, 1e-2, decoupled: true);
        for (int t = 1; t <= Steps; t++) adamW.Step(parameters, Gradient(t));
        AssertMatches(expected, parameters, "AdamW with defaults");
    }

    [Fact]
    public void Adam_reads_the_learning_rate_at_every_step()
    {
        float[] parameters = Parameters();
        static double Schedule(int t) => 0.1 / t;
        double[] expected = ReferenceAdam(parameters, t => Gradient(t), Steps, Schedule, 0.9, 0.999, 1e-8, 0.1, decoupled: true);
        var adamW = new AdamW(Length, 0.1f, weightDecay: 0.1f);
        for (int t = 1; t <= Steps; t++)
        {
            adamW.LearningRate = (float)Schedule(t);
            adamW.Step(parameters, Gradient(t));
        }
        AssertMatches(expected, parameters, "AdamW with a schedule");
    }

    // ---- Gradient clipping -------------------------------------------------------------------------------------

    private static double Norm(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += (double)v * v;
        return Math.Sqrt(sum);
    }

    [Theory]
    [InlineData(3f)]
    [InlineData(1e-4f)]   // norm ≈ 3.5e-4: the + 1e-6 changes the coefficient by ~3e-3
    public void ClipByNorm_scales_by_max_norm_over_norm_plus_1e_6_when_above(float scale)
    {
        float[] gradients = Gradient(1, scale);
        float[] original = [.. gradients];
        double norm = Norm(gradients);
        double maxNorm = norm / 2;

        float returned = GradientClipping.ClipByNorm(gradients, (float)maxNorm);

        Assert.True(Math.Abs(returned - norm) <= 1e-6 * norm, $"returned norm {returned:R}, expected {norm:R}");
        double coefficient = (float)maxNorm / (norm + 1e-6);   // torch: max_norm / (total_norm + 1e-6)
        AssertMatches([.. original.Select(g => g * coefficient)], gradients, "clipped gradients", floor: 1e-30);
        double clippedNorm = norm * coefficient;   // just below max_norm
        Assert.True(Math.Abs(Norm(gradients) - clippedNorm) <= 1e-6 * clippedNorm, $"norm after clipping {Norm(gradients):R}, expected {clippedNorm:R}");
    }

    [Fact]
    public void ClipByNorm_leaves_gradients_below_the_limit_unchanged()
    {
        float[] gradients = Gradient(2, 0.5f);
        float[] original = [.. gradients];
        double norm = Norm(gradients);

        float returned = GradientClipping.ClipByNorm(gradients, (float)(2 * norm));

        Assert.True(Math.Abs(returned - norm) <= 1e-6 * norm, $"returned norm {returned:R}, expected {norm:R}");
        TestHelpers.AssertBitEqual(original, gradients, "gradients below max_norm");
    }

    [Fact]
    public void ClipByNorm_of_zero_gradients_returns_zero_and_changes_nothing()
    {
        var gradients = new float[Length];
        Assert.Equal(0f, GradientClipping.ClipByNorm(gradients, 1f));
        Assert.All(gradients, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void ClipByValue_clamps_each_gradient_to_plus_minus_clip()
    {
        float[] gradients = Gradient(3, 2f);
        float[] original = [.. gradients];
        const float clip = 0.75f;
        Assert.Contains(original, g => g > clip);
        Assert.Contains(original, g => g < -clip);
        Assert.Contains(original, g => Math.Abs(g) < clip);

        GradientClipping.ClipByValue(gradients, clip);

        for (int i = 0; i < Length; i++)
        {
            float expected = original[i] > clip ? clip : original[i] < -clip ? -clip : original[i];
            Assert.Equal(expected, gradients[i]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByValue(gradients, -1f));
    }

    // ---- Optimiser state ---------------------------------------------------------------------------------------

    private static Optimizer Create(string kind, int length = Length) => kind switch
    {
        "adam" => new Adam(length, 0.05f, 0.8f, 0.95f, 1e-6f, 0.01f),
        "adamw" => new AdamW(length, 0.05f, weightDecay: 0.1f),
        "sgd-momentum" => new Sgd(length, 0.1f, momentum: 0.9f, dampening: 0.2f, weightDecay: 0.01f),
        "sgd-nesterov" => new Sgd(length, 0.1f, momentum: 0.9f, nesterov: true),
        "sgd" => new Sgd(length, 0.1f),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static byte[] State(Optimizer optimizer)
    {
        using var stream = new MemoryStream();
        optimizer.SaveState(stream);
        return stream.ToArray();
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adamw")]
    [InlineData("sgd-momentum")]
    [InlineData("sgd-nesterov")]
    public void Restored_optimizer_continues_bit_identically(string kind)
    {
        float[] running = Parameters();
        Optimizer uninterrupted = Create(kind);
        for (int t = 1; t <= 3; t++) uninterrupted.Step(running, Gradient(t));

        byte[] saved = State(uninterrupted);
        float[] restoredParameters = [.. running];
        Optimizer restored = Create(kind);
        using (var stream = new MemoryStream(saved)) restored.LoadState(stream);
        Assert.Equal(uninterrupted.StepCount, restored.StepCount);

        for (int t = 4; t <= 8; t++)
        {
            uninterrupted.Step(running, Gradient(t));
            restored.Step(restoredParameters, Gradient(t));
        }
        TestHelpers.AssertBitEqual(running, restoredParameters, $"{kind} parameters after restoring");
        Assert.Equal(State(uninterrupted), State(restored));
    }

    public static TheoryData<string, string, int> MismatchedStates() => new()
    {
        // state from (kind, length) loaded into the kind of the first column with Length parameters
        { "adam", "sgd-momentum", Length },
        { "sgd-momentum", "adam", Length },
        { "adam", "adamw", Length },
        { "adamw", "adam", Length },
        { "adam", "adam", Length + 1 },
        { "adam", "adam", Length - 1 },
        { "sgd-momentum", "sgd-momentum", Length + 1 },
        { "sgd-momentum", "sgd", Length },
    };

    [Theory]
    [MemberData(nameof(MismatchedStates))]
    public void Loading_a_state_of_another_kind_or_size_throws_and_changes_nothing(string kind, string savedKind, int savedLength)
    {
        Optimizer source = Create(savedKind, savedLength);
        var sourceParameters = new float[savedLength];
        for (int t = 1; t <= 4; t++) source.Step(sourceParameters, TestHelpers.RandomValues(savedLength, seed: 500 + t));
        byte[] foreign = State(source);

        float[] parameters = Parameters();
        float[] twinParameters = [.. parameters];
        Optimizer target = Create(kind), twin = Create(kind);
        for (int t = 1; t <= 2; t++)
        {
            target.Step(parameters, Gradient(t));
            twin.Step(twinParameters, Gradient(t));
        }
        byte[] before = State(target);

        using (var stream = new MemoryStream(foreign))
        {
            Assert.Throws<SafetensorsException>(() => target.LoadState(stream));
        }

        Assert.Equal(2, target.StepCount);
        Assert.Equal(before, State(target));
        for (int t = 3; t <= 5; t++)
        {
            target.Step(parameters, Gradient(t));
            twin.Step(twinParameters, Gradient(t));
        }
        TestHelpers.AssertBitEqual(twinParameters, parameters, $"{kind} after a rejected load");
    }

    [Fact]
    public void Loading_garbage_throws_SafetensorsException_and_changes_nothing()
    {
        Optimizer adam = Create("adam");
        float[] parameters = Parameters();
        adam.Step(parameters, Gradient(1));
        byte[] before = State(adam);
        using (var stream = new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))
        {
            Assert.Throws<SafetensorsException>(() => adam.LoadState(stream));
        }
        Assert.Equal(before, State(adam));
    }

    /// <summary>The state of <paramref name="kind"/> after three steps, as SaveState writes it.</summary>
    private static byte[] SavedState(string kind)
    {
        Optimizer source = Create(kind);
        float[] parameters = Parameters();
        for (int t = 1; t <= 3; t++) source.Step(parameters, Gradient(t));
        return State(source);
    }

    /// <summary>
    /// A state file of <paramref name="kind"/> with the metadata and tensors given (tensors from <see cref="SavedState"/>
    /// when <paramref name="tensors"/> is null), written by SafetensorsWriter.
    /// </summary>
    private static byte[] StateFile(string kind, IEnumerable<(string Key, string Value)> metadata,
        Func<List<(string Name, long[] Shape, float[] Values)>, List<(string Name, long[] Shape, float[] Values)>>? tensors = null)
    {
        SafetensorsFile saved = SafetensorsFile.Parse(SavedState(kind));
        List<(string Name, long[] Shape, float[] Values)> list =
            [.. saved.Tensors.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => (t.Name, t.Shape.ToArray(), t.ToFloatArray()))];
        var writer = new SafetensorsWriter();
        foreach ((string key, string value) in metadata) writer.AddMetadata(key, value);
        foreach ((string name, long[] shape, float[] values) in tensors?.Invoke(list) ?? list) writer.Add(name, shape, values);
        return Written(writer);
    }

    private static (string, string)[] Metadata(string kind, string step = "3") =>
        [("optimizer", Create(kind).GetType().Name), ("step", step)];

    /// <summary>Loading <paramref name="file"/> into a <paramref name="kind"/> optimiser that took two steps throws naming the problem, and the optimiser goes on as if it had not been tried.</summary>
    private static void AssertRejectedAndUnchanged(string kind, byte[] file, params string[] message)
    {
        float[] parameters = Parameters();
        float[] twinParameters = [.. parameters];
        Optimizer target = Create(kind), twin = Create(kind);
        for (int t = 1; t <= 2; t++)
        {
            target.Step(parameters, Gradient(t));
            twin.Step(twinParameters, Gradient(t));
        }
        byte[] before = State(target);

        SafetensorsException e;
        using (var stream = new MemoryStream(file)) e = Assert.Throws<SafetensorsException>(() => target.LoadState(stream));
        foreach (string part in message)
        {
            Assert.True(e.Message.Contains(part, StringComparison.Ordinal), $"message lacks \"{part}\": {e.Message}");
        }

        Assert.Equal(2, target.StepCount);
        Assert.Equal(before, State(target));
        for (int t = 3; t <= 4; t++)
        {
            target.Step(parameters, Gradient(t));
            twin.Step(twinParameters, Gradient(t));
        }
        TestHelpers.AssertBitEqual(twinParameters, parameters, $"{kind} after a rejected load");
    }

    /// <summary>
    /// Steps beyond 2^53 are refused: long.MaxValue would wrap on the next step and turn every parameter into
    /// NaN. Text other than plain decimal digits is refused too, though long.TryParse would take a sign or spaces.
    /// </summary>
    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("9223372036854775808")]
    [InlineData("9007199254740993")]
    [InlineData("-1")]
    [InlineData("+3")]
    [InlineData(" 3")]
    [InlineData("3 ")]
    [InlineData("3.0")]
    [InlineData("1e3")]
    [InlineData("0x10")]
    [InlineData("")]
    [InlineData("٣")]
    public void Loading_a_state_with_an_invalid_step_throws_naming_the_field_and_the_limit(string step) =>
        AssertRejectedAndUnchanged("adam", StateFile("adam", Metadata("adam", step)), "'step'", $"'{step}'", "9007199254740992");

    [Fact]
    public void Loading_a_state_without_a_step_throws_naming_the_field() =>
        AssertRejectedAndUnchanged("adam", StateFile("adam", [("optimizer", "Adam")]), "'step' is missing");

    [Fact]
    public void Step_count_of_2_to_the_53_loads_and_the_next_steps_stay_finite()
    {
        var adam = (Adam)Create("adam");
        using (var stream = new MemoryStream(StateFile("adam", Metadata("adam", "9007199254740992")))) adam.LoadState(stream);
        Assert.Equal(1L << 53, adam.StepCount);
        float[] parameters = Parameters();
        for (int t = 1; t <= 3; t++) adam.Step(parameters, Gradient(t));
        Assert.Equal((1L << 53) + 3, adam.StepCount);
        Assert.All(parameters, value => Assert.True(float.IsFinite(value), $"{value}"));
    }

    /// <summary>Each way the tensors of a state can be wrong, with the parts the message must name.</summary>
    public static TheoryData<string, string, string[]> BadStateTensors() => new()
    {
        { "adam", "row_shape", ["'exp_avg'", "F32 [1, 37]", "expected F32 [37]"] },
        { "adam", "column_shape", ["'exp_avg_sq'", "F32 [37, 1]", "expected F32 [37]"] },
        { "adam", "i32", ["'exp_avg'", "I32 [37]", "expected F32 [37]"] },
        { "adam", "missing", ["lacks tensor 'exp_avg_sq'"] },
        { "adam", "extra", ["unexpected tensor 'stray' F32 [37]", "keeps 'exp_avg', 'exp_avg_sq'"] },
        { "adam", "nan_first", ["'exp_avg'", "element 0", "NaN", "finite"] },
        { "adam", "infinity_last", ["'exp_avg_sq'", "element 36", "Infinity", "finite"] },
        { "adam", "negative_last", ["'exp_avg_sq'", "element 36", "-1E-30", ">= 0"] },
        { "adamw", "negative_last", ["'exp_avg_sq'", "element 36", ">= 0"] },
        { "sgd-momentum", "nan_first", ["'momentum_buffer'", "element 0", "NaN"] },
        { "sgd-momentum", "infinity_last", ["'momentum_buffer'", "element 36", "Infinity"] },
        { "sgd-momentum", "extra", ["unexpected tensor 'stray'", "keeps 'momentum_buffer'"] },
        { "sgd", "extra", ["unexpected tensor 'stray'", "Sgd keeps none"] },
    };

    [Theory]
    [MemberData(nameof(BadStateTensors))]
    public void Loading_a_state_with_a_bad_tensor_throws_naming_it_and_changes_nothing(string kind, string flaw, string[] message)
    {
        byte[] file = flaw == "i32"
            ? Written(new SafetensorsWriter().AddMetadata("optimizer", "Adam").AddMetadata("step", "3")
                .Add("exp_avg", [Length], new int[Length]).Add("exp_avg_sq", [Length], new float[Length]))
            : StateFile(kind, Metadata(kind), tensors => flaw switch
            {
                "row_shape" => [.. tensors.Select(t => t.Name == "exp_avg" ? (t.Name, new long[] { 1, Length }, t.Values) : t)],
                "column_shape" => [.. tensors.Select(t => t.Name == "exp_avg_sq" ? (t.Name, new long[] { Length, 1 }, t.Values) : t)],
                "missing" => [.. tensors.Where(t => t.Name != "exp_avg_sq")],
                "extra" => [.. tensors, ("stray", [Length], new float[Length])],
                "nan_first" => Set(tensors, 0, 0, float.NaN),
                "infinity_last" => Set(tensors, tensors.Count - 1, Length - 1, float.PositiveInfinity),
                "negative_last" => Set(tensors, tensors.Count - 1, Length - 1, -1e-30f),
                _ => throw new ArgumentOutOfRangeException(nameof(flaw), flaw, null),
            });
        AssertRejectedAndUnchanged(kind, file, message);
    }

    private static List<(string Name, long[] Shape, float[] Values)> Set(List<(string Name, long[] Shape, float[] Values)> tensors,
        int tensor, int element, float value)
    {
        tensors[tensor].Values[element] = value;
        return tensors;
    }

    private static byte[] Written(SafetensorsWriter writer)
    {
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }

    [Fact]
    public void Loading_a_state_with_unexpected_metadata_throws_naming_the_entry() =>
        AssertRejectedAndUnchanged("adam", StateFile("adam", [.. Metadata("adam"), ("lr", "0.1")]), "unexpected __metadata__ entry 'lr'");

    /// <summary>Escapes that decode to lone surrogates in the state's metadata: JsonElement.GetString throws InvalidOperationException on them.</summary>
    [Theory]
    [InlineData("\"step\":\"3\"", "\"step\":\"\\ud800\"", "__metadata__ entry 'step'")]
    [InlineData("\"optimizer\":\"Adam\"", "\"optimizer\":\"Ad\\udc00am\"", "__metadata__ entry 'optimizer'")]
    [InlineData("\"step\":\"3\"", "\"st\\ud800ep\":\"3\"", "__metadata__ key")]
    public void Loading_a_state_with_a_lone_surrogate_escape_throws_SafetensorsException(string from, string to, string where)
    {
        byte[] saved = StateFile("adam", Metadata("adam"));
        int headerLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(saved);
        string header = System.Text.Encoding.UTF8.GetString(saved, 8, headerLength);
        Assert.Contains(from, header, StringComparison.Ordinal);
        byte[] json = System.Text.Encoding.UTF8.GetBytes(header.Replace(from, to, StringComparison.Ordinal));
        byte[] file = [.. new byte[8], .. json, .. saved.AsSpan(8 + headerLength)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        AssertRejectedAndUnchanged("adam", file, where, "surrogate");
    }

    // ---- Losses ------------------------------------------------------------------------------------------------

    [Fact]
    public void MeanSquaredError_matches_the_double_formula()
    {
        float[] prediction = TestHelpers.RandomValues(Length, seed: 21);
        float[] target = [.. TestHelpers.RandomValues(Length, seed: 22).Select(v => 2 * v)];
        var gradient = new float[Length];

        float loss = Losses.MeanSquaredError(prediction, target, gradient);

        double expectedLoss = prediction.Zip(target, (p, y) => ((double)p - y) * ((double)p - y)).Sum() / Length;
        double[] expectedGradient = [.. prediction.Zip(target, (p, y) => 2 * ((double)p - y) / Length)];
        AssertMatches([expectedLoss], [loss], "mse loss", floor: 1e-30);
        AssertMatches(expectedGradient, gradient, "mse gradient", floor: 1e-30);
    }

    [Fact]
    public void MeanSquaredError_rejects_mismatched_lengths()
    {
        Assert.Throws<ArgumentException>("target", () => Losses.MeanSquaredError(new float[3], new float[4], new float[3]));
        Assert.Throws<ArgumentException>("gradient", () => Losses.MeanSquaredError(new float[3], new float[3], new float[2]));
    }

    /// <summary>Double-precision cross-entropy: mean over rows of logsumexp − logit[target], gradient (softmax − onehot)/N.</summary>
    private static (double Loss, double[] Gradient) ReferenceCrossEntropy(float[] logits, int classes, int[] targets)
    {
        int rows = targets.Length;
        var gradient = new double[logits.Length];
        double total = 0;
        for (int n = 0; n < rows; n++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = Math.Max(max, logits[n * classes + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(logits[n * classes + c] - max);
            double logSumExp = max + Math.Log(sum);
            total += logSumExp - logits[n * classes + targets[n]];
            for (int c = 0; c < classes; c++)
            {
                gradient[n * classes + c] = (Math.Exp(logits[n * classes + c] - logSumExp) - (c == targets[n] ? 1 : 0)) / rows;
            }
        }
        return (total / rows, gradient);
    }

    [Fact]
    public void CrossEntropy_matches_the_double_formula()
    {
        const int rows = 9, classes = 5;
        float[] logits = [.. TestHelpers.RandomValues(rows * classes, seed: 31).Select(v => 4 * v)];
        int[] targets = [.. Enumerable.Range(0, rows).Select(n => (n * 3 + 1) % classes)];
        var gradient = new float[logits.Length];

        float loss = Losses.CrossEntropy(logits, classes, targets, gradient);

        (double expectedLoss, double[] expectedGradient) = ReferenceCrossEntropy(logits, classes, targets);
        AssertMatches([expectedLoss], [loss], "cross-entropy loss", floor: 1e-30);
        // The target entries are p − 1 (cancellation near p = 1): measured against 1/N, the scale of the entries.
        AssertMatches(expectedGradient, gradient, "cross-entropy gradient", floor: 1.0 / rows);
        for (int n = 0; n < rows; n++)
        {
            Assert.True(Math.Abs(gradient.AsSpan(n * classes, classes).ToArray().Sum()) <= 1e-7, $"row {n}: the gradient of a softmax row must sum to 0");
        }
    }

    [Fact]
    public void CrossEntropy_with_large_logits_stays_finite()
    {
        const int classes = 4;
        float[] logits =
        [
            1000f, 0f, -1000f, 999f,
            1000f, 1000f, 1000f, 1000f,
            -1000f, -1000f, -999f, -1000f,
            3e4f, -3e4f, 0f, 1f,
        ];
        int[] targets = [3, 1, 0, 1];
        var gradient = new float[logits.Length];

        float loss = Losses.CrossEntropy(logits, classes, targets, gradient);

        Assert.True(float.IsFinite(loss), $"loss {loss}");
        Assert.All(gradient, g => Assert.True(float.IsFinite(g), $"gradient {g}"));
        (double expectedLoss, double[] expectedGradient) = ReferenceCrossEntropy(logits, classes, targets);
        AssertMatches([expectedLoss], [loss], "cross-entropy loss with large logits", floor: 1e-30);
        AssertMatches(expectedGradient, gradient, "cross-entropy gradient with large logits", floor: 0.25);
    }

    [Theory]
    [InlineData(2, 5)]
    [InlineData(0, -1)]
    [InlineData(3, 1000)]
    public void CrossEntropy_with_a_target_out_of_range_names_the_index(int index, int badTarget)
    {
        const int classes = 5;
        int[] targets = [0, 4, 2, 1];
        targets[index] = badTarget;
        var logits = new float[targets.Length * classes];
        var gradient = new float[logits.Length];

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.CrossEntropy(logits, classes, targets, gradient));

        Assert.Equal("targets", error.ParamName);
        Assert.Contains($"targets[{index}]", error.Message, StringComparison.Ordinal);
        Assert.Contains(badTarget.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }
}
