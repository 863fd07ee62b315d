using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Xunit.Sdk;

namespace ModelGen.Tests;

/// <summary>Small helpers shared by the runtime tests: seeded data and exact or close comparisons.</summary>
internal static class TestHelpers
{
    /// <summary>Uniform values in [-1, 1) from a seeded generator.</summary>
    public static float[] RandomValues(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>Fails at the first index whose float bit patterns differ.</summary>
    public static void AssertBitEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what = "values")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                throw new XunitException($"{what}[{i}] = {actual[i]:R}, expected bit-identical {expected[i]:R}.");
            }
        }
    }

    /// <summary>Fails at the first index where |actual − expected| exceeds <paramref name="tolerance"/>.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what = "values")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            if (!(error <= tolerance))
            {
                throw new XunitException($"{what}[{i}] = {actual[i]:R}, expected {expected[i]:R} (error {error:G3} > {tolerance:G3}).");
            }
        }
    }

    /// <summary>Both spans start at the same address and have the same length: one is a view of the other.</summary>
    /// <summary>
    /// The writable span over the same floats as <paramref name="view"/>, a read-only slice of the model's parameters
    /// (a named accessor or GetParameter), through <see cref="ITrainableModel.EditParameters"/>: a test writes one
    /// tensor as a user would, and the model knows its parameters changed.
    /// </summary>
    public static Span<float> Writable(ITrainableModel model, ReadOnlySpan<float> view)
    {
        ReadOnlySpan<float> all = model.Parameters;
        long offset = Unsafe.ByteOffset(ref MemoryMarshal.GetReference(all), ref MemoryMarshal.GetReference(view)) / sizeof(float);
        Assert.True(offset >= 0 && offset + view.Length <= all.Length, "the view is not a slice of the model's parameters");
        return model.EditParameters().Slice((int)offset, view.Length);
    }

    public static void AssertSameMemory(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}.");
        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(expected), ref MemoryMarshal.GetReference(actual)),
            $"{what}: not the same memory as the parameter slice.");
    }

    /// <summary>The floats a forward pass over <paramref name="batch"/> sequences of <paramref name="steps"/> steps reads.</summary>
    public static float[] RandomInput(IRecurrentModel model, int batch, int steps, int seed) =>
        RandomValues(batch * steps * model.InputSize, seed);

    /// <summary>x[b] of a [B, ...] tensor whose rows hold <paramref name="rowLength"/> floats.</summary>
    public static float[] Row(float[] tensor, int b, int rowLength) => tensor.AsSpan(b * rowLength, rowLength).ToArray();

    /// <summary>x[:, t, :] of a [B, T, F] tensor as [B, F].</summary>
    public static float[] TimeStep(float[] sequence, int batch, int steps, int features, int t)
    {
        var step = new float[batch * features];
        for (int b = 0; b < batch; b++) sequence.AsSpan((b * steps + t) * features, features).CopyTo(step.AsSpan(b * features));
        return step;
    }

    /// <summary>[B, F] into y[:, t, :] of a [B, T, F] tensor.</summary>
    public static void SetTimeStep(float[] step, int batch, int steps, int features, int t, float[] sequence)
    {
        for (int b = 0; b < batch; b++) step.AsSpan(b * features, features).CopyTo(sequence.AsSpan((b * steps + t) * features));
    }
}
