using System.Text;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Emit;

/// <summary>A string builder that indents by block, for readable generated code.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _text = new();
    private int _depth;

    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _depth * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    public CodeWriter Open(string line) => Line(line).Open();

    /// <summary>Opens a block after a header already written (e.g. a signature over several lines).</summary>
    public CodeWriter Open()
    {
        Line("{");
        _depth++;
        return this;
    }

    public CodeWriter Close(string suffix = "")
    {
        _depth--;
        return Line("}" + suffix);
    }

    public override string ToString() => _text.ToString();
}
