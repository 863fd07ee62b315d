namespace ModelGen.Kernels;

/// <summary>
/// One step's rows of a batch-first sequence <c>[B, T, F]</c>: a decoder that attends before its cell runs its
/// recurrent module one step at a time, on the rows of that step.
/// </summary>
public static class SequenceSteps
{
    /// <summary>Copies step <paramref name="step"/> of <paramref name="sequence"/> <c>[B, T, F]</c> into <paramref name="rows"/> <c>[B, F]</c>.</summary>
    public static void Gather(ReadOnlySpan<float> sequence, int batch, int steps, int features, int step, Span<float> rows)
    {
        SpanChecks.Exact(sequence.Length, (long)batch * steps * features, nameof(sequence));
        SpanChecks.Exact(rows.Length, (long)batch * features, nameof(rows));
        for (int b = 0; b < batch; b++) sequence.Slice((b * steps + step) * features, features).CopyTo(rows.Slice(b * features, features));
    }

    /// <summary>Copies <paramref name="rows"/> <c>[B, F]</c> into step <paramref name="step"/> of <paramref name="sequence"/> <c>[B, T, F]</c>.</summary>
    public static void Scatter(ReadOnlySpan<float> rows, int batch, int steps, int features, int step, Span<float> sequence)
    {
        SpanChecks.Exact(sequence.Length, (long)batch * steps * features, nameof(sequence));
        SpanChecks.Exact(rows.Length, (long)batch * features, nameof(rows));
        for (int b = 0; b < batch; b++) rows.Slice(b * features, features).CopyTo(sequence.Slice((b * steps + step) * features, features));
    }
}
