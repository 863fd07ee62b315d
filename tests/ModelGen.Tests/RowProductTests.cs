using System.Numerics;
using ModelGen.Kernels;

namespace ModelGen.Tests;

/// <summary>
/// <see cref="RowProduct"/>, the row-batched product of the recurrent layers: bit for bit the per-row
/// <see cref="Packed.MatVec"/> it replaced, and bit for bit the documented order of operations (start, then one
/// multiply-add per k ascending) for strided, transposed and accumulating operands. Row counts around the 6- and
/// 4-row groups (1, 3, 4, 5, 6, 7, 10, 13), unit counts that leave padded blocks and odd vector counts, and depths past one chunk
/// (128) cover every micro-kernel and the chunking.
/// </summary>
public class RowProductTests
{
    private static readonly int[] RowCounts = [1, 3, 4, 5, 6, 7, 10, 13];

    [Theory]
    [InlineData(4, 13, 7)]
    [InlineData(4, 40, 130)]
    [InlineData(3, 5, 33)]
    [InlineData(3, 21, 9)]
    [InlineData(1, 9, 3)]
    [InlineData(1, 70, 140)]
    public void The_packed_product_of_many_rows_is_each_row_s_MatVec_bit_for_bit(int gates, int units, int cols)
    {
        int tiles = Packed.Tiles(gates, units), tileVectors = Packed.TileVectors(gates), length = Packed.VectorLength(gates, units);
        var packed = new float[Packed.MatrixLength(gates, units, cols)];
        Packed.PackMatrix(TestHelpers.RandomValues(gates * units * cols, 1), gates, units, cols, packed);
        var bias = new float[length];
        Packed.PackVector(TestHelpers.RandomValues(gates * units, 2), gates, units, bias);
        foreach (int rows in RowCounts)
        {
            foreach (bool withBias in new[] { true, false })
            {
                // Rows further apart than they are long, and outputs too, as the layers' strided buffers are.
                int xStride = cols + 3, yStride = length + Vector<float>.Count;
                float[] x = TestHelpers.RandomValues(rows * xStride, 3 + rows);
                ReadOnlySpan<float> b = withBias ? bias : default;
                var expected = new float[rows * yStride];
                var actual = new float[rows * yStride];
                for (int r = 0; r < rows; r++)
                {
                    Packed.MatVec(packed, tiles, tileVectors, cols, ref x[r * xStride], b, ref expected[r * yStride]);
                }
                RowProduct.MultiplyPacked(packed, tiles, tileVectors, cols, rows, x, xStride, b, actual, yStride);
                TestHelpers.AssertBitEqual(expected, actual, $"gates {gates}, units {units}, cols {cols}, rows {rows}, bias {withBias}");
            }
        }
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 7)]
    [InlineData(3, 130)]
    [InlineData(5, 300)]
    [InlineData(9, 130)]
    public void Each_output_is_its_start_then_one_multiply_add_per_k_in_order(int vectors, int depth)
    {
        int width = vectors * Vector<float>.Count, mStride = width + 5;
        float[] m = TestHelpers.RandomValues(depth * mStride, 10);
        float[] start = TestHelpers.RandomValues(width, 11);
        foreach (int rows in RowCounts)
        {
            // A transposed view, as the weight gradients read their operand: A[i, k] = a[i + k·rows].
            float[] a = TestHelpers.RandomValues(rows * depth, 12 + rows);
            int yStride = width + 2;
            float[] initial = TestHelpers.RandomValues(rows * yStride, 20 + rows);
            foreach (bool accumulate in new[] { false, true })
            {
                foreach (bool withStart in new[] { false, true })
                {
                    var expected = (float[])initial.Clone();
                    for (int i = 0; i < rows; i++)
                    {
                        for (int j = 0; j < width; j++)
                        {
                            float sum = accumulate ? initial[i * yStride + j] : withStart ? start[j] : 0f;
                            for (int k = 0; k < depth; k++) sum = MultiplyAdd.Of(m[k * mStride + j], a[i + k * rows], sum);
                            expected[i * yStride + j] = sum;
                        }
                    }
                    var actual = (float[])initial.Clone();
                    RowProduct.Multiply(rows, depth, width, a, 1, rows, m, mStride, actual, yStride,
                        withStart ? start : default, accumulate);
                    TestHelpers.AssertBitEqual(expected, actual,
                        $"vectors {vectors}, depth {depth}, rows {rows}, accumulate {accumulate}, start {withStart}");
                }
            }
        }
    }

    // 1 to 5 tiles of each cell's gates (LSTM, GRU, RNN), so that the 512-bit kernel's tile pairs and the odd tile
    // after them both run where the core has 512-bit vectors.
    [Theory]
    [InlineData(4, 13, 7)]
    [InlineData(4, 40, 33)]
    [InlineData(4, 70, 9)]
    [InlineData(3, 21, 17)]
    [InlineData(3, 50, 5)]
    [InlineData(1, 70, 12)]
    [InlineData(1, 300, 3)]
    public void MatVec_gives_each_output_its_bias_then_one_multiply_add_per_column_in_order(int gates, int units, int cols)
    {
        int tiles = Packed.Tiles(gates, units), tileVectors = Packed.TileVectors(gates), length = Packed.VectorLength(gates, units);
        float[] w = TestHelpers.RandomValues(gates * units * cols, 30);
        float[] b = TestHelpers.RandomValues(gates * units, 31);
        float[] x = TestHelpers.RandomValues(cols, 32);
        var packed = new float[Packed.MatrixLength(gates, units, cols)];
        var packedBias = new float[length];
        Packed.PackMatrix(w, gates, units, cols, packed);
        Packed.PackVector(b, gates, units, packedBias);
        var y = new float[length];
        Packed.MatVec(packed, tiles, tileVectors, cols, ref x[0], packedBias, ref y[0]);
        // Gate g of unit j sits at (block · gates + g) · V + lane (the gate-packed order), from PyTorch's row g·units + j.
        int v = System.Numerics.Vector<float>.Count;
        var expected = new float[units * gates];
        var actual = new float[units * gates];
        for (int g = 0; g < gates; g++)
        {
            for (int j = 0; j < units; j++)
            {
                int r = g * units + j;
                float sum = b[r];
                for (int k = 0; k < cols; k++) sum = MultiplyAdd.Of(w[r * cols + k], x[k], sum);
                expected[r] = sum;
                actual[r] = y[((j / v) * gates + g) * v + j % v];
            }
        }
        TestHelpers.AssertBitEqual(expected, actual, $"gates {gates}, units {units}, cols {cols}, tiles {tiles}");
    }

    [Fact]
    public void Operands_too_short_for_the_sizes_are_rejected()
    {
        int width = Vector<float>.Count;
        var y = new float[2 * width];
        Assert.Throws<ArgumentException>(() => RowProduct.Multiply(2, 3, width, new float[5], 3, 1, new float[3 * width], width, y, width, default, false));
        Assert.Throws<ArgumentException>(() => RowProduct.Multiply(2, 3, width, new float[6], 3, 1, new float[2 * width], width, y, width, default, false));
        Assert.Throws<ArgumentException>(() => RowProduct.Multiply(3, 3, width, new float[9], 3, 1, new float[3 * width], width, y, width, default, false));
        Assert.Throws<ArgumentException>(() => RowProduct.Multiply(2, 3, width + 1, new float[6], 3, 1, new float[3 * width + 3], width + 1, new float[2 * width + 2], width + 1, default, false));
    }
}
