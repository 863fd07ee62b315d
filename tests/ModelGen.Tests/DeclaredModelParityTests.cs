using ModelGen.Testing;

namespace ModelGen.Tests;

/// <summary>
/// The public reference cases as ordinary declarations (ReferenceModels.cs) built by the real build: the
/// generator running inside the compiler, the runtime as a package user gets it.
/// </summary>
public class DeclaredModelParityTests
{
    public static TheoryData<string> Cases() => new()
    {
        "lstm_basic", "lstm_stacked", "lstm_bidirectional", "lstm_projection", "lstm_nobias", "lstm_timeseries",
        "gru_basic", "gru_stacked_bidirectional", "rnn_tanh", "rnn_relu",
    };

    internal static IRecurrentModel Create(string name) => name switch
    {
        "lstm_basic" => new LstmBasic(),
        "lstm_stacked" => new LstmStacked(),
        "lstm_bidirectional" => new LstmBidirectional(),
        "lstm_projection" => new LstmProjection(),
        "lstm_nobias" => new LstmNoBias(),
        "lstm_timeseries" => new LstmTimeseries(),
        "gru_basic" => new GruBasic(),
        "gru_stacked_bidirectional" => new GruStackedBidirectional(),
        "rnn_tanh" => new RnnTanh(),
        "rnn_relu" => new RnnRelu(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no declared model"),
    };

    // Always the in-repo copy: these declarations match the public files, not another folder's.
    private static ReferenceCase Reference(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "reference", name + ".safetensors");
        Assert.True(File.Exists(path), $"missing test data {path}");
        return ReferenceCase.LoadFrom(path);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Declared_model_reproduces_pytorch(string name) => Reference(name).CheckForward(Create(name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Declared_model_gradients_match_pytorch(string name) =>
        Reference(name).CheckGradients((IHeadModel)Create(name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Declared_model_trains_like_torch_optim(string name) =>
        Reference(name).CheckOptimizers(() => (IHeadModel)Create(name));
}
