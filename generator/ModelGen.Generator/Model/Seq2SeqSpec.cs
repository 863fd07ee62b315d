namespace ModelGen.Generator;

/// <summary>
/// Everything the emitter needs to know about one <c>[Seq2SeqModel]</c>: where the type lives, its two graphs (as
/// the fully qualified names of their generated types) and the sizes of the bridge between them. Equatable by
/// value, built only when both graphs are valid and fit together.
/// </summary>
/// <param name="EncoderType">The encoder graph, e.g. <c>global::Demo.SpellingEncoder</c>.</param>
/// <param name="MemorySize">Features per source step of the encoder's output (what attention reads).</param>
/// <param name="Bridge">The recurrent module both sides share the shape of (the encoder's), with its state blocks.</param>
/// <param name="Attention">The decoder's attention module, or null when the decoder does not attend.</param>
/// <param name="AttentionFeedsCell">Whether the attention sits before the decoder's recurrent module (Bahdanau).</param>
internal sealed record Seq2SeqSpec(
    TypeTarget Target,
    string EncoderType,
    string DecoderType,
    string EncoderName,
    string DecoderName,
    int SourceVocabulary,
    int TargetVocabulary,
    int MemorySize,
    RecurrentModule Bridge,
    AttentionModule? Attention,
    bool AttentionFeedsCell)
{
    /// <summary>Floats per sequence of the bridged state: h_n <c>[L, B, Hout]</c>, then for an LSTM c_n <c>[L, B, H]</c>.</summary>
    public int StateSize => Bridge.NumLayers * (Bridge.StateSize + (Bridge.Cell == CellKind.Lstm ? Bridge.HiddenSize : 0));
}
