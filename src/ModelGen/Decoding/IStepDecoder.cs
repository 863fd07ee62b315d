namespace ModelGen;

/// <summary>
/// A decoder that advances <see cref="Rows"/> rows by one token each call: an encoder–decoder model after its
/// encoder has run (the model's <c>BeginDecoding</c> sets <see cref="Rows"/> and every row's state).
/// <see cref="GreedyDecoder"/> and <see cref="BeamSearch"/> drive it.
/// </summary>
public interface IStepDecoder
{
    /// <summary>The number of logits per row: the size of the target vocabulary.</summary>
    int TargetVocabularySize { get; }

    /// <summary>The number of rows being decoded.</summary>
    int Rows { get; }

    /// <summary>
    /// Feeds <paramref name="tokens"/> <c>[Rows]</c> (one token per row) and writes the next-token logits
    /// <paramref name="logits"/> <c>[Rows, TargetVocabularySize]</c> (row-major); advances every row's state by one step.
    /// </summary>
    /// <param name="tokens">The token of each row, <c>[Rows]</c>.</param>
    /// <param name="logits">The unnormalised next-token scores, <c>[Rows, TargetVocabularySize]</c>.</param>
    void Step(ReadOnlySpan<int> tokens, Span<float> logits);

    /// <summary>
    /// Reorders the rows' states: row r continues from the state row <c>sourceRows[r]</c> had before the call
    /// (beam search reorders its hypotheses this way; a source row may be named by several rows or by none).
    /// <c>sourceRows.Length == Rows</c>, and every source row lies in the same group of rows as r (the group of one
    /// source sentence, see <see cref="BeamSearch"/>).
    /// </summary>
    /// <param name="sourceRows">The row each row continues from, <c>[Rows]</c>.</param>
    void SelectRows(ReadOnlySpan<int> sourceRows);
}
