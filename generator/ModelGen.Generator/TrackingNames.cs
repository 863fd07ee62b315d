namespace ModelGen.Generator;

/// <summary>Names of the pipeline steps, for the caching tests.</summary>
internal static class TrackingNames
{
    public const string LstmSpecs = nameof(LstmSpecs);
    public const string GruSpecs = nameof(GruSpecs);
    public const string RnnSpecs = nameof(RnnSpecs);
    public const string ValidSpecs = nameof(ValidSpecs);
    public const string GraphSpecs = nameof(GraphSpecs);
    public const string ValidGraphSpecs = nameof(ValidGraphSpecs);
    public const string Seq2SeqSpecs = nameof(Seq2SeqSpecs);
    public const string ValidSeq2SeqSpecs = nameof(ValidSeq2SeqSpecs);
}
