using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ModelGen.Tests;

/// <summary>
/// Seeded fuzzing of the safetensors readers. Valid model and optimiser-state files are mutated (bit flips, byte
/// changes, truncations, header length ± k, inserted, deleted and appended bytes; and JSON-level edits: offsets,
/// dtypes, shapes, duplicate keys and fields, bad escapes, renamed, added and removed tensors, metadata, padding,
/// data values), and every mutant goes through every entry point: <see cref="SafetensorsFile.Parse"/>,
/// <see cref="SafetensorsFile.Read(Stream)"/> on a MemoryStream and on a stream that cannot seek, a model's
/// LoadSafetensors and two optimisers' LoadState.
/// </summary>
/// <remarks>
/// What a correct reader sees comes from <see cref="Reference"/>, the format's rules written again here in
/// another way (a token-by-token Utf8JsonReader pass, UTF8Encoding's strict decoder, checked arithmetic,
/// BigInteger for the step). Each entry point must agree with it both ways: a valid mutant reads to exactly the
/// reference's tensors, metadata and loaded values; an invalid one throws <see cref="SafetensorsException"/> (no
/// other type) and leaves the model or optimiser bit-identical.
/// </remarks>
public class SafetensorsFuzzTests(ITestOutputHelper output)
{
    private const int MutantsPerFile = 1500;
    private const int StateLength = 37;

    /// <summary>The files mutated, each with the seed of its mutations.</summary>
    public static TheoryData<string, int> Files() => new()
    {
        { "model", 1 },
        { "model_with_metadata_and_extras", 2 },
        { "adam_state", 3 },
        { "sgd_state", 4 },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_reader_agrees_with_the_reference_on_mutated_files(string file, int seed)
    {
        byte[] original = BaseFile(file);
        Assert.NotNull(Reference(original));
        var random = new Random(seed);
        var stopwatch = Stopwatch.StartNew();
        int valid = 0, loaded = 0;
        for (int i = 0; i < MutantsPerFile; i++)
        {
            (byte[] mutant, string description) = Mutate(original, random);
            var check = new Check(mutant, $"{file} mutant #{i} ({description})", i);
            if (check.Expected is not null) valid++;
            check.Readers();
            if (check.Model() | check.Optimizer("adam") | check.Optimizer("sgd-momentum")) loaded++;
        }
        output.WriteLine($"{file}: {MutantsPerFile} mutants, {valid} valid files, {loaded} loaded by a model or optimiser, {stopwatch.ElapsedMilliseconds} ms.");
        // The mutations must reach both sides, or agreement would prove little.
        Assert.InRange(valid, MutantsPerFile / 20, MutantsPerFile - MutantsPerFile / 4);
        Assert.True(loaded > 0, "no mutant was loaded");
    }

    // ---- The files mutated ----

    private static byte[] BaseFile(string name)
    {
        using var stream = new MemoryStream();
        switch (name)
        {
            case "model":
                NewModel().SaveSafetensors(stream);
                break;
            case "model_with_metadata_and_extras":
                IRecurrentModel model = NewModel();
                var writer = new SafetensorsWriter().AddMetadata("format", "pt").AddMetadata("note", "ünï \"quoted\" \\ tab\t");
                writer.Add("extra.ints", [3], [1, -2, int.MaxValue]);
                foreach (ParameterInfo info in model.ParameterTable)
                {
                    writer.Add(info.Name, [.. info.Shape.Select(d => (long)d)], model.GetParameter(info.Name));
                }
                writer.Add("empty", [0, 4], ReadOnlySpan<float>.Empty).Add("extra.tail", [2], [0.5f, -0.5f]);
                writer.WriteTo(stream);
                break;
            case "adam_state":
                SteppedOptimizer("adam").SaveState(stream);
                break;
            case "sgd_state":
                SteppedOptimizer("sgd-momentum").SaveState(stream);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
        return stream.ToArray();
    }

    private static IRecurrentModel NewModel()
    {
        IRecurrentModel model = new LstmBasic();
        model.InitializeParameters(seed: 11);
        return model;
    }

    /// <summary>An optimiser of <paramref name="kind"/> after a few steps, so that its state is not all zeros.</summary>
    private static Optimizer SteppedOptimizer(string kind, int steps = 3)
    {
        Optimizer optimizer = kind == "adam" ? new Adam(StateLength, 0.05f) : new Sgd(StateLength, 0.1f, momentum: 0.9f);
        float[] parameters = TestHelpers.RandomValues(StateLength, seed: 5);
        for (int t = 1; t <= steps; t++) optimizer.Step(parameters, TestHelpers.RandomValues(StateLength, seed: 50 + t));
        return optimizer;
    }

    private static string[] StateNames(string kind) => kind == "adam" ? ["exp_avg", "exp_avg_sq"] : ["momentum_buffer"];

    // ---- The checks ----

    private sealed class Check(byte[] mutant, string what, int index)
    {
        public RefFile? Expected { get; } = Reference(mutant);

        /// <summary>Parse, Read on a MemoryStream (every other one after a prefix, so positions are relative), Read on a stream that cannot seek.</summary>
        public void Readers()
        {
            CheckFile("Parse", () => SafetensorsFile.Parse(mutant));
            CheckFile("Read(MemoryStream)", () => SafetensorsFile.Read(index % 2 == 0
                ? new MemoryStream(mutant)
                : new MemoryStream([0x7B, 0x7D, 0, .. mutant]) { Position = 3 }));
            CheckFile("Read(non-seekable)", () => SafetensorsFile.Read(new TestStream(mutant, seekable: false, pieceSeed: index)));
        }

        private void CheckFile(string reader, Func<SafetensorsFile> read)
        {
            SafetensorsFile? actual = null;
            if (!Agrees(reader, () => actual = read())) return;
            Assert.Equal(Expected!.Tensors.Keys.Order(StringComparer.Ordinal), actual!.Tensors.Keys.Order(StringComparer.Ordinal));
            foreach ((string name, RefTensor tensor) in Expected.Tensors)
            {
                SafetensorsTensor got = actual[name];
                if (got.DType != tensor.DType || !got.Shape.SequenceEqual(tensor.Shape) || !got.Data.Span.SequenceEqual(tensor.Data))
                {
                    throw new XunitException($"{what}: {reader} read tensor '{name}' as {got.DType} {got.ShapeText}, {got.Data.Length} bytes; the reference sees {tensor.DType} [{string.Join(", ", tensor.Shape)}], {tensor.Data.Length} bytes.");
                }
            }
            Assert.Equal(Expected.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal), actual.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
        }

        /// <summary>Strict and lenient loads alternate, and so do seekable and non-seekable streams; returns whether the model loaded.</summary>
        public bool Model()
        {
            bool strict = index % 2 == 0;
            IRecurrentModel model = NewModel();
            float[] before = model.Parameters.ToArray();
            float[]? expected = ExpectedParameters(model, before, strict);
            Stream stream = index % 4 < 2 ? new MemoryStream(mutant) : new TestStream(mutant, seekable: false, pieceSeed: index);
            bool ok = Agrees($"LoadSafetensors(strict: {strict})", () => model.LoadSafetensors(stream, strict), expected is not null);
            TestHelpers.AssertBitEqual(expected ?? before, model.Parameters, $"{what}: parameters");
            return ok;
        }

        private float[]? ExpectedParameters(IRecurrentModel model, float[] before, bool strict)
        {
            if (Expected is null || !ConfigurationAccepted(Expected.Metadata, strict)) return null;
            // Strict: no tensor under the model's modules that the model lacks (others are ignored).
            if (strict && Expected.Tensors.Keys.Any(name => (name.StartsWith("rnn.", StringComparison.Ordinal) || name.StartsWith("head.", StringComparison.Ordinal))
                    && !model.ParameterTable.Any(p => p.Name == name)))
            {
                return null;
            }
            float[] parameters = [.. before];
            foreach (ParameterInfo info in model.ParameterTable)
            {
                if (!Expected.Tensors.TryGetValue(info.Name, out RefTensor? tensor))
                {
                    if (strict) return null;
                    continue;
                }
                if (tensor.DType != "F32" || !tensor.Shape.SequenceEqual(info.Shape.Select(d => (long)d))) return null;
                Floats(tensor.Data).CopyTo(parameters, info.Offset);
            }
            return parameters;
        }

        /// <summary>
        /// ModelGen's configuration in __metadata__, checked again here: without <c>modelgen.format</c> anything goes;
        /// with it, format "1" and all nine keys well formed (sizes ASCII digits within int, booleans true/false,
        /// cell lstm/gru/rnn, nonlinearity tanh/relu) and equal to LstmBasic's (without strict: cell and nonlinearity only).
        /// </summary>
        private static bool ConfigurationAccepted(Dictionary<string, string> metadata, bool strict)
        {
            if (!metadata.TryGetValue("modelgen.format", out string? format)) return true;
            if (format != "1") return false;
            string[] sizes = ["input_size", "hidden_size", "num_layers", "proj_size", "output_size"];
            var lstmBasic = new Dictionary<string, string>
            {
                ["cell"] = "lstm", ["input_size"] = "3", ["hidden_size"] = "5", ["num_layers"] = "1", ["bias"] = "true",
                ["bidirectional"] = "false", ["proj_size"] = "0", ["nonlinearity"] = "tanh", ["output_size"] = "2",
            };
            foreach ((string key, string value) in lstmBasic)
            {
                if (!metadata.TryGetValue("modelgen." + key, out string? text)) return false;
                bool size = sizes.Contains(key);
                bool wellFormed = size
                    ? text.Length > 0 && text.All(char.IsAsciiDigit) && BigInteger.Parse(text, CultureInfo.InvariantCulture) <= int.MaxValue
                    : key switch { "cell" => text is "lstm" or "gru" or "rnn", "nonlinearity" => text is "tanh" or "relu", _ => text is "true" or "false" };
                if (!wellFormed) return false;
                bool same = size ? BigInteger.Parse(text, CultureInfo.InvariantCulture) == BigInteger.Parse(value, CultureInfo.InvariantCulture) : text == value;
                if (!same && (strict || key is "cell" or "nonlinearity")) return false;
            }
            return true;
        }

        /// <summary>Loads into an optimiser that took two steps; returns whether it loaded.</summary>
        public bool Optimizer(string kind)
        {
            Optimizer optimizer = SteppedOptimizer(kind, steps: 2);
            byte[] before = State(optimizer);
            (long Step, Dictionary<string, float[]> Tensors)? expected = ExpectedState(kind, optimizer.GetType().Name);
            Stream stream = index % 4 is 0 or 3 ? new MemoryStream(mutant) : new TestStream(mutant, seekable: false, pieceSeed: index);
            if (!Agrees($"{kind} LoadState", () => optimizer.LoadState(stream), expected is not null))
            {
                Assert.True(before.AsSpan().SequenceEqual(State(optimizer)), $"{what}: {kind} state changed by a failed load");
                return false;
            }
            Assert.Equal(expected!.Value.Step, optimizer.StepCount);
            SafetensorsFile saved = SafetensorsFile.Parse(State(optimizer));
            foreach ((string name, float[] values) in expected.Value.Tensors)
            {
                TestHelpers.AssertBitEqual(values, saved[name].ToFloatArray(), $"{what}: {kind} {name}");
            }
            return true;
        }

        /// <summary>The optimiser's rules: metadata exactly {optimizer, step ≤ 2^53 in digits}, its tensors only, F32 [n], finite, exp_avg_sq ≥ 0.</summary>
        private (long Step, Dictionary<string, float[]> Tensors)? ExpectedState(string kind, string typeName)
        {
            if (Expected is null
                || Expected.Metadata.Count != 2
                || !Expected.Metadata.TryGetValue("optimizer", out string? optimizer) || optimizer != typeName
                || !Expected.Metadata.TryGetValue("step", out string? step)
                || step.Length == 0 || !step.All(c => c is >= '0' and <= '9')
                || BigInteger.Parse(step, CultureInfo.InvariantCulture) > BigInteger.Pow(2, 53))
            {
                return null;
            }
            string[] names = StateNames(kind);
            if (Expected.Tensors.Count != names.Length) return null;
            var tensors = new Dictionary<string, float[]>();
            foreach (string name in names)
            {
                if (!Expected.Tensors.TryGetValue(name, out RefTensor? tensor) || tensor.DType != "F32"
                    || !tensor.Shape.SequenceEqual([StateLength]))
                {
                    return null;
                }
                float[] values = Floats(tensor.Data);
                if (!values.All(float.IsFinite) || (name == "exp_avg_sq" && values.Any(v => v < 0))) return null;
                tensors[name] = values;
            }
            return (long.Parse(step, CultureInfo.InvariantCulture), tensors);
        }

        /// <summary>Runs <paramref name="act"/>: it must succeed when <paramref name="valid"/> and throw SafetensorsException otherwise.</summary>
        private bool Agrees(string reader, Action act, bool? valid = null)
        {
            bool shouldSucceed = valid ?? Expected is not null;
            try
            {
                act();
            }
            catch (SafetensorsException e)
            {
                if (shouldSucceed) throw new XunitException($"{what}: {reader} rejected what the reference accepts: {e.Message}\n{HeaderText(mutant)}");
                return false;
            }
            catch (Exception e)
            {
                throw new XunitException($"{what}: {reader} threw {e.GetType().Name}, not SafetensorsException: {e}\n{HeaderText(mutant)}");
            }
            if (!shouldSucceed) throw new XunitException($"{what}: {reader} accepted what the reference rejects.\n{HeaderText(mutant)}");
            return true;
        }
    }

    private static byte[] State(Optimizer optimizer)
    {
        using var stream = new MemoryStream();
        optimizer.SaveState(stream);
        return stream.ToArray();
    }

    private static float[] Floats(byte[] data)
    {
        var values = new float[data.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(4 * i));
        return values;
    }

    /// <summary>The header as text, for a failure message.</summary>
    private static string HeaderText(byte[] file)
    {
        if (file.Length < 8) return $"({file.Length}-byte file)";
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file);
        int shown = (int)Math.Min(Math.Min(length, (ulong)(file.Length - 8)), 2000);
        return $"header length {length}, file {file.Length} bytes: {Encoding.UTF8.GetString(file, 8, shown)}";
    }

    // ---- The reference reader ----

    private sealed record RefTensor(string DType, long[] Shape, byte[] Data);

    private sealed record RefFile(Dictionary<string, RefTensor> Tensors, Dictionary<string, string> Metadata);

    private static readonly Dictionary<string, int> DTypeBytes = new()
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1, ["I16"] = 2, ["U16"] = 2, ["F16"] = 2,
        ["BF16"] = 2, ["I32"] = 4, ["U32"] = 4, ["F32"] = 4, ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The file a correct reader sees, or null if it is not a valid safetensors file: length ≤ 100 MB that fits;
    /// UTF-8 JSON object starting with '{', only white space after it; keys unique; <c>__metadata__</c> once, an
    /// object of strings with unique keys; each tensor an object with dtype, shape, data_offsets at most once each
    /// (other fields ignored), a known dtype, non-negative dims whose product (never overflowing) times the dtype
    /// size is the span; sorted by offsets the tensors tile the data section from 0 to its end.
    /// </summary>
    private static RefFile? Reference(byte[] file)
    {
        if (file.Length < 8) return null;
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (length > SafetensorsFile.MaxHeaderBytes || length > (ulong)(file.Length - 8)) return null;
        byte[] header = file[8..(8 + (int)length)];
        try
        {
            _ = StrictUtf8.GetString(header);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        if (header.Length == 0 || header[0] != (byte)'{') return null;

        var entries = new Dictionary<string, (string DType, long[] Shape, long Begin, long End)>();
        Dictionary<string, string>? metadata = null;
        try
        {
            var reader = new Utf8JsonReader(header);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string key = reader.GetString()!;
                reader.Read();
                if (key == "__metadata__")
                {
                    if (metadata is not null) return null;
                    metadata = ReferenceMetadata(ref reader);
                    if (metadata is null) return null;
                }
                else
                {
                    if (entries.ContainsKey(key)) return null;
                    (string, long[], long, long)? entry = ReferenceEntry(ref reader);
                    if (entry is null) return null;
                    entries[key] = entry.Value;
                }
            }
            if (reader.Read()) return null;  // anything but white space after the object throws JsonException
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)  // a string that decodes to a lone surrogate
        {
            return null;
        }

        long at = 0;
        foreach ((_, (_, _, long begin, long end)) in entries.OrderBy(e => e.Value.Begin).ThenBy(e => e.Value.End))
        {
            if (begin != at) return null;
            at = end;
        }
        long dataStart = 8 + (long)length;
        if (at != file.Length - dataStart) return null;
        return new RefFile(
            entries.ToDictionary(e => e.Key, e => new RefTensor(e.Value.DType, e.Value.Shape,
                file[(int)(dataStart + e.Value.Begin)..(int)(dataStart + e.Value.End)])),
            metadata ?? []);
    }

    private static Dictionary<string, string>? ReferenceMetadata(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return null;
        var metadata = new Dictionary<string, string>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String || !metadata.TryAdd(key, reader.GetString()!)) return null;
        }
        return metadata;
    }

    private static (string DType, long[] Shape, long Begin, long End)? ReferenceEntry(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return null;
        string? dtype = null;
        List<long>? shape = null, offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "dtype":
                    if (dtype is not null || reader.TokenType != JsonTokenType.String) return null;
                    dtype = reader.GetString()!;
                    break;
                case "shape" or "data_offsets":
                    if ((field == "shape" ? shape : offsets) is not null) return null;
                    List<long>? numbers = ReferenceNumbers(ref reader);
                    if (numbers is null) return null;
                    if (field == "shape") shape = numbers;
                    else offsets = numbers;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null || offsets.Count != 2 || offsets[1] < offsets[0]
            || !DTypeBytes.TryGetValue(dtype, out int size))
        {
            return null;
        }
        try
        {
            long count = 1;
            foreach (long dim in shape) count = checked(count * dim);
            if (checked(count * size) != offsets[1] - offsets[0]) return null;
        }
        catch (OverflowException)
        {
            return null;
        }
        return (dtype, [.. shape], offsets[0], offsets[1]);
    }

    /// <summary>An array of non-negative integers that fit a long, or null.</summary>
    private static List<long>? ReferenceNumbers(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray) return null;
        var numbers = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0) return null;
            numbers.Add(value);
        }
        return numbers;
    }

    // ---- Mutations ----

    /// <summary>One to three mutations: JSON-level edits (re-encoded with a correct length), byte-level ones, or both.</summary>
    private static (byte[] Mutant, string Description) Mutate(byte[] original, Random random)
    {
        var steps = new List<string>();
        byte[] mutant = original;
        int plan = random.Next(20);
        if (plan < 11)
        {
            Doc doc = Doc.Of(original);
            for (int k = random.Next(1, 3); k > 0; k--) steps.Add(doc.Mutate(random));
            mutant = doc.ToFile();
        }
        if (plan >= 8)
        {
            for (int k = random.Next(1, 3); k > 0; k--)
            {
                (mutant, string step) = MutateBytes(mutant, random);
                steps.Add(step);
            }
        }
        return (mutant, string.Join("; ", steps));
    }

    private static readonly byte[] InterestingBytes =
        [.. "{}[]\",: \\0159-.eu"u8, 0x00, 0x01, 0x09, 0x0A, 0x7F, 0x80, 0xBF, 0xC3, 0xED, 0xF0, 0xFF];

    private static (byte[] Mutant, string Description) MutateBytes(byte[] file, Random random)
    {
        if (file.Length == 0) return ([.. InterestingBytes[..random.Next(1, 9)]], "replaced an empty file");
        int headerEnd = file.Length >= 8
            ? (int)Math.Min(8 + BinaryPrimitives.ReadUInt64LittleEndian(file), (ulong)file.Length)
            : file.Length;
        int Position() => random.Next(3) < 2 ? random.Next(headerEnd) : random.Next(file.Length);
        byte Interesting() => InterestingBytes[random.Next(InterestingBytes.Length)];
        switch (random.Next(8))
        {
            case 0:
            {
                int at = Position(), bit = random.Next(8);
                byte[] mutant = [.. file];
                mutant[at] ^= (byte)(1 << bit);
                return (mutant, $"flipped bit {bit} of byte {at}");
            }
            case 1:
            {
                int at = Position();
                byte[] mutant = [.. file];
                mutant[at] = Interesting();
                return (mutant, $"set byte {at} to 0x{mutant[at]:X2}");
            }
            case 2:
            {
                int length = random.Next(file.Length);
                return (file[..length], $"truncated to {length} bytes");
            }
            case 3 when file.Length >= 8:
            {
                long[] deltas = [-64, -16, -8, -7, -4, -3, -2, -1, 1, 2, 3, 4, 7, 8, 16, 64, 1L << 32, SafetensorsFile.MaxHeaderBytes];
                long delta = deltas[random.Next(deltas.Length)];
                byte[] mutant = [.. file];
                ulong length = unchecked(BinaryPrimitives.ReadUInt64LittleEndian(file) + (ulong)delta);
                BinaryPrimitives.WriteUInt64LittleEndian(mutant, length);
                return (mutant, $"header length {delta:+#;-#}");
            }
            case 4:
            {
                int at = Position();
                byte[] inserted = [.. Enumerable.Range(0, random.Next(1, 5)).Select(_ => Interesting())];
                return ([.. file[..at], .. inserted, .. file[at..]], $"inserted {inserted.Length} bytes at {at}");
            }
            case 5:
            {
                int at = Position(), count = Math.Min(random.Next(1, 5), file.Length - at);
                return ([.. file[..at], .. file[(at + count)..]], $"deleted {count} bytes at {at}");
            }
            case 6:
            {
                int count = random.Next(1, 9);
                return ([.. file, .. Enumerable.Range(0, count).Select(_ => Interesting())], $"appended {count} bytes");
            }
            default:
            {
                int a = Position(), b = Position();
                byte[] mutant = [.. file];
                (mutant[a], mutant[b]) = (mutant[b], mutant[a]);
                return (mutant, $"swapped bytes {a} and {b}");
            }
        }
    }

    /// <summary>A header as editable JSON text: members in order (objects one level down as fields), padding, and the data section.</summary>
    private sealed class Doc
    {
        private readonly List<Member> _members = [];
        private string _leading = "", _trailing = "";
        private byte[] _data = [];
        private int _markerSeed;

        /// <summary>A key (as JSON text, quotes and escapes included) with either raw JSON text or fields.</summary>
        private sealed class Member(string key, string? raw, List<Member>? fields)
        {
            public string Key { get; set; } = key;
            public string? Raw { get; set; } = raw;
            public List<Member>? Fields { get; } = fields;

            public Member Copy() => new(Key, Raw, Fields?.Select(f => f.Copy()).ToList());

            public override string ToString() => Key + ":" + (Fields is null ? Raw : "{" + string.Join(",", Fields) + "}");
        }

        public static Doc Of(byte[] file)
        {
            int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
            string header = Encoding.UTF8.GetString(file, 8, length);
            var doc = new Doc { _trailing = header[header.TrimEnd().Length..], _data = file[(8 + length)..] };
            using JsonDocument json = JsonDocument.Parse(header);
            foreach (JsonProperty property in json.RootElement.EnumerateObject())
            {
                doc._members.Add(property.Value.ValueKind == JsonValueKind.Object
                    ? new Member(Literal(property.Name), null,
                        [.. property.Value.EnumerateObject().Select(f => new Member(Literal(f.Name), f.Value.GetRawText(), null))])
                    : new Member(Literal(property.Name), property.Value.GetRawText(), null));
            }
            return doc;
        }

        public byte[] ToFile()
        {
            byte[] header = Encoding.UTF8.GetBytes(_leading + "{" + string.Join(",", _members) + "}" + _trailing);
            header = ReplaceMarkers(header);
            byte[] file = [.. new byte[8], .. header, .. _data];
            BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
            return file;
        }

        private static string Literal(string text) => JsonSerializer.Serialize(text);

        /// <summary>Text cannot hold bytes that are not UTF-8: edits write <see cref="NotUtf8"/>, and each is replaced by such bytes here.</summary>
        private const char NotUtf8 = '\uE000';

        private static readonly byte[][] NotUtf8Bytes = [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80]];

        private byte[] ReplaceMarkers(byte[] header)
        {
            byte[] marker = Encoding.UTF8.GetBytes([NotUtf8]);
            var bytes = new List<byte>(header.Length);
            int count = 0;
            for (int i = 0; i < header.Length; i++)
            {
                if (header.AsSpan(i).StartsWith(marker))
                {
                    bytes.AddRange(NotUtf8Bytes[(_markerSeed + count++) % NotUtf8Bytes.Length]);
                    i += marker.Length - 1;
                }
                else
                {
                    bytes.Add(header[i]);
                }
            }
            return [.. bytes];
        }

        private static readonly string[] DTypes =
            ["\"F32\"", "\"I32\"", "\"U32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"I64\"", "\"U8\"", "\"BOOL\"", "\"F8_E4M3\"", "\"F17\"", "\"f32\"", "\"\"", "5", "null"];

        private static readonly string[] Steps =
            ["0", "3", "007", "9007199254740992", "9007199254740993", "9223372036854775807", "9223372036854775808", "-1", "+3", " 3", "3 ", "3.0", "1e3", "", "\u0663", "\\ud800", "x"];

        private static readonly string[] BadText =
            ["\\ud800", "\\udc00", "a\\ud800\\u0041", "\\u00e9", "\\x41", "\\u12", "\u0001", "\\/", "\\u0000", $"{NotUtf8}", $"a{NotUtf8}b"];

        private List<Member> Tensors => [.. _members.Where(m => m.Fields is not null && m.Key != "\"__metadata__\"")];

        private Member? MetadataMember => _members.LastOrDefault(m => m.Key == "\"__metadata__\"");

        private static T Pick<T>(IReadOnlyList<T> items, Random random) => items[random.Next(items.Count)];

        /// <summary>One JSON-level edit; returns what it did.</summary>
        public string Mutate(Random random)
        {
            List<Member> tensors = Tensors;
            Member? tensor = tensors.Count > 0 ? Pick(tensors, random) : null;
            Member? Field(string name) => tensor?.Fields!.LastOrDefault(f => f.Key == $"\"{name}\"");
            _markerSeed = random.Next(NotUtf8Bytes.Length);
            int edit = random.Next(23);
            switch (edit >= 20 ? 14 : edit)  // metadata values thrice as often: the optimiser's rules live there
            {
                case 0 when Field("data_offsets") is { } offsets && TryJson<long[]>(offsets.Raw!) is [_, _] value:
                {
                    long delta = Pick([-8L, -4, -1, 1, 4, 8], random);
                    string[] forms =
                    [
                        $"[{value[0] + delta},{value[1]}]", $"[{value[0]},{value[1] + delta}]", $"[{value[0] + delta},{value[1] + delta}]",
                        $"[{value[1]},{value[0]}]", $"[-4,{value[1]}]", $"[{value[0]},{1L << 40}]", $"[{value[0]}]",
                        $"[{value[0]},{value[1]},{value[1]}]", $"[\"{value[0]}\",{value[1]}]", $"[{value[0]}.0,{value[1]}]",
                        $"[-0,{value[1] - value[0]}]", "{}", $"[{value[0]},{value[1]}.5]",
                    ];
                    offsets.Raw = Pick(forms, random);
                    return $"data_offsets of {tensor!.Key} -> {offsets.Raw}";
                }
                case 1 when tensors.Count >= 2:
                {
                    Member a = Pick(tensors, random), b = Pick(tensors, random);
                    Member? fa = a.Fields!.LastOrDefault(f => f.Key == "\"data_offsets\""), fb = b.Fields!.LastOrDefault(f => f.Key == "\"data_offsets\"");
                    if (fa is null || fb is null) return "nothing (no offsets to swap)";
                    (fa.Raw, fb.Raw) = (fb.Raw, fa.Raw);
                    return $"swapped data_offsets of {a.Key} and {b.Key}";
                }
                case 2 when Field("dtype") is { } dtype:
                    dtype.Raw = Pick(DTypes, random);
                    return $"dtype of {tensor!.Key} -> {dtype.Raw}";
                case 3 when Field("shape") is { } shapeField && TryJson<long[]>(shapeField.Raw!) is { } shapeValue:
                {
                    List<long> shape = [.. shapeValue];
                    long count = shape.Aggregate(1L, (x, y) => x * y);
                    int at = shape.Count > 0 ? random.Next(shape.Count) : 0;
                    string dims(IEnumerable<long> d) => "[" + string.Join(",", d) + "]";
                    string[] forms =
                    [
                        dims(shape.Select((d, i) => i == at ? d + 1 : d)), dims(shape.Select((d, i) => i == at ? d - 1 : d)),
                        dims(Enumerable.Reverse(shape)), dims([.. shape, 1]), dims([1, .. shape]), dims(shape.Take(Math.Max(shape.Count - 1, 0))),
                        "[]", dims([count]), "[0]", "[-1]", "[1.5]", "[\"2\"]", dims([4294967296L, 4294967296L, 0]), dims([0, 4294967296L, 4294967296L]),
                        dims([1L << 61, 0]),
                    ];
                    shapeField.Raw = Pick(forms, random);
                    return $"shape of {tensor!.Key} -> {shapeField.Raw}";
                }
                case 4 when tensor is not null:
                {
                    Member copy = tensor.Copy();
                    if (random.Next(2) == 0 && copy.Fields!.LastOrDefault(f => f.Key == "\"dtype\"") is { } d) d.Raw = "\"I32\"";
                    _members.Insert(random.Next(_members.Count + 1), copy);
                    return $"repeated tensor {tensor.Key}";
                }
                case 5:
                {
                    Member? existing = MetadataMember;
                    Member metadata = existing ?? new Member("\"__metadata__\"", null, [new Member("\"k\"", "\"v\"", null)]);
                    if (existing is null) _members.Insert(random.Next(_members.Count + 1), metadata);
                    _members.Insert(random.Next(_members.Count + 1), metadata.Copy());
                    return "repeated __metadata__";
                }
                case 6:
                {
                    Member metadata = EnsureMetadata();
                    Member entry = metadata.Fields!.Count > 0 ? Pick(metadata.Fields, random) : new Member("\"k\"", "\"v\"", null);
                    metadata.Fields.Add(new Member(entry.Key, random.Next(2) == 0 ? entry.Raw : "\"other\"", null));
                    return $"repeated __metadata__ key {entry.Key}";
                }
                case 7 when tensor is not null:
                {
                    Member field = Pick(tensor.Fields!, random);
                    tensor.Fields!.Insert(random.Next(tensor.Fields.Count + 1), new Member(field.Key, random.Next(2) == 0 ? field.Raw : "[1]", null));
                    return $"repeated field {field.Key} of {tensor.Key}";
                }
                case 8:
                {
                    string text = Pick(BadText, random);
                    List<Member> targets = [.. _members, .. _members.SelectMany(m => m.Fields ?? [])];
                    Member target = Pick(targets, random);
                    bool key = target.Raw is null || random.Next(2) == 0 || !target.Raw.StartsWith('"');
                    string old = key ? target.Key : target.Raw!;
                    string changed = old.Length >= 2 ? old.Insert(1 + random.Next(old.Length - 1), text) : $"\"{text}\"";
                    if (key) target.Key = changed;
                    else target.Raw = changed;
                    return $"escape {text} into {old}";
                }
                case 9 when tensor is not null && TryJson<string>(tensor.Key) is { Length: > 0 } name && name[0] < 0x80 && tensor.Key[1] == name[0]:
                    // The same name spelled with an escape: the file stays valid.
                    tensor.Key = $"\"\\u{(int)name[0]:x4}{tensor.Key[2..]}";
                    return $"escaped the first letter of {name}";
                case 10 when tensor is not null:
                    _members.Remove(tensor);
                    return $"removed tensor {tensor.Key}";
                case 11:
                {
                    long end = Tensors.Select(t => TryJson<long[]>(t.Fields!.LastOrDefault(f => f.Key == "\"data_offsets\"")?.Raw ?? "[]") is [_, long e] ? e : 0)
                        .DefaultIfEmpty(0).Max();
                    bool withData = random.Next(3) > 0;
                    bool empty = random.Next(3) == 0;
                    long at = empty ? Pick<long>([0, 4, end, end + 4, 2], random) : end;
                    _members.Insert(random.Next(_members.Count + 1), new Member("\"added\"", null,
                    [
                        new Member("\"dtype\"", "\"F32\"", null),
                        new Member("\"shape\"", empty ? "[0]" : "[1]", null),
                        new Member("\"data_offsets\"", empty ? $"[{at},{at}]" : $"[{end},{end + 4}]", null),
                    ]));
                    if (withData && !empty) _data = [.. _data, .. BitConverter.GetBytes(1.5f)];
                    return empty ? $"added an empty tensor at {at}" : $"added a tensor at {end}{(withData ? " with its data" : " without data")}";
                }
                case 12 when tensor is not null:
                {
                    string[] names = [.. tensors.Select(t => t.Key), "\"renamed.x\"", "\"__metadata__\"", "\"\""];
                    string old = tensor.Key;
                    tensor.Key = Pick(names, random);
                    return $"renamed {old} to {tensor.Key}";
                }
                case 13:
                {
                    Member[] shuffled = [.. _members.OrderBy(_ => random.Next())];
                    _members.Clear();
                    _members.AddRange(shuffled);
                    return "shuffled the header";
                }
                case 14:
                {
                    Member metadata = EnsureMetadata();
                    string key = Pick(["\"step\"", "\"step\"", "\"optimizer\"", "\"format\"", "\"modelgen.format\"", "\"modelgen.hidden_size\""], random);
                    string value = random.Next(4) > 0
                        ? "\"" + (key == "\"optimizer\"" ? Pick(["Adam", "AdamW", "Sgd", "adam", "", "Adam "], random) : Pick(Steps, random)) + "\""
                        : Pick(["3", "null", "[]", "{}"], random);
                    metadata.Fields!.RemoveAll(f => f.Key == key);
                    metadata.Fields.Add(new Member(key, value, null));
                    return $"__metadata__ {key} -> {value}";
                }
                case 15:
                {
                    Member? metadata = MetadataMember;
                    if (metadata is null || random.Next(3) == 0)
                    {
                        _members.RemoveAll(m => m.Key == "\"__metadata__\"");
                        return "removed __metadata__";
                    }
                    if (metadata.Fields!.Count > 0) metadata.Fields.RemoveAt(random.Next(metadata.Fields.Count));
                    else metadata.Fields.Add(new Member("\"lr\"", "\"0.1\"", null));
                    return "removed or added a __metadata__ entry";
                }
                case 16:
                    if (random.Next(3) == 0) _leading = Pick([" ", "\n", "\uFEFF"], random);
                    else _trailing = Pick(["", " ", "        ", " \t\r\n", "\0", "x", "\u00a0"], random);
                    return $"padding -> '{_leading}' + '{_trailing}'";
                case 17 when tensor is not null:
                {
                    string value = Pick(["1", "\"text\"", "[1,{\"a\":null}]", "{\"x\":\"\\ud800\"}", "{\"deep\":[[[[]]]]}", $"\"{NotUtf8}\"", $"[\"a{NotUtf8}\"]"], random);
                    tensor.Fields!.Insert(random.Next(tensor.Fields.Count + 1), new Member("\"note\"", value, null));
                    return $"unknown field note={value} in {tensor.Key}";
                }
                case 18 when _data.Length >= 4:
                {
                    float value = Pick([float.NaN, float.PositiveInfinity, float.NegativeInfinity, -1f, -0f, float.Epsilon, 3.5f, -1e-30f], random);
                    int at = 4 * random.Next(_data.Length / 4);
                    _data = [.. _data];
                    BinaryPrimitives.WriteSingleLittleEndian(_data.AsSpan(at), value);
                    return $"data bytes {at}..{at + 3} -> {value.ToString(CultureInfo.InvariantCulture)}";
                }
                case 19:
                {
                    int count = random.Next(1, 9);
                    _data = random.Next(2) == 0 ? [.. _data, .. new byte[count]] : _data[..Math.Max(0, _data.Length - count)];
                    return $"data section resized by up to {count} bytes";
                }
                default:
                    return "nothing";
            }
        }

        /// <summary>The value of JSON text that earlier edits may have broken, or null.</summary>
        private static T? TryJson<T>(string json)
        {
            try
            {
                return JsonSerializer.Deserialize<T>(json);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                return default;
            }
        }

        private Member EnsureMetadata()
        {
            if (MetadataMember is { Fields: not null } metadata) return metadata;
            _members.RemoveAll(m => m.Key == "\"__metadata__\"");
            var added = new Member("\"__metadata__\"", null, []);
            _members.Insert(0, added);
            return added;
        }
    }
}
