using System.Reflection;

namespace ModelGen.Generator.Tests;

/// <summary>
/// The recurrent state of a graph's forward calls: a sequence run in two halves with the state carried from the
/// first into the second gives what the whole sequence gives, and the gradients of the initial and final state
/// (what an encoder–decoder bridge and truncated backpropagation through time need) match finite differences.
/// </summary>
public class GraphStateTests
{
    /// <summary>An LSTM (with c) feeding a GRU of another size: the state holds three tensors of two modules.</summary>
    private const string Declaration = """
        using ModelGen;

        [SequenceModel]
        public partial class StateModel
        {
            [Lstm(InputSize = 3, HiddenSize = 5, NumLayers = 2)] public partial Lstm First { get; }
            [Gru(InputSize = 5, HiddenSize = 4)] public partial Gru Second { get; }
            [Linear(InFeatures = 4, OutFeatures = 2)] public partial Linear Head { get; }
        }
        """;

    private const int Batch = 2, Steps = 6, Input = 3, Output = 2;

    private static readonly Lazy<Type> Model = new(() => GeneratorHarness.CompileAndLoad(Declaration).GetType("StateModel", throwOnError: true)!);

    private static IFeatureSequenceModel Create()
    {
        var model = (IFeatureSequenceModel)Activator.CreateInstance(Model.Value)!;
        model.InitializeParameters(3);
        return model;
    }

    private static float[] Random(int length, ulong seed)
    {
        var random = new SplitMix64(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = random.NextUniform(-1, 1);
        return values;
    }

    [Fact]
    public void The_state_size_counts_every_module_h_and_c()
    {
        IFeatureSequenceModel model = Create();
        // LSTM: h_n and c_n [2, B, 5]; GRU: h_n [1, B, 4].
        Assert.Equal(2 * 5 + 2 * 5 + 4, model.RecurrentStateSize);
    }

    [Fact]
    public void Carrying_the_state_across_two_halves_equals_the_whole_sequence()
    {
        IFeatureSequenceModel model = Create();
        float[] input = Random(Batch * Steps * Input, 1);
        var whole = new float[Batch * Steps * Output];
        var wholeState = new float[model.RecurrentStateSize * Batch];
        model.Forward(input, Batch, whole, finalState: wholeState);

        int half = Steps / 2;
        float[] first = new float[Batch * half * Input], second = new float[Batch * half * Input];
        for (int b = 0; b < Batch; b++)
        {
            input.AsSpan((b * Steps) * Input, half * Input).CopyTo(first.AsSpan(b * half * Input));
            input.AsSpan((b * Steps + half) * Input, half * Input).CopyTo(second.AsSpan(b * half * Input));
        }
        var state = new float[model.RecurrentStateSize * Batch];
        var output = new float[Batch * half * Output];
        model.Forward(first, Batch, output, finalState: state);
        // The same span as initial and final state: the state is carried on in place.
        model.Forward(second, Batch, output, initialState: state, finalState: state);
        for (int b = 0; b < Batch; b++)
        {
            Assert.Equal(whole.AsSpan((b * Steps + half) * Output, half * Output).ToArray(), output.AsSpan(b * half * Output, half * Output).ToArray());
        }
        Assert.Equal(wholeState, state);
    }

    /// <summary>
    /// L = Σ y·dy + Σ finalState·u as a function of the initial state: Backward with dy and u must give dL/d(initial
    /// state), checked by central differences of the float32 forward (ε = 1e-2, summed in double). The tolerance is
    /// the one <see cref="FiniteDifferenceTests"/> argues for these smooth cells: 2e-3 + 2e-2·|g|.
    /// </summary>
    [Fact]
    public void State_gradients_match_finite_differences()
    {
        IFeatureSequenceModel model = Create();
        int stateLength = model.RecurrentStateSize * Batch;
        float[] input = Random(Batch * Steps * Input, 5), initial = Random(stateLength, 6);
        float[] dy = Random(Batch * Steps * Output, 7), u = Random(stateLength, 8);

        var output = new float[Batch * Steps * Output];
        var final = new float[stateLength];
        model.ZeroGradients();
        model.TrainForward(input, Batch, output, initialState: initial, finalState: final);
        var initialGradient = new float[stateLength];
        model.Backward(dy, finalStateGradient: u, initialStateGradient: initialGradient);

        double Loss(float[] state)
        {
            var y = new float[output.Length];
            var f = new float[stateLength];
            model.Forward(input, Batch, y, initialState: state, finalState: f);
            double loss = 0;
            for (int i = 0; i < y.Length; i++) loss += (double)y[i] * dy[i];
            for (int i = 0; i < f.Length; i++) loss += (double)f[i] * u[i];
            return loss;
        }

        const float Epsilon = 1e-2f;
        int significant = 0;
        for (int i = 0; i < stateLength; i++)
        {
            float[] plus = (float[])initial.Clone(), minus = (float[])initial.Clone();
            plus[i] += Epsilon;
            minus[i] -= Epsilon;
            double difference = (Loss(plus) - Loss(minus)) / (2 * Epsilon);
            double bound = 2e-3 + 2e-2 * Math.Abs(initialGradient[i]);
            Assert.True(Math.Abs(difference - initialGradient[i]) <= bound,
                $"dL/d(initial state)[{i}]: finite difference {difference:R}, Backward {initialGradient[i]:R}");
            if (Math.Abs(difference) > 2e-3) significant++;
        }
        // Every module's state reaches the loss: most coordinates have a gradient well above the tolerance.
        Assert.True(significant >= stateLength / 2, $"only {significant} of {stateLength} coordinates are significant");
    }
}
