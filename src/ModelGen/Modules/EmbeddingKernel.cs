using System.Runtime.CompilerServices;
namespace ModelGen.Kernels;

/// <summary>
/// <c>nn.Embedding(num_embeddings, embedding_dim, padding_idx)</c>: a lookup table of
/// <c>N = <see cref="IEmbeddingSpec.NumEmbeddings"/></c> rows of <c>E = <see cref="IEmbeddingSpec.EmbeddingDim"/></c>
/// features. <c>weight</c> is PyTorch's row-major <c>[N, E]</c>; token r selects row <c>tokens[r]</c>.
/// </summary>
/// <typeparam name="TSpec">The module's sizes (JIT constants).</typeparam>
public static class EmbeddingKernel<TSpec> where TSpec : struct, IEmbeddingSpec
{
    /// <summary>
    /// Throws if a token is outside <c>[0, N)</c>, naming the first bad position and value, as PyTorch's
    /// <c>IndexError</c> does; the kernels call it before they write anything.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A token outside [0, N).</exception>
    public static void CheckTokens(ReadOnlySpan<int> tokens, string argumentName)
    {
        int n = TSpec.NumEmbeddings;
        for (int r = 0; r < tokens.Length; r++)
        {
            if ((uint)tokens[r] >= (uint)n)
            {
                throw new ArgumentOutOfRangeException(argumentName, tokens[r],
                    $"{argumentName}[{r}] = {tokens[r]} is outside the vocabulary [0, {n}).");
            }
        }
    }

    /// <summary>
    /// <c>output[r, :] = weight[tokens[r], :]</c> for each of the <c>rows = tokens.Length</c> tokens.
    /// Shapes: weight <c>[N, E]</c>, tokens <c>[rows]</c>, output <c>[rows, E]</c> (at least).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> weight, ReadOnlySpan<int> tokens, Span<float> output)
    {
        int e = TSpec.EmbeddingDim;
        SpanChecks.Exact(weight.Length, (long)TSpec.NumEmbeddings * e, nameof(weight));
        SpanChecks.AtLeast(output.Length, (long)tokens.Length * e, nameof(output));
        CheckTokens(tokens, nameof(tokens));
        for (int r = 0; r < tokens.Length; r++)
        {
            weight.Slice(tokens[r] * e, e).CopyTo(output.Slice(r * e, e));
        }
    }

    /// <summary>
    /// <c>dWeight[tokens[r], :] += dOutput[r, :]</c> for every row whose token is not
    /// <see cref="IEmbeddingSpec.PaddingIdx"/> (PyTorch: the padding row gets no gradient). The gradient
    /// accumulates into <paramref name="dWeight"/> <c>[N, E]</c>; dOutput is <c>[rows, E]</c> (at least).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> dOutput, Span<float> dWeight)
    {
        int e = TSpec.EmbeddingDim, padding = TSpec.PaddingIdx;
        SpanChecks.Exact(dWeight.Length, (long)TSpec.NumEmbeddings * e, nameof(dWeight));
        SpanChecks.AtLeast(dOutput.Length, (long)tokens.Length * e, nameof(dOutput));
        CheckTokens(tokens, nameof(tokens));
        for (int r = 0; r < tokens.Length; r++)
        {
            int token = tokens[r];
            if (token == padding) continue;
            Backprop.Add(dWeight.Slice(token * e, e), dOutput.Slice(r * e, e));
        }
    }

    /// <summary>
    /// PyTorch's <c>reset_parameters</c>: every weight drawn from N(0, 1) (<see cref="SplitMix64.NextNormal"/>,
    /// in row-major order), then the padding row, if any, set to zero.
    /// </summary>
    public static void Initialize(Span<float> weight, ref SplitMix64 random)
    {
        int e = TSpec.EmbeddingDim, padding = TSpec.PaddingIdx;
        SpanChecks.Exact(weight.Length, (long)TSpec.NumEmbeddings * e, nameof(weight));
        for (int i = 0; i < weight.Length; i++) weight[i] = random.NextNormal();
        if (padding >= 0) weight.Slice(padding * e, e).Clear();
    }
}
