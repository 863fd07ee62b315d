namespace ModelGen.Tests;

/// <summary>
/// Non-finite gradients through <c>clip_grad_norm_</c> as PyTorch treats them (default
/// <c>error_if_nonfinite=False</c>): the norm is computed over all gradients and the coefficient
/// <c>clamp(maxNorm / (norm + 1e-6), max=1)</c> multiplies every one of them.
/// </summary>
public class NonFiniteGradientTests
{
    [Fact]
    public void A_NaN_gradient_makes_every_gradient_NaN()
    {
        float[] gradients = [0.5f, float.NaN, -2f, 0f];
        float norm = GradientClipping.ClipByNorm(gradients, 1f);
        Assert.True(float.IsNaN(norm));
        Assert.All(gradients, g => Assert.True(float.IsNaN(g), $"gradient {g} is not NaN"));
    }

    [Fact]
    public void An_infinite_gradient_zeroes_the_finite_ones_and_becomes_NaN()
    {
        // coefficient = 1 / (∞ + 1e-6) = 0: finite gradients × 0 = 0, ∞ × 0 = NaN.
        float[] gradients = [0.5f, float.PositiveInfinity, -2f];
        float norm = GradientClipping.ClipByNorm(gradients, 1f);
        Assert.Equal(float.PositiveInfinity, norm);
        Assert.Equal(0f, gradients[0]);
        Assert.True(float.IsNaN(gradients[1]));
        Assert.Equal(-0f, gradients[2]);
    }
}
