using ModelGen;

namespace WordTranslation;

/// <summary>
/// The encoder: English characters → an embedding → a GRU, whose output at every character is what the decoder's
/// attention reads, and whose final state is where the decoder starts.
/// </summary>
[SequenceModel]
public partial class EnglishEncoder
{
    [Embedding(NumEmbeddings = CharVocabulary.SourceSize, EmbeddingDim = 32, PaddingIdx = CharVocabulary.Padding)]
    public partial Embedding Embed { get; }

    [Gru(InputSize = 32, HiddenSize = Translator.Hidden)]
    public partial Gru Rnn { get; }
}

/// <summary>
/// The decoder: the German characters so far → an embedding → a GRU from the encoder's final state → Luong's
/// "dot" attention over the encoder's outputs → <c>tanh(W_c [h_t; context_t])</c> → logits of the next character.
/// </summary>
[SequenceModel]
public partial class GermanDecoder
{
    [Embedding(NumEmbeddings = CharVocabulary.TargetSize, EmbeddingDim = 32, PaddingIdx = CharVocabulary.Padding)]
    public partial Embedding Embed { get; }

    [Gru(InputSize = 32, HiddenSize = Translator.Hidden)]
    public partial Gru Rnn { get; }

    [Attention(AttentionScore.Dot, KeySize = Translator.Hidden)]
    public partial Attention Attn { get; }

    [Linear(InFeatures = 2 * Translator.Hidden, OutFeatures = Translator.Hidden)]
    public partial Linear Combine { get; }

    [Tanh]
    public partial Activation Act { get; }

    [Linear(InFeatures = Translator.Hidden, OutFeatures = CharVocabulary.TargetSize)]
    public partial Linear Out { get; }
}

/// <summary>The encoder–decoder: one parameter buffer, <c>encoder.*</c> and <c>decoder.*</c>.</summary>
[Seq2SeqModel(typeof(EnglishEncoder), typeof(GermanDecoder))]
public partial class Translator
{
    /// <summary>Hidden size of both GRUs (the bridge carries the encoder's h_n into the decoder).</summary>
    public const int Hidden = 128;
}
