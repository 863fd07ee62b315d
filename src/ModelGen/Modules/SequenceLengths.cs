using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// The per-sequence lengths of a padded batch-first <c>[B, T, ...]</c> batch, as the reductions over time
/// (<see cref="ReduceKernel"/>) read them: sequence b holds the steps <c>t &lt; lengths[b]</c>, the rest is padding.
/// </summary>
public static class SequenceLengths
{
    /// <summary>
    /// Validates <paramref name="lengths"/> for a batch of <paramref name="batch"/> sequences of
    /// <paramref name="steps"/> steps. Empty is allowed and means every sequence is T steps long; otherwise there
    /// must be one length per sequence, each in <c>[1, T]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Not empty and not of shape [B].</exception>
    /// <exception cref="ArgumentOutOfRangeException">A length outside [1, T] (the first one is named).</exception>
    public static void Check(ReadOnlySpan<int> lengths, int batch, int steps, string argumentName)
    {
        if (lengths.IsEmpty) return;
        if (lengths.Length != batch)
        {
            throw new ArgumentException($"{argumentName}: expected shape [B] = [{batch}], got {lengths.Length}.", argumentName);
        }
        for (int b = 0; b < lengths.Length; b++)
        {
            int length = lengths[b];
            if (length < 1 || length > steps)
            {
                throw new ArgumentOutOfRangeException(argumentName, length,
                    $"{argumentName}[{b}] = {length} is outside [1, {steps}] (T = {steps}).");
            }
        }
    }

    /// <summary>The length of sequence <paramref name="b"/>: <c>lengths[b]</c>, or T when <paramref name="lengths"/> is empty.</summary>
    internal static int Of(ReadOnlySpan<int> lengths, int b, int steps) => lengths.IsEmpty ? steps : lengths[b];
}

/// <summary>The O(1) span-length checks every module kernel makes before it writes anything.</summary>
internal static class SpanChecks
{
    // Each check inlines to a compare; the throw, with its message, is a call of its own (kernels make several of
    // these checks per call, a streaming step's head a handful).

    /// <summary>Throws unless <paramref name="actual"/> == <paramref name="expected"/> (a parameter or gradient slice).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exact(int actual, long expected, string argumentName)
    {
        if (actual != expected) ThrowNotExact(actual, expected, argumentName);
    }

    /// <summary>Throws unless <paramref name="actual"/> ≥ <paramref name="expected"/> (an activation buffer; only its prefix is used).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AtLeast(int actual, long expected, string argumentName)
    {
        if (actual < expected) ThrowTooShort(actual, expected, argumentName);
    }

    /// <summary>Throws unless <paramref name="value"/> ≥ 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NonNegative(int value, string argumentName)
    {
        if (value < 0) ThrowNegative(value, argumentName);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotExact(int actual, long expected, string argumentName) =>
        throw new ArgumentException($"{argumentName}: expected length {expected}, got {actual}.", argumentName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooShort(int actual, long expected, string argumentName) =>
        throw new ArgumentException($"{argumentName}: expected length at least {expected}, got {actual}.", argumentName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNegative(int value, string argumentName) =>
        throw new ArgumentOutOfRangeException(argumentName, value, $"{argumentName} must not be negative.");
}
