using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// Attention of each row's query over its sequence's memory, the context appended to the row's input:
/// with <c>In = <see cref="IAttentionSpec.InputSize"/></c>, <c>Q = <see cref="IAttentionSpec.QuerySize"/></c>,
/// <c>K = <see cref="IAttentionSpec.KeySize"/></c> and <c>A = <see cref="IAttentionSpec.AttentionSize"/></c>,
/// row r (of sequence <c>b = r / rowsPerSequence</c>) computes
/// <code>
/// score[r, s]   = score(query[r], memory[b, s])                      s &lt; len_b (masked, weight 0, beyond)
/// weights[r, :] = softmax(score[r, :len_b])                          max subtracted
/// context[r]    = Σ_s weights[r, s] · memory[b, s]
/// output[r]     = cat(input[r], context[r])                          [In + K]
/// </code>
/// with the score of <see cref="IAttentionSpec.Score"/> (see <see cref="AttentionScore"/>). memory is batch-first
/// <c>[B, Ts, K]</c>, memoryLengths <c>[B]</c> (each in <c>[1, Ts]</c>) or empty for Ts everywhere.
/// </summary>
/// <remarks>
/// <para>Parameters are one slice in PyTorch's <c>state_dict</c> order: none for Dot; <c>Wa.weight [Q, K]</c> for
/// General; <c>Wa.weight [A, Q], Wa.bias [A], Ua.weight [A, K], Ua.bias [A], Va.weight [1, A], Va.bias [1]</c> for
/// Additive.</para>
/// <para>The part of the score that depends only on the memory is computed once per batch by
/// <see cref="ProjectKeys"/>: <c>keys[b, s] = Wa k</c> (<c>[Q]</c>) for General, <c>Ua k + Ua.bias</c> (<c>[A]</c>) for
/// Additive, nothing for Dot (the memory is its own key).</para>
/// <para>Every dot product is summed in one fixed order (four partial sums by 128-bit vectors, then the tail; a bias
/// added after it), every other update is element by element on vectors of any width, the additive score's tanh is
/// <see cref="Activations.Tanh"/> on every element, and all use plain multiplies and adds: results do not depend on
/// <see cref="System.Numerics.Vector{T}.Count"/> and are the same on every machine. Softmax weights are flushed of
/// subnormals (<see cref="Subnormals"/>) so the context sums never meet one.</para>
/// </remarks>
/// <typeparam name="TSpec">The module's sizes (JIT constants).</typeparam>
public static class AttentionKernel<TSpec> where TSpec : struct, IAttentionSpec
{
    private static int In => TSpec.InputSize;

    private static int Q => TSpec.QuerySize;

    private static int K => TSpec.KeySize;

    private static int A => TSpec.AttentionSize;

    private static bool IsDot => TSpec.Score == AttentionScore.Dot;

    private static bool IsGeneral => TSpec.Score == AttentionScore.General;

    private static bool IsAdditive => TSpec.Score == AttentionScore.Additive;

    /// <summary>Features per projected key: Q for General, A for Additive, 0 for Dot.</summary>
    private static int KeyWidth => IsGeneral ? Q : IsAdditive ? A : 0;

    // Additive parameter offsets (state_dict order).
    private static int WaBias => A * Q;

    private static int UaWeight => WaBias + A;

    private static int UaBias => UaWeight + A * K;

    private static int VaWeight => UaBias + A;

    private static int VaBias => VaWeight + A;

    /// <summary>Floats of the parameter slice: 0 (Dot), <c>Q·K</c> (General) or <c>A·Q + A + A·K + A + A + 1</c> (Additive).</summary>
    public static int ParameterLength
    {
        get
        {
            CheckSpec();
            return IsGeneral ? Q * K : IsAdditive ? VaBias + 1 : 0;
        }
    }

    /// <summary>Features per output row: <c>In + K</c> (the input, then the context).</summary>
    public static int OutputSize => In + K;

    /// <summary>
    /// Floats of the projected keys for <paramref name="batch"/> memories of <paramref name="sourceSteps"/> steps:
    /// <c>B·Ts·Q</c> (General, <c>Wa k</c>), <c>B·Ts·A</c> (Additive, <c>Ua k + Ua.bias</c>), 0 (Dot).
    /// </summary>
    public static long KeysLength(int batch, int sourceSteps) => (long)batch * sourceSteps * KeyWidth;

    /// <summary>
    /// Floats a training forward records for the backward besides the weights: for Additive the tanh values,
    /// <c>rows·Ts·A</c> (laid out <c>[rows, Ts, A]</c>; masked steps are not written); 0 for Dot and General.
    /// </summary>
    public static long RecordLength(int rows, int sourceSteps) => IsAdditive ? (long)rows * sourceSteps * A : 0;

    /// <summary>
    /// Floats of the scratch <see cref="Forward"/> and <see cref="Backward"/> need, whatever the number of rows:
    /// <c>Ts</c> (score gradients) + <c>Ts·Q</c> or <c>Ts·A</c> (one sequence's key gradients; none for Dot) + <c>A</c>.
    /// </summary>
    public static int ScratchLength(int sourceSteps)
    {
        SpanChecks.NonNegative(sourceSteps, nameof(sourceSteps));
        return checked(sourceSteps + sourceSteps * KeyWidth + A);
    }

    /// <summary>Throws unless the spec's sizes fit its score (a generator or hand-written spec error).</summary>
    private static void CheckSpec()
    {
        if (In < 0 || Q < 0 || K < 0 || A < 0
            || (IsDot && (Q != K || A != 0))
            || (IsGeneral && A != 0)
            || (IsAdditive && A == 0)
            || !(IsDot || IsGeneral || IsAdditive))
        {
            throw new InvalidOperationException(
                $"{typeof(TSpec).Name}: sizes In = {In}, Q = {Q}, K = {K}, A = {A} do not fit the {TSpec.Score} score " +
                "(Dot needs Q = K and A = 0, General A = 0, Additive A > 0).");
        }
    }

    /// <summary>
    /// PyTorch's <c>nn.Linear</c> <c>reset_parameters</c> for each Linear in state_dict order: weight then bias drawn
    /// from U(−1/√in_features, 1/√in_features) — General: <c>Wa</c> with in = K; Additive: <c>Wa</c> (in = Q),
    /// <c>Ua</c> (in = K), <c>Va</c> (in = A). Dot has nothing to draw.
    /// </summary>
    public static void Initialize(Span<float> parameters, ref SplitMix64 random)
    {
        SpanChecks.Exact(parameters.Length, ParameterLength, nameof(parameters));
        if (IsGeneral)
        {
            Uniform(parameters, K, ref random);
        }
        else if (IsAdditive)
        {
            Uniform(parameters[..UaWeight], Q, ref random);
            Uniform(parameters[UaWeight..VaWeight], K, ref random);
            Uniform(parameters[VaWeight..], A, ref random);
        }
    }

    private static void Uniform(Span<float> values, int inFeatures, ref SplitMix64 random)
    {
        float bound = inFeatures > 0 ? 1f / MathF.Sqrt(inFeatures) : 0f;
        for (int i = 0; i < values.Length; i++) values[i] = random.NextUniform(-bound, bound);
    }

    /// <summary>
    /// The memory-only part of the score for <paramref name="batch"/> memories <c>[B, Ts, K]</c>, into
    /// <paramref name="keys"/> (<see cref="KeysLength"/> floats, at least): General <c>keys[b, s, i] = Σ_j Wa[i, j]·m[b, s, j]</c>;
    /// Additive <c>keys[b, s, a] = Ua.bias[a] + Σ_j Ua[a, j]·m[b, s, j]</c>; Dot writes nothing. Every step is
    /// projected, padding included (the forward ignores masked steps).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ProjectKeys(ReadOnlySpan<float> parameters, ReadOnlySpan<float> memory, int batch, int sourceSteps, Span<float> keys)
    {
        SpanChecks.Exact(parameters.Length, ParameterLength, nameof(parameters));
        SpanChecks.NonNegative(batch, nameof(batch));
        SpanChecks.NonNegative(sourceSteps, nameof(sourceSteps));
        long steps = (long)batch * sourceSteps;
        SpanChecks.AtLeast(memory.Length, steps * K, nameof(memory));
        SpanChecks.AtLeast(keys.Length, KeysLength(batch, sourceSteps), nameof(keys));
        if (IsDot) return;

        int width = KeyWidth, k = K;
        ReadOnlySpan<float> weight = IsGeneral ? parameters[..(Q * K)] : parameters.Slice(UaWeight, A * K);
        for (int step = 0; step < steps; step++)
        {
            ReadOnlySpan<float> m = memory.Slice(step * k, k);
            Span<float> key = keys.Slice(step * width, width);
            for (int i = 0; i < width; i++)
            {
                key[i] = (IsAdditive ? parameters[UaBias + i] : 0f) + Dot(weight.Slice(i * k, k), m);
            }
        }
    }

    /// <summary>The checks Forward and Backward share, in argument order; returns B.</summary>
    private static int CheckCommon(int parametersLength, int queryLength, int rows, int rowsPerSequence, int memoryLength,
        int keysLength, ReadOnlySpan<int> memoryLengths, int sourceSteps, int weightsLength, int scratchLength)
    {
        CheckSpec();
        SpanChecks.Exact(parametersLength, ParameterLength, "parameters");
        SpanChecks.NonNegative(rows, nameof(rows));
        if (rowsPerSequence < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(rowsPerSequence), rowsPerSequence, "rowsPerSequence must be at least 1.");
        }
        if (rows % rowsPerSequence != 0)
        {
            throw new ArgumentException(
                $"rows: expected a multiple of rowsPerSequence = {rowsPerSequence} (whole sequences), got {rows}.", nameof(rows));
        }
        if (sourceSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(sourceSteps), sourceSteps, "Attention needs at least one memory step.");
        }
        int batch = rows / rowsPerSequence;
        SpanChecks.AtLeast(queryLength, (long)rows * Q, "query");
        SpanChecks.AtLeast(memoryLength, (long)batch * sourceSteps * K, "memory");
        SpanChecks.AtLeast(keysLength, KeysLength(batch, sourceSteps), "keys");
        SequenceLengths.Check(memoryLengths, batch, sourceSteps, nameof(memoryLengths));
        SpanChecks.AtLeast(weightsLength, (long)rows * sourceSteps, "weights");
        SpanChecks.AtLeast(scratchLength, ScratchLength(sourceSteps), "scratch");
        return batch;
    }

    /// <summary>
    /// The forward for <paramref name="rows"/> rows, <paramref name="rowsPerSequence"/> consecutive rows per memory
    /// (1 for one decoding step per sequence, Tt for a teacher-forced sequence of Tt steps). Shapes (each at least):
    /// input <c>[rows, In]</c>, query <c>[rows, Q]</c> (may be the same span as input), memory <c>[B, Ts, K]</c> with
    /// <c>B = rows / rowsPerSequence</c>, keys from <see cref="ProjectKeys"/> (<see cref="KeysLength"/>; empty for
    /// Dot), weights <c>[rows, Ts]</c> (written; exactly 0 at masked steps), output <c>[rows, In + K]</c> (must not
    /// overlap the inputs), scratch <see cref="ScratchLength"/>. With <see cref="RecordCache"/> the record
    /// (<see cref="RecordLength"/>) receives what <see cref="Backward"/> needs; with <see cref="NoCache"/> it is not
    /// touched and may be empty.
    /// </summary>
    /// <exception cref="ArgumentException">A span too short (named, with the expected and actual lengths), rows not a
    /// multiple of rowsPerSequence, or a memory length outside [1, Ts]; thrown before anything is written.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TCache>(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, ReadOnlySpan<float> query, int rows, int rowsPerSequence,
        ReadOnlySpan<float> memory, ReadOnlySpan<float> keys, ReadOnlySpan<int> memoryLengths, int sourceSteps,
        Span<float> weights, Span<float> output, Span<float> record, Span<float> scratch) where TCache : struct, ICacheMode
    {
        CheckCommon(parameters.Length, query.Length, rows, rowsPerSequence, memory.Length, keys.Length,
            memoryLengths, sourceSteps, weights.Length, scratch.Length);
        SpanChecks.AtLeast(input.Length, (long)rows * In, nameof(input));
        SpanChecks.AtLeast(output.Length, (long)rows * OutputSize, nameof(output));
        if (TCache.Enabled) SpanChecks.AtLeast(record.Length, RecordLength(rows, sourceSteps), nameof(record));

        int ts = sourceSteps, inF = In, q = Q, k = K, a = A, width = KeyWidth, outF = OutputSize;
        Span<float> projectedQuery = scratch[..a];   // Additive: Wa q + Wa.bias
        for (int r = 0; r < rows; r++)
        {
            int b = r / rowsPerSequence, length = SequenceLengths.Of(memoryLengths, b, ts);
            ReadOnlySpan<float> qr = query.Slice(r * q, q);
            ReadOnlySpan<float> mb = memory.Slice(b * ts * k, ts * k);
            Span<float> w = weights.Slice(r * ts, ts);

            // Scores into w[s] for s < length.
            if (IsDot)
            {
                for (int s = 0; s < length; s++) w[s] = Dot(qr, mb.Slice(s * k, k));
            }
            else if (IsGeneral)
            {
                ReadOnlySpan<float> kb = keys.Slice(b * ts * width, ts * width);
                for (int s = 0; s < length; s++) w[s] = Dot(qr, kb.Slice(s * width, width));
            }
            else
            {
                for (int i = 0; i < a; i++) projectedQuery[i] = parameters[WaBias + i] + Dot(parameters.Slice(i * q, q), qr);
                ReadOnlySpan<float> kb = keys.Slice(b * ts * a, ts * a);
                ReadOnlySpan<float> va = parameters.Slice(VaWeight, a);
                float vaBias = parameters[VaBias];
                for (int s = 0; s < length; s++)
                {
                    // tanh(Wa q + Ua k) of every hidden unit (kept for backward in training), then Va · it.
                    Span<float> t = TCache.Enabled ? record.Slice((r * ts + s) * a, a) : scratch.Slice(a, a);
                    TanhOfSum(projectedQuery, kb.Slice(s * a, a), t);
                    w[s] = vaBias + Dot(va, t);
                }
            }

            // Softmax over the valid steps, max subtracted; masked steps exactly 0.
            float max = w[0];
            for (int s = 1; s < length; s++) max = MathF.Max(max, w[s]);
            float total = 0f;
            for (int s = 0; s < length; s++)
            {
                float e = MathF.Exp(w[s] - max);
                w[s] = e;
                total += e;
            }
            for (int s = 0; s < length; s++) w[s] = Subnormals.Flush(w[s] / total);
            w[length..].Clear();

            // cat(input, context).
            Span<float> y = output.Slice(r * outF, outF);
            input.Slice(r * inF, inF).CopyTo(y);
            Span<float> context = y[inF..];
            context.Clear();
            for (int s = 0; s < length; s++) AddScaled(context, w[s], mb.Slice(s * k, k));
        }
    }

    /// <summary>
    /// Backpropagation of <paramref name="dOutput"/> (<c>[rows, In + K]</c>) through the forward that produced
    /// <paramref name="weights"/> and <paramref name="record"/> (written by <c>Forward&lt;RecordCache&gt;</c> with the
    /// same arguments; the record may be empty for Dot and General). First dInput (<c>[rows, In]</c>) is
    /// overwritten with the pass-through part of dOutput for every row; only then do the query gradient
    /// (<c>[rows, Q]</c>), the memory gradient (<c>[B, Ts, K]</c>: the context path <c>weights·dcontext</c>, plus the
    /// score path — through Wa or Ua, or <c>dscore·q</c> for Dot) and the parameter gradients
    /// (<see cref="ParameterLength"/>) accumulate, so dQuery may be dInput itself (the query is the input).
    /// Masked memory steps receive nothing. dOutput must not overlap the gradients.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Forward"/>, and a gradient span of the wrong length;
    /// thrown before anything is written.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> query, int rows, int rowsPerSequence,
        ReadOnlySpan<float> memory, ReadOnlySpan<float> keys, ReadOnlySpan<int> memoryLengths, int sourceSteps,
        ReadOnlySpan<float> weights, ReadOnlySpan<float> record, ReadOnlySpan<float> dOutput,
        Span<float> dInput, Span<float> dQuery, Span<float> dMemory,
        Span<float> dParameters, Span<float> scratch)
    {
        int batch = CheckCommon(parameters.Length, query.Length, rows, rowsPerSequence, memory.Length, keys.Length,
            memoryLengths, sourceSteps, weights.Length, scratch.Length);
        SpanChecks.AtLeast(record.Length, RecordLength(rows, sourceSteps), nameof(record));
        SpanChecks.AtLeast(dOutput.Length, (long)rows * OutputSize, nameof(dOutput));
        SpanChecks.AtLeast(dInput.Length, (long)rows * In, nameof(dInput));
        SpanChecks.AtLeast(dQuery.Length, (long)rows * Q, nameof(dQuery));
        SpanChecks.AtLeast(dMemory.Length, (long)batch * sourceSteps * K, nameof(dMemory));
        SpanChecks.Exact(dParameters.Length, ParameterLength, nameof(dParameters));

        int ts = sourceSteps, inF = In, q = Q, k = K, a = A, width = KeyWidth, outF = OutputSize;

        // The pass-through, for every row, before anything reads or adds into dQuery (which may be dInput).
        for (int r = 0; r < rows; r++) dOutput.Slice(r * outF, inF).CopyTo(dInput.Slice(r * inF, inF));

        Span<float> dScore = scratch[..ts];
        Span<float> dKeys = scratch.Slice(ts, ts * width);           // one sequence's ∂L/∂keys, [Ts, width]
        Span<float> dProjected = scratch.Slice(ts + ts * width, a);  // Additive: ∂L/∂(Wa q + Wa.bias) of one row
        for (int b = 0; b < batch; b++)
        {
            int length = SequenceLengths.Of(memoryLengths, b, ts);
            ReadOnlySpan<float> mb = memory.Slice(b * ts * k, ts * k);
            Span<float> dmb = dMemory.Slice(b * ts * k, ts * k);
            dKeys[..(length * width)].Clear();
            for (int r = b * rowsPerSequence; r < (b + 1) * rowsPerSequence; r++)
            {
                ReadOnlySpan<float> qr = query.Slice(r * q, q);
                ReadOnlySpan<float> w = weights.Slice(r * ts, ts);
                ReadOnlySpan<float> dContext = dOutput.Slice(r * outF + inF, k);
                Span<float> dq = dQuery.Slice(r * q, q);

                // Context path: ∂L/∂w[s] = dcontext · m[s], ∂L/∂m[s] += w[s] · dcontext.
                float weighted = 0f;
                for (int s = 0; s < length; s++)
                {
                    ReadOnlySpan<float> m = mb.Slice(s * k, k);
                    float dw = Dot(dContext, m);
                    dScore[s] = dw;
                    weighted += w[s] * dw;
                    AddScaled(dmb.Slice(s * k, k), w[s], dContext);
                }
                // Softmax: ∂L/∂score[s] = w[s] · (∂L/∂w[s] − Σ_j w[j] ∂L/∂w[j]).
                for (int s = 0; s < length; s++) dScore[s] = w[s] * (dScore[s] - weighted);

                if (IsDot)
                {
                    for (int s = 0; s < length; s++)
                    {
                        AddScaled(dq, dScore[s], mb.Slice(s * k, k));
                        AddScaled(dmb.Slice(s * k, k), dScore[s], qr);
                    }
                }
                else if (IsGeneral)
                {
                    ReadOnlySpan<float> kb = keys.Slice(b * ts * q, ts * q);
                    for (int s = 0; s < length; s++)
                    {
                        AddScaled(dq, dScore[s], kb.Slice(s * q, q));
                        AddScaled(dKeys.Slice(s * q, q), dScore[s], qr);
                    }
                }
                else
                {
                    ReadOnlySpan<float> va = parameters.Slice(VaWeight, a);
                    Span<float> dVa = dParameters.Slice(VaWeight, a);
                    dProjected.Clear();
                    for (int s = 0; s < length; s++)
                    {
                        float ds = dScore[s];
                        ReadOnlySpan<float> t = record.Slice((r * ts + s) * a, a);
                        Span<float> dKey = dKeys.Slice(s * a, a);
                        dParameters[VaBias] += ds;
                        AdditiveScoreBackward(ds, va, t, dVa, dProjected, dKey);
                    }
                    // Wa: ∂Wa += dProjected ⊗ q, ∂Wa.bias += dProjected, ∂q += Waᵀ dProjected.
                    for (int i = 0; i < a; i++)
                    {
                        AddScaled(dParameters.Slice(i * q, q), dProjected[i], qr);
                        dParameters[WaBias + i] += dProjected[i];
                        AddScaled(dq, dProjected[i], parameters.Slice(i * q, q));
                    }
                }
            }

            if (IsDot) continue;
            // Keys path, once per sequence: keys[s] = W m[s] (+ bias) with W = Wa [Q, K] or Ua [A, K].
            int weightOffset = IsGeneral ? 0 : UaWeight;
            ReadOnlySpan<float> weight = parameters.Slice(weightOffset, width * k);
            Span<float> dWeight = dParameters.Slice(weightOffset, width * k);
            for (int s = 0; s < length; s++)
            {
                ReadOnlySpan<float> dKey = dKeys.Slice(s * width, width), m = mb.Slice(s * k, k);
                Span<float> dm = dmb.Slice(s * k, k);
                for (int i = 0; i < width; i++)
                {
                    AddScaled(dWeight.Slice(i * k, k), dKey[i], m);
                    AddScaled(dm, dKey[i], weight.Slice(i * k, k));
                    if (IsAdditive) dParameters[UaBias + i] += dKey[i];
                }
            }
        }
    }

    /// <summary>
    /// Σ_i x[i]·y[i] in one fixed order on every machine: four partial sums (i mod 4, by 128-bit vectors of plain
    /// multiplies and adds), added as (s₀ + s₁) + (s₂ + s₃), then the last x.Length mod 4 terms in increasing i.
    /// The order does not depend on <see cref="Vector{T}.Count"/>, so neither does the result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        y = y[..x.Length];
        int n = x.Length, i = 0;
        float sum = 0f;
        if (n >= 4)
        {
            ref float xs = ref MemoryMarshal.GetReference(x), ys = ref MemoryMarshal.GetReference(y);
            Vector128<float> partial = Vector128<float>.Zero;
            for (; i <= n - 4; i += 4)
            {
                partial += Vector128.LoadUnsafe(ref xs, (nuint)i) * Vector128.LoadUnsafe(ref ys, (nuint)i);
            }
            sum = (partial.GetElement(0) + partial.GetElement(1)) + (partial.GetElement(2) + partial.GetElement(3));
        }
        for (; i < n; i++) sum += x[i] * y[i];
        return sum;
    }

    /// <summary><c>t[i] = tanh(x[i] + y[i])</c>, by <see cref="Activations.Tanh"/> on every element (the tail too), so every width gives the same floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TanhOfSum(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> t)
    {
        int n = t.Length, i = 0, v = Vector<float>.Count;
        x = x[..n];
        y = y[..n];
        ref float xs = ref MemoryMarshal.GetReference(x), ys = ref MemoryMarshal.GetReference(y), ts = ref MemoryMarshal.GetReference(t);
        for (; i <= n - v; i += v)
        {
            Activations.Tanh(Vector.LoadUnsafe(ref xs, (nuint)i) + Vector.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref ts, (nuint)i);
        }
        for (; i < n; i++) t[i] = Activations.Tanh(new Vector<float>(x[i] + y[i]))[0];
    }

    /// <summary>
    /// The additive score's backward for one source step, element by element (so every width gives the same floats):
    /// <c>∂Va += ds·t</c>, and <c>ds·Va·(1 − t²)</c>, the gradient of <c>Wa q + Ua k</c>, added to both of theirs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AdditiveScoreBackward(float ds, ReadOnlySpan<float> va, ReadOnlySpan<float> t, Span<float> dVa,
        Span<float> dProjected, Span<float> dKey)
    {
        int n = t.Length, i = 0, v = Vector<float>.Count;
        va = va[..n];
        dVa = dVa[..n];
        dProjected = dProjected[..n];
        dKey = dKey[..n];
        ref float vas = ref MemoryMarshal.GetReference(va), tsr = ref MemoryMarshal.GetReference(t);
        ref float dvas = ref MemoryMarshal.GetReference(dVa), dps = ref MemoryMarshal.GetReference(dProjected), dks = ref MemoryMarshal.GetReference(dKey);
        var d = new Vector<float>(ds);
        for (; i <= n - v; i += v)
        {
            Vector<float> ti = Vector.LoadUnsafe(ref tsr, (nuint)i);
            (Vector.LoadUnsafe(ref dvas, (nuint)i) + d * ti).StoreUnsafe(ref dvas, (nuint)i);
            Vector<float> dPre = d * Vector.LoadUnsafe(ref vas, (nuint)i) * (Vector<float>.One - ti * ti);
            (Vector.LoadUnsafe(ref dps, (nuint)i) + dPre).StoreUnsafe(ref dps, (nuint)i);
            (Vector.LoadUnsafe(ref dks, (nuint)i) + dPre).StoreUnsafe(ref dks, (nuint)i);
        }
        for (; i < n; i++)
        {
            dVa[i] += ds * t[i];
            float dPre = ds * va[i] * (1f - t[i] * t[i]);
            dProjected[i] += dPre;
            dKey[i] += dPre;
        }
    }

    /// <summary><c>y[i] += c·x[i]</c>, each a plain multiply and add on its own element, so vectors of any width give the same floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddScaled(Span<float> y, float c, ReadOnlySpan<float> x)
    {
        int n = y.Length, i = 0, v = Vector<float>.Count;
        x = x[..n];
        ref float xs = ref MemoryMarshal.GetReference(x), ys = ref MemoryMarshal.GetReference(y);
        var scale = new Vector<float>(c);
        for (; i <= n - v; i += v) (Vector.LoadUnsafe(ref ys, (nuint)i) + scale * Vector.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        for (; i < n; i++) y[i] += c * x[i];
    }
}
