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
/// A character language model: <c>nn.LSTM(V, 128, batch_first=True)</c> over one-hot characters and
/// <c>nn.Linear(128, V)</c> on every step, giving the logits of the next character.
/// </summary>
[LstmModel(InputSize = Vocabulary.Size, HiddenSize = 128, OutputSize = Vocabulary.Size)]
public partial class CharLstm;
