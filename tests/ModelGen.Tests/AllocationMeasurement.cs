namespace ModelGen.Tests;

/// <summary>What a call allocates on this thread, for the allocation tests of models and inference contexts.</summary>
internal static class AllocationMeasurement
{
    /// <summary>Bytes allocated on this thread by one call of <paramref name="call"/> after two warm-up calls.</summary>
    public static long WarmAllocations(Action call)
    {
        call();
        call();
        return AllocatedBy(call);
    }

    /// <summary>Bytes allocated on this thread by one call of <paramref name="call"/>.</summary>
    public static long AllocatedBy(Action call)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        call();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}

/// <summary>Inputs and result buffers, allocated up front, for every inference call of a model with a head.</summary>
internal sealed class InferenceBuffers
{
    public InferenceBuffers(IRecurrentModel model, int batch, int steps)
    {
        int layers = model.NumLayers, hout = model.StateSize, outputs = model.OutputSize;
        Input = TestHelpers.RandomInput(model, batch, steps, seed: 1);
        Output = new float[batch * steps * hout];
        H0 = TestHelpers.RandomValues(layers * batch * hout, seed: 2);
        C0 = model.Cell == CellKind.Lstm ? TestHelpers.RandomValues(layers * batch * model.HiddenSize, seed: 3) : [];
        HN = new float[H0.Length];
        CN = new float[C0.Length];
        Last = new float[batch * outputs];
        Sequence = new float[batch * steps * outputs];
        StepInput = TestHelpers.RandomInput(model, batch, 1, seed: 4);
        StepOutput = new float[batch * hout];
        StepPrediction = new float[batch * outputs];
    }

    public float[] Input { get; }
    public float[] Output { get; }
    public float[] H0 { get; }
    public float[] C0 { get; }
    public float[] HN { get; }
    public float[] CN { get; }
    public float[] Last { get; }
    public float[] Sequence { get; }
    public float[] StepInput { get; }
    public float[] StepOutput { get; }
    public float[] StepPrediction { get; }
}
