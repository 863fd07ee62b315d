namespace ModelGen;

/// <summary>The settings of a <see cref="BeamSearch"/>, validated when created.</summary>
public sealed record BeamSearchOptions
{
    /// <summary>Creates beam search settings.</summary>
    /// <param name="beamWidth">The number of hypotheses kept, k (≥ 1); 1 is greedy decoding.</param>
    /// <param name="maxLength">The most tokens a hypothesis holds, not counting the end token (≥ 1).</param>
    /// <param name="lengthNormalization">
    /// The length normalisation exponent α (finite, ≥ 0): a finished hypothesis scores
    /// <c>log P / length^α</c>, its length counting the end token; 0 turns it off (the score is <c>log P</c>).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A value outside its range.</exception>
    public BeamSearchOptions(int beamWidth, int maxLength, double lengthNormalization = 0)
    {
        DecodingChecks.Positive(beamWidth, nameof(beamWidth));
        DecodingChecks.Positive(maxLength, nameof(maxLength));
        if (!(lengthNormalization >= 0) || double.IsPositiveInfinity(lengthNormalization))
        {
            throw new ArgumentOutOfRangeException(nameof(lengthNormalization), lengthNormalization,
                $"{nameof(lengthNormalization)} must be finite and ≥ 0, got {lengthNormalization}.");
        }
        DecodingChecks.Product(beamWidth, nameof(beamWidth), maxLength, nameof(maxLength));
        BeamWidth = beamWidth;
        MaxLength = maxLength;
        LengthNormalization = lengthNormalization;
    }

    /// <summary>The number of hypotheses kept, k.</summary>
    public int BeamWidth { get; }

    /// <summary>The most tokens a hypothesis holds, not counting the end token.</summary>
    public int MaxLength { get; }

    /// <summary>The length normalisation exponent α; 0 when off.</summary>
    public double LengthNormalization { get; }
}

/// <summary>One hypothesis found by a <see cref="BeamSearch"/>; its tokens are in the span passed to the search.</summary>
/// <param name="Length">The number of tokens, not counting the end token.</param>
/// <param name="Score">
/// The score the hypotheses are ranked by: <see cref="LogProbability"/> / n^α, where n is <see cref="Length"/> plus 1
/// when <see cref="Ended"/> (the end token counts); equal to <see cref="LogProbability"/> when α = 0.
/// </param>
/// <param name="LogProbability">The sum of the log-probabilities of its tokens, the end token included when <see cref="Ended"/>.</param>
/// <param name="Ended">Whether it emitted the end token; false when it was cut at the maximum length.</param>
public readonly record struct BeamHypothesis(int Length, double Score, double LogProbability, bool Ended);
