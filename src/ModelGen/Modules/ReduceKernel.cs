using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// Reductions of a recurrent layer's output over time, as a graph's last-step, mean and max pooling and its
/// <c>h_n</c> readout. The sequence input x is batch-first <c>[B, T, F]</c>; <c>lengths</c> is <c>[B]</c> (sequence
/// b holds the steps t &lt; lengths[b], see <see cref="SequenceLengths"/>) or empty for T everywhere; the
/// result y is <c>[B, F]</c>. Backward kernels overwrite dx, with zeros wherever no gradient flows (padding).
/// </summary>
public static class ReduceKernel
{
    private static void CheckSequence(int xLength, int yLength, ReadOnlySpan<int> lengths, int batch, int steps, int features,
        string xName, string yName)
    {
        SpanChecks.NonNegative(batch, nameof(batch));
        SpanChecks.NonNegative(steps, nameof(steps));
        SpanChecks.NonNegative(features, nameof(features));
        SpanChecks.AtLeast(xLength, (long)batch * steps * features, xName);
        SpanChecks.AtLeast(yLength, (long)batch * features, yName);
        SequenceLengths.Check(lengths, batch, steps, nameof(lengths));
        if (steps == 0 && batch > 0 && features > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "A reduction over time needs at least one step.");
        }
    }

    /// <summary>The last valid step: <c>y[b, :] = x[b, len_b − 1, :]</c> (<c>output[:, -1]</c> without lengths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Last(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int batch, int steps, int features, Span<float> y)
    {
        CheckSequence(x.Length, y.Length, lengths, batch, steps, features, nameof(x), nameof(y));
        for (int b = 0; b < batch; b++)
        {
            int t = SequenceLengths.Of(lengths, b, steps) - 1;
            x.Slice((b * steps + t) * features, features).CopyTo(y.Slice(b * features, features));
        }
    }

    /// <summary>Backward of <see cref="Last"/>: <c>dx[b, len_b − 1, :] = dy[b, :]</c>, every other step zero. dx is <c>[B, T, F]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LastBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> lengths, int batch, int steps, int features, Span<float> dx)
    {
        CheckSequence(dx.Length, dy.Length, lengths, batch, steps, features, nameof(dx), nameof(dy));
        dx[..(batch * steps * features)].Clear();
        for (int b = 0; b < batch; b++)
        {
            int t = SequenceLengths.Of(lengths, b, steps) - 1;
            dy.Slice(b * features, features).CopyTo(dx.Slice((b * steps + t) * features, features));
        }
    }

    /// <summary>
    /// The mean over the valid steps: <c>y[b, :] = (Σ_{t &lt; len_b} x[b, t, :]) / len_b</c>, summed in float in
    /// increasing t (<c>output.mean(dim=1)</c> without lengths).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mean(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int batch, int steps, int features, Span<float> y)
    {
        CheckSequence(x.Length, y.Length, lengths, batch, steps, features, nameof(x), nameof(y));
        for (int b = 0; b < batch; b++)
        {
            int length = SequenceLengths.Of(lengths, b, steps);
            Span<float> row = y.Slice(b * features, features);
            x.Slice(b * steps * features, features).CopyTo(row);
            for (int t = 1; t < length; t++) Backprop.Add(row, x.Slice((b * steps + t) * features, features));
            Divide(row, length);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Divide(Span<float> row, int length)
    {
        int i = 0, v = Vector<float>.Count;
        float divisor = length;
        if (Vector.IsHardwareAccelerated)
        {
            var d = new Vector<float>(divisor);
            for (; i <= row.Length - v; i += v) (new Vector<float>(row[i..]) / d).CopyTo(row[i..]);
        }
        for (; i < row.Length; i++) row[i] /= divisor;
    }

    /// <summary>Backward of <see cref="Mean"/>: <c>dx[b, t, :] = dy[b, :] / len_b</c> for t &lt; len_b, zero after.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MeanBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> lengths, int batch, int steps, int features, Span<float> dx)
    {
        CheckSequence(dx.Length, dy.Length, lengths, batch, steps, features, nameof(dx), nameof(dy));
        for (int b = 0; b < batch; b++)
        {
            int length = SequenceLengths.Of(lengths, b, steps);
            Span<float> first = dx.Slice(b * steps * features, features);
            dy.Slice(b * features, features).CopyTo(first);
            Divide(first, length);
            for (int t = 1; t < length; t++) first.CopyTo(dx.Slice((b * steps + t) * features, features));
            dx.Slice((b * steps + length) * features, (steps - length) * features).Clear();
        }
    }

    /// <summary>
    /// The maximum over the valid steps, as <c>torch.max(output, dim=1)</c>: <c>y[b, f] = max_{t &lt; len_b} x[b, t, f]</c>
    /// and <c>argmax[b, f]</c> (<c>[B, F]</c>) its step, the first one on ties; a NaN is the maximum (the first NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int batch, int steps, int features, Span<float> y, Span<int> argmax)
    {
        CheckSequence(x.Length, y.Length, lengths, batch, steps, features, nameof(x), nameof(y));
        SpanChecks.AtLeast(argmax.Length, (long)batch * features, nameof(argmax));
        int v = Vector<float>.Count;
        for (int b = 0; b < batch; b++)
        {
            int length = SequenceLengths.Of(lengths, b, steps);
            Span<float> best = y.Slice(b * features, features);
            Span<int> index = argmax.Slice(b * features, features);
            x.Slice(b * steps * features, features).CopyTo(best);
            index.Clear();
            int f = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; f <= features - v; f += v)
                {
                    var m = new Vector<float>(best[f..]);
                    var at = Vector<int>.Zero;
                    for (int t = 1; t < length; t++)
                    {
                        var value = new Vector<float>(x.Slice((b * steps + t) * features + f, v));
                        // value > m, or value is NaN while m is not: the comparisons are false for NaN.
                        Vector<int> take = Vector.GreaterThan(value, m)
                            | Vector.AndNot(Vector.Equals(m, m), Vector.Equals(value, value));
                        m = Vector.ConditionalSelect(take, value, m);
                        at = Vector.ConditionalSelect(take, new Vector<int>(t), at);
                    }
                    m.CopyTo(best[f..]);
                    at.CopyTo(index[f..]);
                }
            }
            for (; f < features; f++)
            {
                float m = best[f];
                int at = 0;
                for (int t = 1; t < length; t++)
                {
                    float value = x[(b * steps + t) * features + f];
                    if (value > m || (float.IsNaN(value) && !float.IsNaN(m)))
                    {
                        m = value;
                        at = t;
                    }
                }
                best[f] = m;
                index[f] = at;
            }
        }
    }

    /// <summary>
    /// Backward of <see cref="Max"/>: <c>dx[b, argmax[b, f], f] = dy[b, f]</c>, zero elsewhere. Each argmax must be
    /// in [0, T).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, int batch, int steps, int features, Span<float> dx)
    {
        CheckSequence(dx.Length, dy.Length, default, batch, steps, features, nameof(dx), nameof(dy));
        SpanChecks.AtLeast(argmax.Length, (long)batch * features, nameof(argmax));
        int count = batch * features;
        for (int i = 0; i < count; i++)
        {
            if ((uint)argmax[i] >= (uint)steps)
            {
                throw new ArgumentOutOfRangeException(nameof(argmax), argmax[i], $"argmax[{i}] = {argmax[i]} is outside [0, {steps}).");
            }
        }
        dx[..(batch * steps * features)].Clear();
        for (int b = 0; b < batch; b++)
        {
            for (int f = 0; f < features; f++)
            {
                dx[(b * steps + argmax[b * features + f]) * features + f] = dy[b * features + f];
            }
        }
    }

    /// <summary>
    /// The top layer's final hidden states side by side, <c>torch.cat([h_n[−D + d] for d in range(D)], dim=1)</c>:
    /// <c>y[b, d·H + j] = hN[(L − 1)·D + d, b, j]</c>, from hN <c>[L·D, B, H]</c> (<paramref name="state"/> = H,
    /// the layer's H_out) into y <c>[B, D·H]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FinalHidden(ReadOnlySpan<float> hN, int layers, int directions, int batch, int state, Span<float> y)
    {
        CheckFinalHidden(hN.Length, y.Length, layers, directions, batch, state, nameof(hN), nameof(y));
        for (int d = 0; d < directions; d++)
        {
            int slice = (layers - 1) * directions + d;
            for (int b = 0; b < batch; b++)
            {
                hN.Slice((slice * batch + b) * state, state).CopyTo(y.Slice((b * directions + d) * state, state));
            }
        }
    }

    /// <summary>
    /// Backward of <see cref="FinalHidden"/>: <c>dHN[(L − 1)·D + d, b, j] = dy[b, d·H + j]</c>; dHN
    /// <c>[L·D, B, H]</c> is overwritten, zero for the lower layers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FinalHiddenBackward(ReadOnlySpan<float> dy, int layers, int directions, int batch, int state, Span<float> dHN)
    {
        CheckFinalHidden(dHN.Length, dy.Length, layers, directions, batch, state, nameof(dHN), nameof(dy));
        int top = (layers - 1) * directions * batch * state;
        dHN[..top].Clear();
        for (int d = 0; d < directions; d++)
        {
            int slice = (layers - 1) * directions + d;
            for (int b = 0; b < batch; b++)
            {
                dy.Slice((b * directions + d) * state, state).CopyTo(dHN.Slice((slice * batch + b) * state, state));
            }
        }
    }

    private static void CheckFinalHidden(int hLength, int yLength, int layers, int directions, int batch, int state, string hName, string yName)
    {
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), layers, "layers must be at least 1.");
        if (directions is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(directions), directions, "directions must be 1 or 2.");
        SpanChecks.NonNegative(batch, nameof(batch));
        SpanChecks.NonNegative(state, nameof(state));
        SpanChecks.AtLeast(hLength, (long)layers * directions * batch * state, hName);
        SpanChecks.AtLeast(yLength, (long)batch * directions * state, yName);
    }
}
