using System.ComponentModel;

namespace ModelGen;

/// <summary>
/// The argument checks of generated graph models: each throws an exception that names the argument and the
/// expected against the actual shape, before any memory is touched.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GraphChecks
{
    /// <summary>
    /// T of an input of <paramref name="length"/> elements holding <paramref name="batchSize"/> sequences of
    /// <paramref name="features"/> elements per step (1 for token ids).
    /// </summary>
    public static int Steps(int length, int batchSize, int features, string argument, string notation)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        long perStep = (long)batchSize * features;
        if (length == 0 || length % perStep != 0)
        {
            throw new ArgumentException(
                $"{argument}: expected shape {notation} = [{batchSize}, T{(features > 1 || notation.Count(c => c == ',') == 2 ? ", " + features : "")}] with T >= 1, a multiple of {perStep} elements, got {length}.",
                argument);
        }
        return (int)(length / perStep);
    }

    /// <summary>
    /// Throws unless <paramref name="actual"/> is the number of elements of <paramref name="shape"/> (the values of
    /// <paramref name="notation"/>'s dimensions); the message is built only then, so a good call allocates nothing.
    /// </summary>
    public static void Length(int actual, string argument, string notation, params ReadOnlySpan<int> shape)
    {
        long expected = 1;
        foreach (int dimension in shape) expected *= dimension;
        if (actual == expected) return;
        throw new ArgumentException(
            $"{argument}: expected shape {notation} = [{string.Join(", ", shape.ToArray())}] ({expected} elements), got {actual}.", argument);
    }

    /// <summary>Throws when a span the call writes overlaps one it reads (unless they are the very same span and <paramref name="sameIsSafe"/>).</summary>
    public static void NoOverlap(ReadOnlySpan<float> written, string writtenName, ReadOnlySpan<float> read, string readName, bool sameIsSafe = false) =>
        ArgumentChecks.NoOverlap(written, writtenName, read, readName, sameIsSafe);

    /// <summary>Throws unless a recurrent state span is empty or holds <paramref name="stateSize"/> floats per sequence.</summary>
    public static void State(ReadOnlySpan<float> state, string argument, int batchSize, int stateSize)
    {
        long expected = (long)stateSize * batchSize;
        if (!state.IsEmpty && state.Length != expected)
        {
            throw new ArgumentException(
                $"{argument}: expected [RecurrentStateSize · B] = [{stateSize} · {batchSize}] ({expected} floats) or empty, got {state.Length} floats.", argument);
        }
    }

    /// <summary>
    /// dL/dh_n of a recurrent module from both places it can come from: the graph (a FinalHidden reduction) and
    /// the caller (a final-state gradient). Either may be empty; when both are there, their sum is written into
    /// <paramref name="sum"/> (which may be <paramref name="fromGraph"/> itself) and returned.
    /// </summary>
    public static ReadOnlySpan<float> AddStateGradient(ReadOnlySpan<float> fromGraph, ReadOnlySpan<float> fromCaller, Span<float> sum)
    {
        if (fromCaller.IsEmpty) return fromGraph;
        if (fromGraph.IsEmpty) return fromCaller;
        for (int i = 0; i < fromGraph.Length; i++) sum[i] = fromGraph[i] + fromCaller[i];
        return sum[..fromGraph.Length];
    }

    /// <summary>Every value uniform in ±<paramref name="bound"/>, in order (PyTorch's default for recurrent and linear modules).</summary>
    public static void InitializeUniform(Span<float> values, float bound, ref SplitMix64 random)
    {
        foreach (ref float value in values) value = random.NextUniform(-bound, bound);
    }
}

/// <summary>Row operations on a recurrent state laid out as generated models lay it out: blocks of <c>[B, width]</c>.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class StateRows
{
    /// <summary>
    /// Row r of each of the <paramref name="blocks"/> blocks <c>[B, width]</c> in <paramref name="state"/> becomes
    /// what row <paramref name="sourceRows"/>[r] held (a beam search keeping its surviving hypotheses).
    /// <paramref name="scratch"/> holds at least <c>B · width</c> floats.
    /// </summary>
    public static void Select(Span<float> state, int blocks, int batch, int width, ReadOnlySpan<int> sourceRows, Span<float> scratch)
    {
        int block = batch * width;
        for (int b = 0; b < blocks; b++)
        {
            Span<float> rows = state.Slice(b * block, block);
            rows.CopyTo(scratch);
            for (int r = 0; r < batch; r++) scratch.Slice(sourceRows[r] * width, width).CopyTo(rows.Slice(r * width, width));
        }
    }

    /// <summary>
    /// Each of the <paramref name="blocks"/> blocks <c>[B, width]</c> of <paramref name="source"/> with every row
    /// repeated <paramref name="copies"/> times, into blocks <c>[B · copies, width]</c> of <paramref name="target"/>.
    /// </summary>
    public static void Repeat(ReadOnlySpan<float> source, int blocks, int batch, int width, int copies, Span<float> target)
    {
        for (int b = 0; b < blocks; b++)
        {
            for (int r = 0; r < batch; r++)
            {
                ReadOnlySpan<float> row = source.Slice((b * batch + r) * width, width);
                for (int c = 0; c < copies; c++) row.CopyTo(target.Slice(((b * batch + r) * copies + c) * width, width));
            }
        }
    }

    /// <summary>Throws unless every source row r' of row r lies in r's group of <paramref name="groupSize"/> rows.</summary>
    public static void CheckSelection(ReadOnlySpan<int> sourceRows, int rows, int groupSize, string argument)
    {
        GraphChecks.Length(sourceRows.Length, argument, "[Rows]", rows);
        for (int r = 0; r < rows; r++)
        {
            int source = sourceRows[r];
            if (source < 0 || source >= rows || source / groupSize != r / groupSize)
            {
                throw new ArgumentOutOfRangeException(argument,
                    $"{argument}[{r}] = {source}: a row continues from a row of its own source's group [{r / groupSize * groupSize}, {r / groupSize * groupSize + groupSize}).");
            }
        }
    }
}
