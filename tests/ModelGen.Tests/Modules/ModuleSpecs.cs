namespace ModelGen.Tests.Modules;

#pragma warning disable CA1812 // the spec structs are only type arguments

internal readonly struct Lin1x1 : ILinearSpec { public static int InFeatures => 1; public static int OutFeatures => 1; public static bool Bias => true; }
internal readonly struct Lin7x5 : ILinearSpec { public static int InFeatures => 7; public static int OutFeatures => 5; public static bool Bias => true; }
internal readonly struct Lin3x8 : ILinearSpec { public static int InFeatures => 3; public static int OutFeatures => 8; public static bool Bias => true; }
internal readonly struct Lin8x17NoBias : ILinearSpec { public static int InFeatures => 8; public static int OutFeatures => 17; public static bool Bias => false; }
internal readonly struct Lin17x3 : ILinearSpec { public static int InFeatures => 17; public static int OutFeatures => 3; public static bool Bias => true; }
internal readonly struct Lin130x7 : ILinearSpec { public static int InFeatures => 130; public static int OutFeatures => 7; public static bool Bias => true; }
internal readonly struct Lin5x130 : ILinearSpec { public static int InFeatures => 5; public static int OutFeatures => 130; public static bool Bias => true; }
internal readonly struct Lin9x1NoBias : ILinearSpec { public static int InFeatures => 9; public static int OutFeatures => 1; public static bool Bias => false; }
internal readonly struct Lin6x40 : ILinearSpec { public static int InFeatures => 6; public static int OutFeatures => 40; public static bool Bias => true; }
internal readonly struct Lin5x56 : ILinearSpec { public static int InFeatures => 5; public static int OutFeatures => 56; public static bool Bias => true; }
internal readonly struct Lin3x88NoBias : ILinearSpec { public static int InFeatures => 3; public static int OutFeatures => 88; public static bool Bias => false; }
internal readonly struct Lin4x100 : ILinearSpec { public static int InFeatures => 4; public static int OutFeatures => 100; public static bool Bias => true; }
internal readonly struct Lin2x120 : ILinearSpec { public static int InFeatures => 2; public static int OutFeatures => 120; public static bool Bias => true; }
internal readonly struct Lin3x180 : ILinearSpec { public static int InFeatures => 3; public static int OutFeatures => 180; public static bool Bias => true; }
internal readonly struct Lin4x96 : ILinearSpec { public static int InFeatures => 4; public static int OutFeatures => 96; public static bool Bias => true; }
internal readonly struct Lin2x250 : ILinearSpec { public static int InFeatures => 2; public static int OutFeatures => 250; public static bool Bias => true; }
internal readonly struct Lin32x13 : ILinearSpec { public static int InFeatures => 32; public static int OutFeatures => 13; public static bool Bias => true; }
internal readonly struct Lin16x130NoBias : ILinearSpec { public static int InFeatures => 16; public static int OutFeatures => 130; public static bool Bias => false; }

internal readonly struct Emb10x3Pad2 : IEmbeddingSpec { public static int NumEmbeddings => 10; public static int EmbeddingDim => 3; public static int PaddingIdx => 2; }
internal readonly struct Emb5x9 : IEmbeddingSpec { public static int NumEmbeddings => 5; public static int EmbeddingDim => 9; public static int PaddingIdx => -1; }
internal readonly struct Emb64x16Pad0 : IEmbeddingSpec { public static int NumEmbeddings => 64; public static int EmbeddingDim => 16; public static int PaddingIdx => 0; }

internal readonly struct Ln7 : ILayerNormSpec { public static int NormalizedShape => 7; public static float Eps => 1e-5f; public static bool ElementwiseAffine => true; public static bool Bias => true; }
internal readonly struct Ln17NoBias : ILayerNormSpec { public static int NormalizedShape => 17; public static float Eps => 1e-3f; public static bool ElementwiseAffine => true; public static bool Bias => false; }
internal readonly struct Ln8Plain : ILayerNormSpec { public static int NormalizedShape => 8; public static float Eps => 1e-5f; public static bool ElementwiseAffine => false; public static bool Bias => true; }
internal readonly struct Ln130 : ILayerNormSpec { public static int NormalizedShape => 130; public static float Eps => 1e-5f; public static bool ElementwiseAffine => true; public static bool Bias => true; }
internal readonly struct Ln1 : ILayerNormSpec { public static int NormalizedShape => 1; public static float Eps => 1e-5f; public static bool ElementwiseAffine => true; public static bool Bias => true; }
