using ModelGen;

namespace TopicClassifier;

/// <summary>
/// Words → Embedding → bidirectional LSTM → both directions' final hidden states → Dropout → Linear over the
/// 12 topics. PyTorch's equivalent module has the attributes <c>embed</c>, <c>rnn</c>, <c>drop</c> and <c>fc</c>
/// and calls <c>fc(drop(cat([h_n[-2], h_n[-1]], 1)))</c> on a packed sequence.
/// </summary>
[SequenceModel]
public partial class TopicLstm
{
    public const int EmbeddingSize = 48, HiddenSize = 48;

    [Embedding(NumEmbeddings = Vocabulary.Size, EmbeddingDim = EmbeddingSize, PaddingIdx = Vocabulary.Padding)] public partial Embedding Embed { get; }
    [Dropout(0.5f)] public partial Dropout EmbedDrop { get; }
    [Lstm(InputSize = EmbeddingSize, HiddenSize = HiddenSize, Bidirectional = true)] public partial Lstm Rnn { get; }
    [Reduce(ReduceMode.FinalHidden)] public partial Reduction Pool { get; }
    [Dropout(0.5f)] public partial Dropout Drop { get; }
    [Linear(InFeatures = 2 * HiddenSize, OutFeatures = Topics.Count)] public partial Linear Fc { get; }
}
