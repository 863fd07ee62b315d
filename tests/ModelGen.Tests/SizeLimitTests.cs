namespace ModelGen.Tests;

/// <summary>
/// Calls whose workspace cannot be one .NET array per buffer are rejected with an ArgumentException naming the
/// argument and the limit, before any memory is touched. Without the check the kernels' int offsets wrap past
/// 2³¹ floats and write outside their arrays (an AccessViolationException that ends the process).
/// </summary>
public class SizeLimitTests
{
    // WideGateLstm: G·H = 16,384 floats of gates per row, so at most Array.MaxLength / 16,384 rows fit.
    private const int GateRow = 4 * 4096;
    private static readonly long MaxRows = Array.MaxLength / GateRow;

    private static void AssertRejected(Action call, string argument)
    {
        var exception = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(argument, exception.ParamName);
        Assert.Contains(Array.MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture), exception.Message, StringComparison.Ordinal);
        Assert.Contains($"at most {MaxRows} fit", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(262_145, 1)]      // the 1 MB input of one sequence that wrapped
    [InlineData(1, 262_145)]      // the same rows as a batch of one-step sequences
    [InlineData(131_072, 1)]      // exactly 2³¹ floats of gates: the first row count past the limit
    [InlineData(2, 65_536)]
    public void Forward_past_the_workspace_limit_is_rejected(int steps, int batch)
    {
        var model = new WideGateLstm();
        var input = new float[batch * steps];
        var output = new float[batch * steps];
        AssertRejected(() => model.Forward(input, batch, output), "input");
        AssertRejected(() => model.PredictLast(input, batch, new float[batch]), "input");
        AssertRejected(() => model.PredictSequence(input, batch, output), "input");
        AssertRejected(() => model.TrainForward(input, batch, output), "input");
        AssertRejected(() => model.TrainPredictLast(input, batch, new float[batch]), "input");
    }

    [Fact]
    public void A_stream_batch_past_the_limit_is_rejected_when_the_state_is_reset()
    {
        var model = new WideGateLstm();
        AssertRejected(() => model.ResetState((int)MaxRows + 1), "batchSize");
        AssertRejected(() => model.ResetState(262_145), "batchSize");
        Assert.Equal(1, model.StreamBatchSize);
    }

    [Fact]
    public void ResetState_of_int_MaxValue_names_the_limit()
    {
        var model = new GruThreeLayers();
        var exception = Assert.ThrowsAny<ArgumentException>(() => model.ResetState(int.MaxValue));
        Assert.Equal("batchSize", exception.ParamName);
        Assert.Contains(Array.MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture), exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_last_row_count_below_the_limit_passes_the_check()
    {
        // The check itself must not reject what fits: a call with MaxRows rows fails only later, on its
        // output length, which proves the size check passed (running it would allocate 8 GiB).
        var model = new WideGateLstm();
        var input = new float[MaxRows];
        var exception = Assert.Throws<ArgumentException>(() => model.Forward(input, 1, new float[1]));
        Assert.Equal("output", exception.ParamName);
    }

    [Fact]
    public void The_stream_of_a_model_that_fits_still_steps()
    {
        var model = new WideGateLstm();
        model.InitializeParameters(1);
        model.ResetState(3);
        var prediction = new float[3];
        model.StepPredict([0.5f, -0.5f, 1f], prediction);
        Assert.All(prediction, value => Assert.True(float.IsFinite(value)));
    }
}
