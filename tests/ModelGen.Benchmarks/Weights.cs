namespace ModelGen.Benchmarks;

/// <summary>
/// The one place that makes the weights and data of every benchmark: a model's parameters are PyTorch's default
/// initialisation from a fixed seed (or a bench file), inputs are uniform in [−1, 1) from a seeded SplitMix64,
/// and every peer receives exactly these floats, by PyTorch name.
/// </summary>
public static class Weights
{
    /// <summary>A model with PyTorch's default initialisation drawn from <paramref name="seed"/>.</summary>
    public static TModel Seeded<TModel>(ulong seed) where TModel : IRecurrentModel, new()
    {
        var model = new TModel();
        model.InitializeParameters(seed);
        return model;
    }

    /// <summary>A model loaded from <c>data/{file}.safetensors</c>.</summary>
    public static TModel FromBenchFile<TModel>(BenchCase bench) where TModel : IRecurrentModel, new()
    {
        var model = new TModel();
        model.LoadSafetensors(bench.SafetensorsPath);
        return model;
    }

    /// <summary>n floats uniform in [−1, 1), from a seeded SplitMix64: the same on every run and machine.</summary>
    public static float[] Uniform(int n, ulong seed)
    {
        var values = new float[n];
        ulong state = seed;
        for (int i = 0; i < n; i++)
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            values[i] = (float)((z >> 40) * (1.0 / (1UL << 24)) * 2 - 1);
        }
        return values;
    }

    /// <summary>Layer <paramref name="layer"/>'s tensors in PyTorch layout, read from the model by name.</summary>
    public static LayerWeights Layer(IRecurrentModel model, int layer)
    {
        ArgumentNullException.ThrowIfNull(model);
        int gates = model.Cell switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => throw new NotSupportedException(model.Cell.ToString()) };
        float[] Get(string name) => model.GetParameter($"rnn.{name}_l{layer}").ToArray();
        return new LayerWeights(gates, layer == 0 ? model.InputSize : model.HiddenSize, model.HiddenSize,
            Get("weight_ih"), Get("weight_hh"), Get("bias_ih"), Get("bias_hh"));
    }

    /// <summary>head.weight <c>[O, H]</c> and head.bias <c>[O]</c>, or nulls when the model has no head.</summary>
    public static (float[]? Weight, float[]? Bias) Head(IRecurrentModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.OutputSize == 0 ? (null, null) : (model.GetParameter("head.weight").ToArray(), model.GetParameter("head.bias").ToArray());
    }
}

/// <summary>One recurrent layer's tensors in PyTorch layout: weight_ih <c>[G·H, K]</c>, weight_hh <c>[G·H, H]</c>, the two biases <c>[G·H]</c>.</summary>
public sealed record LayerWeights(int Gates, int Input, int Hidden, float[] Wih, float[] Whh, float[] Bih, float[] Bhh);

/// <summary>
/// A float64 evaluation of a model's layers and head, PyTorch's equations written out, one sequence at a time: the
/// reference that ModelGen and every peer are checked against when there is no PyTorch output in a file.
/// </summary>
public sealed class Reference
{
    private readonly LayerWeights[] _layers;
    private readonly float[]? _headWeight, _headBias;
    private readonly double[][] _h, _c;

    /// <summary>The model's parameters as they are now.</summary>
    public Reference(IRecurrentModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _layers = [.. Enumerable.Range(0, model.NumLayers).Select(l => Weights.Layer(model, l))];
        (_headWeight, _headBias) = Weights.Head(model);
        _h = [.. _layers.Select(w => new double[w.Hidden])];
        _c = [.. _layers.Select(w => new double[w.Hidden])];
    }

    private int Hidden => _layers[^1].Hidden;

    /// <summary>Zeros the state.</summary>
    public void Reset()
    {
        foreach (double[] h in _h) Array.Clear(h);
        foreach (double[] c in _c) Array.Clear(c);
    }

    /// <summary>One step of one sequence through every layer; returns the top layer's h.</summary>
    public double[] Step(ReadOnlySpan<float> x)
    {
        double[] input = [.. x.ToArray().Select(v => (double)v)];
        for (int l = 0; l < _layers.Length; l++)
        {
            StepLayer(_layers[l], input, _h[l], _c[l]);
            input = _h[l];
        }
        return input;
    }

    /// <summary>head(h) of the top layer's state.</summary>
    public float[] Head()
    {
        if (_headWeight is null || _headBias is null) throw new InvalidOperationException("The model has no head.");
        int outputs = _headBias.Length, hidden = Hidden;
        var y = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = _headBias[o];
            for (int k = 0; k < hidden; k++) sum += (double)_headWeight[o * hidden + k] * _h[^1][k];
            y[o] = (float)sum;
        }
        return y;
    }

    /// <summary>From a zero state, <paramref name="steps"/> steps over <paramref name="inputs"/> (a ring of rows of I): every step's h, or head(h).</summary>
    public float[] Trace(ReadOnlySpan<float> inputs, int inputSize, int steps, bool head)
    {
        Reset();
        int rows = inputs.Length / inputSize, width = head ? _headBias!.Length : Hidden;
        var trace = new float[steps * width];
        for (int t = 0; t < steps; t++)
        {
            double[] h = Step(inputs.Slice(t % rows * inputSize, inputSize));
            if (head) Head().CopyTo(trace, t * width);
            else for (int k = 0; k < width; k++) trace[t * width + k] = (float)h[k];
        }
        Reset();
        return trace;
    }

    /// <summary>head(output[b, −1]) of sequence <paramref name="b"/> of <paramref name="input"/> <c>[B, T, I]</c>, from a zero state.</summary>
    public float[] PredictLast(ReadOnlySpan<float> input, int batch, int b)
    {
        int steps = input.Length / batch / _layers[0].Input;
        return Trace(input.Slice(b * steps * _layers[0].Input, steps * _layers[0].Input), _layers[0].Input, steps, head: true)[^_headBias!.Length..];
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static void StepLayer(LayerWeights w, double[] x, double[] h, double[] c)
    {
        int hidden = w.Hidden;
        double Gate(int row, bool withHidden = true, bool hiddenOnly = false)
        {
            double sum = 0;
            if (!hiddenOnly)
            {
                sum = w.Bih[row];
                for (int k = 0; k < w.Input; k++) sum += (double)w.Wih[row * w.Input + k] * x[k];
            }
            if (withHidden)
            {
                sum += w.Bhh[row];
                for (int k = 0; k < hidden; k++) sum += (double)w.Whh[row * hidden + k] * h[k];
            }
            return sum;
        }
        var next = new double[hidden];
        for (int j = 0; j < hidden; j++)
        {
            if (w.Gates == 4)
            {
                double i = Sigmoid(Gate(j)), f = Sigmoid(Gate(hidden + j)), g = Math.Tanh(Gate(2 * hidden + j)), o = Sigmoid(Gate(3 * hidden + j));
                c[j] = f * c[j] + i * g;
                next[j] = o * Math.Tanh(c[j]);
            }
            else
            {
                double r = Sigmoid(Gate(j)), z = Sigmoid(Gate(hidden + j));
                double n = Math.Tanh(Gate(2 * hidden + j, withHidden: false) + r * Gate(2 * hidden + j, hiddenOnly: true));
                next[j] = (1 - z) * n + z * h[j];
            }
        }
        next.CopyTo(h, 0);
    }
}
