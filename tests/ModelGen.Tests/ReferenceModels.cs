using ModelGen;

namespace ModelGen.Tests;

// The public PyTorch reference cases, declared as a user would and expanded by the real build.

[LstmModel(InputSize = 3, HiddenSize = 5, OutputSize = 2)]
public partial class LstmBasic;

[LstmModel(InputSize = 8, HiddenSize = 32, NumLayers = 2, OutputSize = 4)]
public partial class LstmStacked;

[LstmModel(InputSize = 4, HiddenSize = 8, NumLayers = 2, Bidirectional = true, OutputSize = 3)]
public partial class LstmBidirectional;

[LstmModel(InputSize = 5, HiddenSize = 12, NumLayers = 2, ProjSize = 6, OutputSize = 3)]
public partial class LstmProjection;

[LstmModel(InputSize = 4, HiddenSize = 9, Bias = false, OutputSize = 2)]
public partial class LstmNoBias;

[LstmModel(InputSize = 1, HiddenSize = 64, OutputSize = 1)]
public partial class LstmTimeseries;

[GruModel(InputSize = 4, HiddenSize = 16, OutputSize = 3)]
public partial class GruBasic;

[GruModel(InputSize = 6, HiddenSize = 10, NumLayers = 2, Bidirectional = true, OutputSize = 2)]
public partial class GruStackedBidirectional;

[RnnModel(InputSize = 6, HiddenSize = 12, NumLayers = 2, OutputSize = 2)]
public partial class RnnTanh;

[RnnModel(InputSize = 5, HiddenSize = 7, Nonlinearity = RnnNonlinearity.Relu, OutputSize = 1)]
public partial class RnnRelu;
