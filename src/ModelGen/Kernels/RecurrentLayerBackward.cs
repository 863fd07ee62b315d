using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// Backpropagation through time for one direction of one layer, reading what
/// <see cref="RecurrentLayer{TSpec, TCell, TInput}"/> recorded in its training forward. Shapes as in
/// <see cref="DirectionPass"/>; weights and gradients in PyTorch's row-major layout.
/// </summary>
/// <remarks>
/// With <see cref="Lengths"/>, row b backpropagates through its real steps only: padded steps (t ≥ len_b) get
/// no gradient and add none to <see cref="DSource"/>, and the step before the reverse direction's first,
/// t = len_b − 1, is the initial state. <see cref="DFinalH"/> and <see cref="DFinalC"/> flow into each row's
/// last real step (forward direction: t = len_b − 1; reverse: t = 0).
/// </remarks>
internal ref struct BackwardPass
{
    public ReadOnlySpan<float> Parameters;   // the module's parameter buffer
    public Span<float> Gradients;            // the module's gradient buffer, accumulated with +=
    public LayerOffsets Offsets;             // this layer and direction's, in Parameters and Gradients
    public int Batch;
    public int Steps;
    public bool Reverse;
    public ReadOnlySpan<int> Lengths;        // [B] steps of each row, or empty for T each
    public ReadOnlySpan<float> Source;       // [B, T, K] the layer's input in the training forward
    public ReadOnlySpan<float> Output;       // [B, T, D*Hout] the layer's output in the training forward
    public int Column;                       // d * Hout
    public ReadOnlySpan<float> InitialH;     // [B, Hout] or empty for zeros
    public ReadOnlySpan<float> InitialC;     // [B, H] or empty for zeros
    public ReadOnlySpan<float> GateCache;    // [B, T, G*CStride]
    public ReadOnlySpan<float> CellCache;    // [B, T, CStride]
    public ReadOnlySpan<float> DOutput;      // [B, T, D*Hout] dL/d(output), or empty for zero
    public ReadOnlySpan<float> DFinalH;      // [B, Hout] dL/dh_n, or empty for zero
    public ReadOnlySpan<float> DFinalC;      // [B, H] dL/dc_n (LSTM), or empty for zero
    public Span<float> DSource;              // [B, T, K] dL/d(source), accumulated; empty to skip
    public Span<float> DInitialH;            // [B, Hout] written; empty to skip
    public Span<float> DInitialC;            // [B, H] written; empty to skip
    // Workspace; Kp and Houtp are K and Hout rounded up to whole vectors.
    public Span<float> DH;                   // [B, Houtp] dL/dh_t from the steps after t
    public Span<float> DC;                   // [B, CStride] dL/dc_t from the steps after t
    public Span<float> DZInput;              // [B, T, G*CStride] dzx of every real step, gate-major
    public Span<float> DZHidden;             // [B, T, G*CStride] dzh (GRU); empty when it equals dzx
    public Span<float> WeightIhRows;         // [G*H, Kp] W_ih, rows padded
    public Span<float> WeightHhRows;         // [G*H, Houtp] W_hh, rows padded
    public Span<float> GradientColumns;      // [max(K, Hout), G*CStride] dW_ihᵀ, then dW_hhᵀ
    public Span<float> DSourceRows;          // [DirectionPass.SourceChunkRows, Kp] dx of a chunk of rows
    public Span<float> Scratch;              // Sizes.BackwardScratch floats
}

internal static class RecurrentLayerBackward<TSpec, TCell, TInput>
    where TSpec : struct, IRecurrentModelSpec
    where TCell : struct, ICell
    where TInput : struct, IDim
{

    /// <summary>
    /// Walks the steps in the reverse of the forward order. At each step, row by row: dh = dL/d(output) + dL/dh
    /// from the step after; through the projection (LSTM with proj_size); through the cell, which records dzx and
    /// dzh; then for the step's rows together <c>dh_prev = W_hhᵀ dzh + direct</c>. After the loop, over all rows
    /// at once: <c>dW_ih += dZxᵀ X</c>, <c>dW_hh += dZhᵀ H_prev</c>, the biases and <c>dX += dZx W_ih</c>.
    /// </summary>
    /// <remarks>
    /// Each gradient element is summed in a fixed order (rows b-major then t ascending; gates and units in
    /// PyTorch's row order) in one lane, so the result does not depend on the vector width.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(scoped ref BackwardPass p)
    {
        int inputSize = TInput.Value, hidden = TSpec.HiddenSize, state = Sizes<TSpec>.State;
        int gates = TCell.GateCount, cStride = Sizes<TSpec>.CStride, outFeatures = Sizes<TSpec>.OutputFeatures;
        int gateRows = gates * hidden, gateSpan = gates * cStride;
        int statePadded = Sizes<TSpec>.Padded(state);
        bool projected = TSpec.ProjSize > 0;
        int batch = p.Batch, steps = p.Steps, rows = batch * steps;
        LayerOffsets o = p.Offsets;
        Span<float> dWeightIh = p.Gradients.Slice(o.WeightIh, gateRows * inputSize);
        Span<float> dWeightHh = p.Gradients.Slice(o.WeightHh, gateRows * state);
        Span<float> dBiasIh = o.BiasIh >= 0 ? p.Gradients.Slice(o.BiasIh, gateRows) : default;
        Span<float> dBiasHh = o.BiasHh >= 0 ? p.Gradients.Slice(o.BiasHh, gateRows) : default;

        Span<float> scratch = p.Scratch;
        Span<float> dState = Take(ref scratch, cStride);              // dL/dh_t, Hout used (with projection)
        Span<float> dCell = Take(ref scratch, cStride);               // dL/dh of the cell (before W_hr)
        Span<float> hCell = Take(ref scratch, cStride);               // o ⊙ tanh(c), LSTM with projection
        Span<float> hPreviousRow = Take(ref scratch, cStride);        // GRU: h_{t-1} padded
        Span<float> cPreviousRow = Take(ref scratch, cStride);        // LSTM: c_0 padded
        Span<float> biasSum = Take(ref scratch, gateSpan);
        Span<float> dh = p.DH[..(batch * statePadded)];
        Span<float> dc = p.DC[..(batch * cStride)];
        Span<float> dzInput = p.DZInput[..(rows * gateSpan)];
        Span<float> dzHidden = p.DZHidden.IsEmpty ? dzInput : p.DZHidden[..(rows * gateSpan)];
        Span<float> weightHhRows = p.WeightHhRows[..(gateRows * statePadded)];
        PadRows(p.Parameters.Slice(o.WeightHh, gateRows * state), state, weightHhRows, statePadded);
        if (!p.DSource.IsEmpty)
        {
            int inputPadded = Sizes<TSpec>.Padded(inputSize);
            PadRows(p.Parameters.Slice(o.WeightIh, gateRows * inputSize), inputSize, p.WeightIhRows[..(gateRows * inputPadded)], inputPadded);
        }
        // The carried dL/dh and dL/dc start as the gradient of the final state: each row's first step here is
        // its last real step, whose h and c are h_n and c_n.
        dh.Clear();
        dc.Clear();
        for (int b = 0; b < batch; b++)
        {
            if (!p.DFinalH.IsEmpty) p.DFinalH.Slice(b * state, state).CopyTo(dh.Slice(b * statePadded));
            if (!p.DFinalC.IsEmpty) p.DFinalC.Slice(b * hidden, hidden).CopyTo(dc.Slice(b * cStride));
        }
        hPreviousRow.Clear();
        cPreviousRow.Clear();
        dCell.Clear();
        ReadOnlySpan<int> lengths = p.Lengths;
        bool ragged = !lengths.IsEmpty;
        if (ragged && lengths.Length < batch) throw new ArgumentException("Lengths is shorter than the batch.", nameof(p));

        for (int s = 0; s < steps; s++)
        {
            int t = p.Reverse ? s : steps - 1 - s;
            int tPrevious = p.Reverse ? t + 1 : t - 1;
            for (int first = 0; first < batch;)
            {
                int end = RowLengths.RunEnd(lengths, first, batch, t, steps);
                if (end == first)
                {
                    first++;
                    continue;
                }
                for (int b = first; b < end; b++)
                {
                    int length = RowLengths.Of(lengths, b, steps);
                    bool hasPrevious = tPrevious >= 0 && tPrevious < length;
                    int row = b * steps + t;
                    if (b + 1 < end)
                    {
                        // The next row's records are a sequence (T rows) further on, past what the hardware prefetches.
                        int next = row + steps;
                        Mem.Prefetch(p.GateCache.Slice(next * gateSpan, gateSpan));
                        Mem.Prefetch(p.CellCache.Slice(next * cStride, cStride));
                        if (tPrevious >= 0 && tPrevious < steps) Mem.Prefetch(p.CellCache.Slice((next - t + tPrevious) * cStride, cStride));
                        if (!p.DOutput.IsEmpty) Mem.Prefetch(p.DOutput.Slice(next * outFeatures + p.Column, state));
                    }
                    ReadOnlySpan<float> gateRecord = p.GateCache.Slice(row * gateSpan, gateSpan);
                    ReadOnlySpan<float> cellRecord = p.CellCache.Slice(row * cStride, cStride);

                    // dL/dh_t: from the output at t and from the step after t.
                    Span<float> dhRow = dh.Slice(b * statePadded, statePadded);
                    ReadOnlySpan<float> dOutput = p.DOutput.IsEmpty ? default : p.DOutput.Slice(row * outFeatures + p.Column, state);
                    if (projected)
                    {
                        // h = W_hr h_cell with h_cell = o ⊙ tanh(c): dW_hr += dh ⊗ h_cell, dh_cell = W_hrᵀ dh.
                        Backprop.Sum(dState[..state], dOutput, dhRow[..state]);
                        dCell.Clear();
                        RecomputeProjectedCell(gateRecord, cellRecord, hCell);
                        Backprop.AddOuter(p.Gradients.Slice(o.WeightHr, state * hidden), dState[..state], hCell[..hidden]);
                        Backprop.AddTransposedProduct(dCell[..hidden], p.Parameters.Slice(o.WeightHr, state * hidden), dState[..state]);
                    }
                    else
                    {
                        // Only the first Hout floats: the padding stays as cleared before the loop, zero.
                        Backprop.Sum(dCell[..state], dOutput, dhRow[..state]);
                    }

                    // The records of step t − 1 are read in place; only a missing step (the initial state) is copied.
                    scoped ReadOnlySpan<float> hPrevious = default, cPrevious = default;
                    if (TSpec.Cell == CellKind.Gru)
                    {
                        // Output rows are Hout floats apart: copied to give the cell a padded row.
                        if (hasPrevious) p.Output.Slice((b * steps + tPrevious) * outFeatures + p.Column, state).CopyTo(hPreviousRow);
                        else if (p.InitialH.IsEmpty) hPreviousRow[..state].Clear();
                        else p.InitialH.Slice(b * state, state).CopyTo(hPreviousRow);
                        hPrevious = hPreviousRow;
                    }
                    if (TSpec.Cell == CellKind.Lstm)
                    {
                        if (hasPrevious) cPrevious = p.CellCache.Slice((b * steps + tPrevious) * cStride, cStride);
                        else
                        {
                            if (p.InitialC.IsEmpty) cPreviousRow[..hidden].Clear();
                            else p.InitialC.Slice(b * hidden, hidden).CopyTo(cPreviousRow);
                            cPrevious = cPreviousRow;
                        }
                    }

                    // The cell writes dh_prev's direct part over dh's row, which dCell has already taken in.
                    TCell.Backward(new CellBackward
                    {
                        Padded = cStride,
                        Relu = TSpec.Nonlinearity == RnnNonlinearity.Relu,
                        Gates = gateRecord,
                        Cell = cellRecord,
                        CellPrevious = cPrevious,
                        HPrevious = hPrevious,
                        DH = dCell,
                        DC = dc.Slice(b * cStride, cStride),
                        DZInput = dzInput.Slice(row * gateSpan, gateSpan),
                        DZHidden = p.DZHidden.IsEmpty ? default : dzHidden.Slice(row * gateSpan, gateSpan),
                        DHPreviousDirect = dhRow,
                    });
                }
                // dh_prev += W_hhᵀ dzh for the run's rows together, over W_hh's rows in PyTorch's order (gate-major).
                // Without padded units a row's gates follow each other as W_hh's rows do: one product over all.
                int gateCalls = cStride == hidden ? 1 : gates, gateRowsPerCall = gateRows / gateCalls;
                for (int g = 0; g < gateCalls; g++)
                {
                    RowProduct.Multiply(end - first, gateRowsPerCall, statePadded,
                        dzHidden[((first * steps + t) * gateSpan + g * cStride)..], steps * gateSpan, 1,
                        weightHhRows[(g * hidden * statePadded)..], statePadded,
                        dh[(first * statePadded)..], statePadded, default, accumulate: true);
                }
                first = end;
            }
        }
        for (int b = 0; b < batch; b++)
        {
            if (!p.DInitialH.IsEmpty) dh.Slice(b * statePadded, state).CopyTo(p.DInitialH.Slice(b * state, state));
            if (!p.DInitialC.IsEmpty) dc.Slice(b * cStride, hidden).CopyTo(p.DInitialC.Slice(b * hidden, hidden));
        }

        // Over every real row at once. Without lengths the rows of all sequences follow each other: one run.
        Span<float> columns = p.GradientColumns;
        Span<float> inputColumns = columns[..(inputSize * gateSpan)];
        inputColumns.Clear();
        if (!dBiasIh.IsEmpty) biasSum.Clear();
        for (int b = 0; b < batch; b++)
        {
            int first = b * steps, count = ragged ? RowLengths.Of(lengths, b, steps) : rows;
            // dW_ihᵀ[k, :] += Σ_n x[n, k] · dzx[n, :]
            RowProduct.Multiply(inputSize, count, gateSpan, p.Source[(first * inputSize)..], 1, inputSize,
                dzInput[(first * gateSpan)..], gateSpan, inputColumns, gateSpan, default, accumulate: true);
            if (!dBiasIh.IsEmpty) SumRows(dzInput, first, count, biasSum);
            if (!p.DSource.IsEmpty) AddSourceGradient(ref p, dzInput, first, count);
            if (!ragged) break;
        }
        AddColumns(inputColumns, dWeightIh, inputSize);
        if (!dBiasIh.IsEmpty) AddColumns(biasSum, dBiasIh, 1);
        // Without GRU's separate n gate, dzh is dzx and so is the sum of b_hh's gradient.
        bool sumHidden = !dBiasHh.IsEmpty && !p.DZHidden.IsEmpty;
        if (!dBiasHh.IsEmpty && !sumHidden) AddColumns(biasSum, dBiasHh, 1);

        Span<float> hiddenColumns = columns[..(state * gateSpan)];
        hiddenColumns.Clear();
        if (sumHidden) biasSum.Clear();
        for (int b = 0; b < batch; b++)
        {
            int first = b * steps, length = RowLengths.Of(lengths, b, steps);
            // dW_hhᵀ[k, :] += Σ h_prev[k] · dzh: h_prev of step t is the output of the step before it in this
            // direction (forward: t − 1, reverse: t + 1), and the initial state for the row's first step.
            if (length > 1)
            {
                int firstWithPrevious = p.Reverse ? first : first + 1, previousOfFirst = p.Reverse ? first + 1 : first;
                RowProduct.Multiply(state, length - 1, gateSpan, p.Output[(previousOfFirst * outFeatures + p.Column)..], 1, outFeatures,
                    dzHidden[(firstWithPrevious * gateSpan)..], gateSpan, hiddenColumns, gateSpan, default, accumulate: true);
            }
            if (!p.InitialH.IsEmpty)
            {
                int initialRow = p.Reverse ? first + length - 1 : first;
                RowProduct.Multiply(state, 1, gateSpan, p.InitialH[(b * state)..], 1, 1,
                    dzHidden[(initialRow * gateSpan)..], gateSpan, hiddenColumns, gateSpan, default, accumulate: true);
            }
            if (sumHidden) SumRows(dzHidden, first, length, biasSum);
        }
        AddColumns(hiddenColumns, dWeightHh, state);
        if (sumHidden) AddColumns(biasSum, dBiasHh, 1);
    }

    /// <summary><c>sum += dz[n, :]</c> for the rows n of one run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumRows(ReadOnlySpan<float> dz, int first, int count, Span<float> sum)
    {
        int gateSpan = sum.Length;
        for (int n = first; n < first + count; n++) Backprop.Add(sum, dz.Slice(n * gateSpan, gateSpan));
    }

    /// <summary>
    /// <c>dx[n, :] += Σ_r dzx[n, r] · W_ih[r, :]</c> for the rows of one run, in chunks through
    /// <see cref="BackwardPass.DSourceRows"/> (the products need whole vectors, the source rows have K floats).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddSourceGradient(scoped ref BackwardPass p, ReadOnlySpan<float> dzInput, int first, int count)
    {
        int inputSize = TInput.Value, hidden = TSpec.HiddenSize, cStride = Sizes<TSpec>.CStride;
        int gates = TCell.GateCount, gateSpan = gates * cStride, inputPadded = Sizes<TSpec>.Padded(inputSize);
        int chunkRows = DirectionPass.SourceChunkRows;
        ReadOnlySpan<float> weightIhRows = p.WeightIhRows[..(gates * hidden * inputPadded)];
        Span<float> chunk = p.DSourceRows[..(chunkRows * inputPadded)];
        for (int row = first; row < first + count; row += chunkRows)
        {
            int rowsNow = Math.Min(chunkRows, first + count - row);
            for (int g = 0; g < gates; g++)
            {
                RowProduct.Multiply(rowsNow, hidden, inputPadded, dzInput[(row * gateSpan + g * cStride)..], gateSpan, 1,
                    weightIhRows[(g * hidden * inputPadded)..], inputPadded, chunk, inputPadded, default, accumulate: g > 0);
            }
            for (int i = 0; i < rowsNow; i++)
            {
                Backprop.Add(p.DSource.Slice((row + i) * inputSize, inputSize), chunk.Slice(i * inputPadded, inputSize));
            }
        }
    }

    /// <summary>Row-major <c>[G·H, K]</c> into rows of <paramref name="paddedWidth"/> floats, the padding zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PadRows(ReadOnlySpan<float> w, int width, Span<float> padded, int paddedWidth)
    {
        int rowCount = w.Length / width;
        for (int r = 0; r < rowCount; r++)
        {
            w.Slice(r * width, width).CopyTo(padded.Slice(r * paddedWidth));
            padded.Slice(r * paddedWidth + width, paddedWidth - width).Clear();
        }
    }

    /// <summary>
    /// <c>gradient[g·H + j, k] += columns[k, g·Hp + j]</c>: a transposed, gate-major padded accumulation into
    /// PyTorch's row-major <c>[G·H, K]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddColumns(ReadOnlySpan<float> columns, Span<float> gradient, int width)
    {
        int hidden = TSpec.HiddenSize, cStride = Sizes<TSpec>.CStride, gateSpan = TCell.GateCount * cStride;
        for (int g = 0; g < TCell.GateCount; g++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int r = g * hidden + j, column = g * cStride + j;
                for (int k = 0; k < width; k++) gradient[r * width + k] += columns[k * gateSpan + column];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Span<float> Take(ref Span<float> scratch, int length)
    {
        Span<float> part = scratch[..length];
        scratch = scratch[length..];
        return part;
    }

    /// <summary>The LSTM cell's output before the projection, <c>o ⊙ tanh(c)</c>, from the step's records.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RecomputeProjectedCell(ReadOnlySpan<float> gateRecord, ReadOnlySpan<float> cellRecord, Span<float> hCell)
    {
        int cStride = Sizes<TSpec>.CStride;
        ReadOnlySpan<Vector<float>> o = Mem.Vectors(gateRecord.Slice(3 * cStride, cStride)), c = Mem.Vectors(cellRecord);
        Span<Vector<float>> h = Mem.Vectors(hCell[..cStride]);
        for (int u = 0; u < h.Length; u++) h[u] = o[u] * Activations.Tanh(c[u]);
    }
}
