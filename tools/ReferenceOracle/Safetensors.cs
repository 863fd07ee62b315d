using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace ReferenceOracle;

/// <summary>A tensor as a safetensors file holds it: F32 or I32, row-major.</summary>
public sealed record Blob(string DType, long[] Shape, float[]? F32, int[]? I32)
{
    public static Blob Float(float[] data, long[] shape) => new("F32", shape, data, null);
    public static Blob Int(int[] data, long[] shape) => new("I32", shape, null, data);
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>Reads and writes safetensors in the layout of the reference files: `__metadata__` first, then the F32
/// tensors and then the I32 ones, each group in ordinal name order, data in that same order, header padded with
/// spaces to a multiple of 8.</summary>
public static class Safetensors
{
    public static (Dictionary<string, Blob> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var tensors = new Dictionary<string, Blob>(StringComparer.Ordinal);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        int start = 8 + (int)n;
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                foreach (var m in prop.Value.EnumerateObject()) meta[m.Name] = m.Value.GetString()!;
                continue;
            }
            string dtype = prop.Value.GetProperty("dtype").GetString()!;
            long[] shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var off = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var span = bytes.AsSpan(start + off[0], off[1] - off[0]);
            tensors[prop.Name] = dtype switch
            {
                "F32" => Blob.Float(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span).ToArray(), shape),
                "I32" => Blob.Int(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(span).ToArray(), shape),
                _ => throw new NotSupportedException($"{path}: {prop.Name} has dtype {dtype}"),
            };
        }
        return (tensors, meta);
    }

    public static void Write(string path, IReadOnlyDictionary<string, Blob> tensors, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var order = tensors.Where(t => t.Value.DType == "F32").OrderBy(t => t.Key, StringComparer.Ordinal)
            .Concat(tensors.Where(t => t.Value.DType == "I32").OrderBy(t => t.Key, StringComparer.Ordinal)).ToList();
        var header = new StringBuilder("{\"__metadata__\":{");
        header.AppendJoin(",", metadata.Select(m => $"{Json.Str(m.Key)}:{Json.Str(m.Value)}"));
        header.Append('}');
        long offset = 0;
        using var data = new MemoryStream();
        foreach (var (name, blob) in order)
        {
            byte[] raw = blob.DType == "F32"
                ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(blob.F32.AsSpan()).ToArray()
                : System.Runtime.InteropServices.MemoryMarshal.AsBytes(blob.I32.AsSpan()).ToArray();
            if (raw.Length != blob.Count * 4) throw new InvalidOperationException($"{name}: {raw.Length} bytes for shape [{string.Join(",", blob.Shape)}]");
            header.Append($",{Json.Str(name)}:{{\"dtype\":\"{blob.DType}\",\"shape\":[{string.Join(",", blob.Shape)}],\"data_offsets\":[{offset},{offset + raw.Length}]}}");
            data.Write(raw);
            offset += raw.Length;
        }
        header.Append('}');
        byte[] h = Encoding.UTF8.GetBytes(header.ToString());
        int padded = (h.Length + 7) / 8 * 8;
        using var f = File.Create(path);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(len, padded);
        f.Write(len);
        f.Write(h);
        for (int i = h.Length; i < padded; i++) f.WriteByte((byte)' ');
        data.Position = 0;
        data.CopyTo(f);
    }
}

/// <summary>JSON text written the way Python's json.dumps writes it (", " and ": " separators, ASCII only).</summary>
public static class Json
{
    public static string Str(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                default:
                    if (c < 0x20 || c > 0x7e) sb.Append($"\\u{(int)c:x4}"); else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>An object from (key, value) pairs; values: string, bool, int/long, double, or already-written JSON (Raw).</summary>
    public static string Obj(params (string Key, object Value)[] items) =>
        "{" + string.Join(", ", items.Select(i => $"{Str(i.Key)}: {Value(i.Value)}")) + "}";

    public static string Arr(IEnumerable<string> rawItems) => "[" + string.Join(", ", rawItems) + "]";

    public sealed record Raw(string Text);

    private static string Value(object v) => v switch
    {
        Raw r => r.Text,
        string s => Str(s),
        bool b => b ? "true" : "false",
        int i => i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException(v.GetType().Name),
    };
}
