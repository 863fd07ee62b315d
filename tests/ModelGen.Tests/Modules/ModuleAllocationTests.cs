using ModelGen.Kernels;

namespace ModelGen.Tests.Modules;

/// <summary>A warm call of each module kernel allocates nothing on the managed heap.</summary>
public class ModuleAllocationTests
{
    [Fact]
    public void Warm_kernel_calls_allocate_nothing()
    {
        const int rows = 6;
        float[] w = ModuleTestSupport.Uniform(5 * 130, 1), b = ModuleTestSupport.Uniform(130, 2), x = ModuleTestSupport.Uniform(rows * 5, 3);
        var packed = new float[LinearKernel<Lin5x130>.PackedLength];
        var scratch = new float[LinearKernel<Lin5x130>.ScratchLength];
        var y = new float[rows * 130];
        float[] dW = new float[w.Length], dB = new float[b.Length], dX = new float[x.Length];
        LinearKernel<Lin5x130>.Pack(w, b, packed);
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => LinearKernel<Lin5x130>.Pack(w, b, packed)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => LinearKernel<Lin5x130>.Forward(packed, x, y, rows, scratch)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => LinearKernel<Lin5x130>.Backward(w, x, y, rows, dW, dB, dX)));

        float[] table = ModuleTestSupport.Uniform(10 * 3, 4), embedded = new float[4 * 3], dTable = new float[30];
        int[] tokens = [1, 2, 9, 0];
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => EmbeddingKernel<Emb10x3Pad2>.Forward(table, tokens, embedded)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => EmbeddingKernel<Emb10x3Pad2>.Backward(tokens, embedded, dTable)));

        float[] lnW = new float[130], lnB = new float[130], lnX = ModuleTestSupport.Uniform(rows * 130, 5), lnY = new float[rows * 130];
        float[] record = new float[LayerNormKernel<Ln130>.RecordLength(rows)], lnDx = new float[rows * 130];
        LayerNormKernel<Ln130>.Initialize(lnW, lnB);
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => LayerNormKernel<Ln130>.Forward<RecordCache>(lnW, lnB, lnX, lnY, rows, record)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => LayerNormKernel<Ln130>.Backward(lnW, lnX, record, lnY, rows, lnW, lnB, lnDx)));

        float[] a = ModuleTestSupport.Uniform(37, 6), ay = new float[37], adx = new float[37];
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ActivationKernel<Gelu>.Forward(a, ay)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ActivationKernel<Gelu>.Backward(a, ay, a, adx)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ActivationKernel<Relu>.Forward(a, ay)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ActivationKernel<ModelGen.Kernels.Tanh>.Backward(a, ay, a, adx)));

        const int batch = 3, steps = 4, features = 11;
        float[] seq = ModuleTestSupport.Uniform(batch * steps * features, 7), pooled = new float[batch * features], dSeq = new float[seq.Length];
        int[] lengths = [4, 1, 2], argmax = new int[batch * features];
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ReduceKernel.Last(seq, lengths, batch, steps, features, pooled)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ReduceKernel.MeanBackward(pooled, lengths, batch, steps, features, dSeq)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ReduceKernel.Max(seq, lengths, batch, steps, features, pooled, argmax)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ReduceKernel.MaxBackward(pooled, argmax, batch, steps, features, dSeq)));
        float[] hN = ModuleTestSupport.Uniform(2 * 2 * batch * 5, 8), top = new float[batch * 10], dHN = new float[hN.Length];
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ReduceKernel.FinalHidden(hN, 2, 2, batch, 5, top)));
        Assert.Equal(0, AllocationMeasurement.WarmAllocations(() => ReduceKernel.FinalHiddenBackward(top, 2, 2, batch, 5, dHN)));
    }
}
