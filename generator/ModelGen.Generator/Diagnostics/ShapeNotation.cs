using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Diagnostics;

/// <summary>One dimension of a shape: a size, or a symbol such as <c>B</c> or <c>T</c> that the call determines.</summary>
internal readonly struct ShapeDimension(long size, string? symbol)
{
    public long Size { get; } = size;

    /// <summary>The symbol, or null for a fixed size.</summary>
    public string? Symbol { get; } = symbol;
}

/// <summary>The PyTorch notation of <c>ModelGen.TensorShapeAttribute</c>: <c>[B, T, 8]</c>, <c>[2, B, 32]</c>.</summary>
internal static class ShapeNotation
{
    /// <summary>The dimensions of a shape, or null when the text is not a shape (then nothing is checked).</summary>
    public static ShapeDimension[]? Parse(string? text)
    {
        if (text is null) return null;
        text = text.Trim();
        if (text.Length < 2 || text[0] != '[' || text[text.Length - 1] != ']') return null;
        string inner = text.Substring(1, text.Length - 2).Trim();
        if (inner.Length == 0) return [];
        var dimensions = new List<ShapeDimension>();
        foreach (string part in inner.Split(','))
        {
            string dimension = part.Trim();
            if (long.TryParse(dimension, NumberStyles.None, CultureInfo.InvariantCulture, out long size))
            {
                dimensions.Add(new ShapeDimension(size, null));
            }
            else if (dimension.Length > 0 && (char.IsLetter(dimension[0]) || dimension[0] == '_')
                     && dimension.All(c => char.IsLetterOrDigit(c) || c == '_'))
            {
                dimensions.Add(new ShapeDimension(0, dimension));
            }
            else
            {
                return null;
            }
        }
        return [.. dimensions];
    }

    /// <summary>The shape with the known symbols replaced by their values, e.g. <c>[2, T, 8]</c>.</summary>
    public static string Substitute(ShapeDimension[] dimensions, IReadOnlyDictionary<string, long> known) =>
        "[" + string.Join(", ", dimensions.Select(d =>
            d.Symbol is null
                ? d.Size.ToString(CultureInfo.InvariantCulture)
                : known.TryGetValue(d.Symbol, out long value) ? value.ToString(CultureInfo.InvariantCulture) : d.Symbol)) + "]";
}
