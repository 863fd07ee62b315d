using ModelGen;

namespace CharModel;

/// <summary>
/// The characters the model knows. Sizes of a generated model are compile-time constants, so the vocabulary is
/// fixed here: every character of data/moby-dick-start.txt, sorted by code point (computed once from the text;
/// the program checks at startup that the text uses no other character).
/// </summary>
internal static class Vocabulary
{
    /// <summary>The characters; the index of a character is its class.</summary>
    public const string Characters =
        "\n !(),-.0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\u2014\u2018\u2019\u201C\u201D";

    /// <summary>V: <c>Characters.Length</c>, as a constant the model's attribute can use.</summary>
    public const int Size = 78;
}

/// <summary>
/// A character language model: <c>nn.Embedding(V, 32)</c> turns each character into a learnt 32-float vector,
/// <c>nn.LSTM(32, 128, batch_first=True)</c> reads them, and <c>nn.Linear(128, V)</c> on every step gives the
/// logits of the next character. PyTorch's equivalent module has the attributes <c>embed</c>, <c>rnn</c> and
/// <c>head</c> and calls <c>head(rnn(embed(tokens))[0])</c>.
/// </summary>
[SequenceModel]
public partial class CharLstm
{
    /// <summary>E: floats per character vector.</summary>
    public const int EmbeddingSize = 32;

    /// <summary>H: the LSTM's hidden size.</summary>
    public const int HiddenSize = 128;

    [Embedding(NumEmbeddings = Vocabulary.Size, EmbeddingDim = EmbeddingSize)] public partial Embedding Embed { get; }
    [Lstm(InputSize = EmbeddingSize, HiddenSize = HiddenSize)] public partial Lstm Rnn { get; }
    [Linear(InFeatures = HiddenSize, OutFeatures = Vocabulary.Size)] public partial Linear Head { get; }
}
