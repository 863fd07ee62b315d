namespace ModelGen;

/// <summary>
/// The shape of a float span parameter of a generated method, in PyTorch notation, e.g. <c>[B, T, 8]</c>. The
/// generator puts it on every span parameter of the methods it writes; ModelGen's call-site analyzer reads it to
/// report, at compile time, a buffer whose constant length cannot have that shape.
/// </summary>
/// <remarks>
/// <para>Each dimension of <see cref="Shape"/> is either a non-negative integer or a symbol. <c>B</c> is the batch
/// size: the value of the <c>int</c> parameter named by <see cref="BatchParameter"/> when there is one, otherwise
/// whatever the arguments imply (for instance the streaming state's batch). Any other symbol (<c>T</c>, the
/// sequence length) is at least 1 and is determined by the arguments: the first span parameter, in declaration
/// order, whose argument has a constant length fixes it, and the others must agree.</para>
/// <para>The span holds the tensor row-major, so its length is the product of the dimensions.</para>
/// </remarks>
/// <param name="shape">The shape, e.g. <c>[B, T, 8]</c>.</param>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class TensorShapeAttribute(string shape) : Attribute
{
    /// <summary>The shape in PyTorch notation, e.g. <c>[B, T, 8]</c> or <c>[2, B, 32]</c>.</summary>
    public string Shape { get; } = shape;

    /// <summary>The name of the <c>int</c> parameter of the same method whose value is <c>B</c>; null when none is.</summary>
    public string? BatchParameter { get; set; }

    /// <summary>Whether an empty span is accepted in place of the tensor (an optional state: zeros, or not written).</summary>
    public bool AllowEmpty { get; set; }
}
