using System.Buffers.Binary;
using System.Text;
using ModelGen.Testing;

namespace ModelGen.Tests;

/// <summary>
/// SafetensorsFile, SafetensorsWriter and the models' LoadSafetensors/SaveSafetensors on byte arrays built
/// here (8-byte little-endian header length, JSON header, data), and on PyTorch's reference files.
/// </summary>
public class SafetensorsTests
{
    // ---- Building files by hand ----

    /// <summary>One header entry; <see cref="Begin"/> / <see cref="End"/> default to the next free bytes.</summary>
    private sealed record Entry(string Name, string DType, long[] Shape, int Bytes, long? Begin = null, long? End = null);

    /// <summary>8-byte little-endian length, the header as given, then the data.</summary>
    private static byte[] RawFile(string header, ReadOnlySpan<byte> data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        data.CopyTo(file.AsSpan(8 + json.Length));
        return file;
    }

    /// <summary>
    /// A file whose F32 tensors all hold <paramref name="fill"/> (other dtypes: bytes 0x01), laid out back to
    /// back unless an entry says otherwise; the data section is as long as the entries' bytes together.
    /// </summary>
    private static byte[] BuildFile(IEnumerable<Entry> entries, float fill = 0.5f)
    {
        var header = new StringBuilder("{");
        var data = new List<byte>();
        foreach (Entry entry in entries)
        {
            long begin = entry.Begin ?? data.Count;
            long end = entry.End ?? begin + entry.Bytes;
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{entry.Name}\":{{\"dtype\":\"{entry.DType}\",\"shape\":[{string.Join(",", entry.Shape)}],\"data_offsets\":[{begin},{end}]}}");
            for (int i = 0; i < entry.Bytes; i += 4)
            {
                if (entry.DType == "F32") data.AddRange(BitConverter.GetBytes(fill));
                else data.AddRange(new byte[] { 1, 1, 1, 1 });
            }
        }
        header.Append('}');
        return RawFile(header.ToString(), data.ToArray());
    }

    private static Entry F32(string name, params long[] shape) =>
        new(name, "F32", shape, 4 * (int)shape.Aggregate(1L, (a, b) => a * b));

    /// <summary>One F32 entry per parameter of the model, in table order.</summary>
    private static List<Entry> EntriesOf(IRecurrentModel model) =>
        [.. model.ParameterTable.Select(p => F32(p.Name, [.. p.Shape.Select(d => (long)d)]))];

    private static SafetensorsException ParseFails(byte[] file) =>
        Assert.Throws<SafetensorsException>(() => SafetensorsFile.Parse(file));

    private static SafetensorsException LoadFails(IRecurrentModel model, byte[] file, bool strict = true) =>
        Assert.Throws<SafetensorsException>(() => model.LoadSafetensors(new MemoryStream(file), strict));

    private static void AssertMessageContains(Exception exception, params string[] parts)
    {
        foreach (string part in parts)
        {
            Assert.True(exception.Message.Contains(part, StringComparison.Ordinal),
                $"message lacks \"{part}\": {exception.Message}");
        }
    }

    private static float[] Snapshot(IRecurrentModel model) => model.Parameters.ToArray();

    // ---- Malformed files ----

    [Fact]
    public void File_shorter_than_the_8_byte_length_is_rejected()
    {
        SafetensorsException e = ParseFails([1, 2, 3, 4, 5]);
        AssertMessageContains(e, "5 bytes", "8-byte");
    }

    [Fact]
    public void Empty_file_is_rejected()
    {
        SafetensorsException e = ParseFails([]);
        AssertMessageContains(e, "0 bytes");
    }

    [Fact]
    public void Header_length_past_the_end_of_the_file_is_rejected()
    {
        byte[] file = RawFile("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1000);
        SafetensorsException e = ParseFails(file);
        AssertMessageContains(e, "1000", "past the end", "(2 bytes follow");
    }

    [Fact]
    public void Header_length_above_the_limit_is_rejected()
    {
        byte[] file = RawFile("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        SafetensorsException e = ParseFails(file);
        AssertMessageContains(e, ulong.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), "limit");
    }

    [Theory]
    [InlineData("{\"a\":")]
    [InlineData("not json")]
    [InlineData("")]
    public void Invalid_json_header_is_rejected(string header)
    {
        SafetensorsException e = ParseFails(RawFile(header, []));
        AssertMessageContains(e, "not valid JSON");
        Assert.NotNull(e.InnerException);
    }

    [Fact]
    public void Header_that_is_not_an_object_is_rejected() =>
        AssertMessageContains(ParseFails(RawFile("[1, 2]", [])), "not a JSON object");

    [Fact]
    public void Data_offsets_past_the_end_of_the_data_are_rejected_as_truncated()
    {
        byte[] complete = BuildFile([F32("w", 2, 2)]);
        byte[] truncated = complete[..^4];
        SafetensorsException e = ParseFails(truncated);
        AssertMessageContains(e, "'w'", "[0, 16]", "out of range", "12 bytes", "truncated");
    }

    [Fact]
    public void Overlapping_data_offsets_are_rejected_naming_both_tensors()
    {
        byte[] file = BuildFile([F32("first", 2), F32("second", 2) with { Begin = 4, End = 12 }]);
        SafetensorsException e = ParseFails(file);
        AssertMessageContains(e, "'first' [0, 8]", "'second' [4, 12]", "overlapping");
    }

    [Fact]
    public void Identical_data_offsets_of_two_tensors_are_rejected_as_overlapping()
    {
        byte[] file = BuildFile([F32("a", 3), F32("b", 3) with { Begin = 0, End = 12 }]);
        AssertMessageContains(ParseFails(file), "'a'", "'b'", "overlapping");
    }

    [Theory]
    [InlineData(8, 0)]   // inverted
    [InlineData(-4, 4)]  // negative begin
    public void Inverted_or_negative_data_offsets_are_rejected(long begin, long end)
    {
        byte[] file = BuildFile([F32("w", 2) with { Begin = begin, End = end }]);
        AssertMessageContains(ParseFails(file), "'w'", "data_offsets", "0 <= begin <= end");
    }

    [Fact]
    public void Data_offsets_beyond_the_data_section_are_rejected()
    {
        byte[] file = BuildFile([F32("w", 2) with { Begin = 1000, End = 1008 }]);
        AssertMessageContains(ParseFails(file), "'w'", "[1000, 1008]", "out of range", "8 bytes");
    }

    [Theory]
    [InlineData("[0]")]
    [InlineData("[0, 8, 16]")]
    [InlineData("[0.5, 8]")]
    public void Data_offsets_that_are_not_two_integers_are_rejected(string offsets)
    {
        byte[] file = RawFile($"{{\"w\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{offsets}}}}}", new byte[8]);
        AssertMessageContains(ParseFails(file), "'w'", "data_offsets");
    }

    /// <summary>JsonElement.TryGetInt64 throws for a string element: the reader must check the kind first.</summary>
    [Fact]
    public void Data_offsets_holding_strings_are_rejected()
    {
        byte[] file = RawFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",\"8\"]}}", new byte[8]);
        AssertMessageContains(ParseFails(file), "'w'", "data_offsets");
    }

    [Fact]
    public void Shape_whose_element_count_overflows_is_rejected()
    {
        byte[] file = RawFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", new byte[8]);
        AssertMessageContains(ParseFails(file), "'w'", "too many elements");
    }

    [Fact]
    public void Byte_count_not_matching_shape_and_dtype_is_rejected()
    {
        byte[] file = BuildFile([F32("w", 3, 4) with { Bytes = 44 }]);
        AssertMessageContains(ParseFails(file), "'w'", "F32 shape [3, 4]", "needs 48 bytes", "[0, 44]", "span 44");
    }

    [Fact]
    public void Byte_count_of_an_F64_tensor_counts_8_bytes_per_element()
    {
        byte[] file = BuildFile([new Entry("d", "F64", [3], 12)]);
        AssertMessageContains(ParseFails(file), "'d'", "F64 shape [3]", "needs 24 bytes", "span 12");
    }

    [Fact]
    public void Unknown_dtype_is_rejected() =>
        AssertMessageContains(ParseFails(BuildFile([new Entry("q", "F17", [1], 4)])), "'q'", "unknown dtype 'F17'");

    [Theory]
    [InlineData("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}")]
    [InlineData("{\"w\":[1]}")]
    public void Header_entry_missing_a_field_is_rejected(string header) =>
        AssertMessageContains(ParseFails(RawFile(header, new byte[4])), "'w'", "dtype", "shape", "data_offsets");

    [Theory]
    [InlineData("[-1]")]
    [InlineData("[1.5]")]
    [InlineData("[\"1\"]")]
    public void Shape_entries_must_be_non_negative_integers(string shape)
    {
        byte[] file = RawFile($"{{\"w\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[0,4]}}}}", new byte[4]);
        AssertMessageContains(ParseFails(file), "'w'", "non-negative integers");
    }

    [Fact]
    public void Tensor_appearing_twice_in_the_header_is_rejected()
    {
        string entry = "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        AssertMessageContains(ParseFails(RawFile("{" + entry + "," + entry + "}", new byte[4])), "'w'", "twice");
    }

    [Fact]
    public void Metadata_with_a_non_string_value_is_rejected() =>
        AssertMessageContains(ParseFails(RawFile("{\"__metadata__\":{\"n\":1}}", [])), "__metadata__", "'n'");

    [Fact]
    public void Asking_a_file_for_a_tensor_it_lacks_names_the_tensor()
    {
        SafetensorsFile file = SafetensorsFile.Parse(BuildFile([F32("present", 1)]));
        SafetensorsException e = Assert.Throws<SafetensorsException>(() => file["absent"]);
        AssertMessageContains(e, "'absent'", "missing");
    }

    [Fact]
    public void Hand_built_file_parses_with_its_tensors_and_zero_length_tensors()
    {
        SafetensorsFile file = SafetensorsFile.Parse(BuildFile([F32("w", 2, 3, 1), F32("empty", 0, 5)], fill: 1.25f));
        SafetensorsTensor w = file["w"];
        Assert.Equal("F32", w.DType);
        Assert.Equal(new long[] { 2, 3, 1 }, w.Shape.ToArray());
        Assert.Equal(6, w.ElementCount);
        Assert.Equal("[2, 3, 1]", w.ShapeText);
        Assert.All(w.ToFloatArray(), value => Assert.Equal(1.25f, value));
        Assert.Equal(0, file["empty"].ElementCount);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Reading_a_tensor_as_the_wrong_type_names_both_dtypes()
    {
        SafetensorsFile file = SafetensorsFile.Parse(BuildFile([new Entry("ints", "I32", [2], 8)]));
        SafetensorsException e = Assert.Throws<SafetensorsException>(() => file["ints"].ToFloatArray());
        AssertMessageContains(e, "'ints'", "I32", "F32");
    }

    // ---- Loading into a model ----

    /// <summary>The ways a file can fail to fit <see cref="LstmBasic"/>, each breaking its last tensor (head.bias [2]) or the whole file.</summary>
    public static TheoryData<string> BadModelFiles() => new()
    {
        "missing", "wrong_shape", "wrong_rank", "wrong_dtype_F64", "wrong_dtype_I32", "truncated", "wrong_byte_count",
        "invalid_json", "short_file",
    };

    /// <summary>A file with every LstmBasic tensor at 0.5 except the flaw named; returns the message parts to expect.</summary>
    private static (byte[] File, string[] Message) BadModelFile(string flaw)
    {
        List<Entry> entries = EntriesOf(new LstmBasic());
        Entry last = entries[^1];
        Assert.Equal("head.bias", last.Name);
        switch (flaw)
        {
            case "missing":
                entries.RemoveAt(entries.Count - 1);
                return (BuildFile(entries), ["'head.bias'", "[2]", "missing"]);
            case "wrong_shape":
                entries[^2] = entries[^2] with { Shape = [5, 2] };
                return (BuildFile(entries), ["'head.weight'", "shape [5, 2]", "expected [2, 5]"]);
            case "wrong_rank":
                entries[^1] = last with { Shape = [1, 2] };
                return (BuildFile(entries), ["'head.bias'", "shape [1, 2]", "expected [2]"]);
            case "wrong_dtype_F64":
                entries[^1] = last with { DType = "F64", Bytes = 16 };
                return (BuildFile(entries), ["'head.bias'", "dtype F64", "expected F32"]);
            case "wrong_dtype_I32":
                entries[^1] = last with { DType = "I32" };
                return (BuildFile(entries), ["'head.bias'", "dtype I32", "expected F32"]);
            case "truncated":
                return (BuildFile(entries)[..^1], ["'head.bias'", "out of range", "truncated"]);
            case "wrong_byte_count":
                entries[^1] = last with { End = 12 + entries.Sum(e => e.Bytes) - last.Bytes };
                byte[] padded = [.. BuildFile(entries), 0, 0, 0, 0];
                return (padded, ["'head.bias'", "needs 8 bytes", "span 12"]);
            case "invalid_json":
                return (RawFile("{\"head.bias\":", new byte[8]), ["not valid JSON"]);
            case "short_file":
                return ([0, 0, 0], ["3 bytes"]);
            default:
                throw new ArgumentOutOfRangeException(nameof(flaw), flaw, null);
        }
    }

    [Theory]
    [MemberData(nameof(BadModelFiles))]
    public void Bad_file_throws_SafetensorsException_naming_tensor_and_problem(string flaw)
    {
        (byte[] file, string[] message) = BadModelFile(flaw);
        AssertMessageContains(LoadFails(new LstmBasic(), file), message);
    }

    [Theory]
    [MemberData(nameof(BadModelFiles))]
    public void Failed_load_leaves_every_parameter_bit_identical(string flaw)
    {
        IRecurrentModel model = new LstmBasic();
        model.InitializeParameters(seed: 42);
        float[] before = Snapshot(model);
        LoadFails(model, BadModelFile(flaw).File);
        TestHelpers.AssertBitEqual(before, model.Parameters, "parameters after a failed load");
    }

    [Fact]
    public void Failed_non_strict_load_leaves_every_parameter_bit_identical()
    {
        IRecurrentModel model = new LstmBasic();
        model.InitializeParameters(seed: 42);
        float[] before = Snapshot(model);
        List<Entry> entries = EntriesOf(model);
        entries.RemoveAt(0);
        entries[^1] = entries[^1] with { Shape = [1, 2] };
        LoadFails(model, BuildFile(entries), strict: false);
        TestHelpers.AssertBitEqual(before, model.Parameters, "parameters after a failed load");
    }

    [Fact]
    public void Non_strict_load_fills_the_tensors_present_and_leaves_the_others_untouched()
    {
        IRecurrentModel model = new LstmBasic();
        model.InitializeParameters(seed: 7);
        float[] before = Snapshot(model);
        string[] present = ["rnn.weight_hh_l0", "head.bias"];
        byte[] file = BuildFile(EntriesOf(model).Where(e => present.Contains(e.Name)), fill: -3.5f);

        LoadFails(model, file, strict: true);
        model.LoadSafetensors(new MemoryStream(file), strict: false);

        foreach (ParameterInfo info in model.ParameterTable)
        {
            Span<float> values = model.GetParameter(info.Name);
            if (present.Contains(info.Name)) Assert.All(values.ToArray(), value => Assert.Equal(-3.5f, value));
            else TestHelpers.AssertBitEqual(before.AsSpan(info.Offset, info.Length), values, info.Name);
        }
    }

    [Fact]
    public void Tensors_the_model_does_not_have_are_ignored()
    {
        IRecurrentModel model = new LstmBasic();
        List<Entry> entries = EntriesOf(model);
        entries.Insert(0, new Entry("optimizer.step", "I32", [1], 4));
        entries.Add(F32("rnn.weight_ih_l1", 20, 5));
        model.LoadSafetensors(new MemoryStream(BuildFile(entries, fill: 2f)));
        Assert.All(model.Parameters.ToArray(), value => Assert.Equal(2f, value));
    }

    [Fact]
    public void Strict_load_of_a_file_without_model_tensors_names_the_first_missing()
    {
        byte[] file = BuildFile([F32("something.else", 1)]);
        AssertMessageContains(LoadFails(new GruBasic(), file), "'rnn.weight_ih_l0'", "[48, 4]", "missing");
    }

    // ---- Saving ----

    /// <summary>A model of every kind the round trip covers, initialised from a seed.</summary>
    public static TheoryData<string> RoundTripModels() => new() { "lstm_projection_bidirectional", "gru_stacked_bidirectional", "gru_basic", "rnn_relu" };

    private static byte[] Save(IRecurrentModel model)
    {
        using var stream = new MemoryStream();
        model.SaveSafetensors(stream);
        return stream.ToArray();
    }

    [Theory]
    [MemberData(nameof(RoundTripModels))]
    public void Save_then_load_is_bit_exact(string name)
    {
        IRecurrentModel source = TestModels.Create(name);
        source.InitializeParameters(seed: 2024);
        IRecurrentModel copy = TestModels.Create(name);
        copy.LoadSafetensors(new MemoryStream(Save(source)));
        TestHelpers.AssertBitEqual(source.Parameters, copy.Parameters, "reloaded parameters");
    }

    [Fact]
    public void Save_then_load_through_a_path_is_bit_exact()
    {
        var source = new LstmProjectionBidirectional();
        source.InitializeParameters(seed: 5);
        source.HeadBias[0] = float.NegativeZero;
        source.HeadBias[1] = float.Epsilon;
        source.HeadBias[2] = BitConverter.Int32BitsToSingle(0x7FC0_1234);  // NaN with a payload
        string path = Path.Combine(Path.GetTempPath(), $"modelgen-{Guid.NewGuid():N}.safetensors");
        try
        {
            source.SaveSafetensors(path);
            var copy = new LstmProjectionBidirectional();
            copy.LoadSafetensors(path);
            TestHelpers.AssertBitEqual(source.Parameters, copy.Parameters, "reloaded parameters");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [MemberData(nameof(RoundTripModels))]
    public void Saved_tensor_holds_exactly_the_parameter_of_its_name(string name)
    {
        IRecurrentModel model = TestModels.Create(name);
        model.InitializeParameters(seed: 99);
        SafetensorsFile file = SafetensorsFile.Parse(Save(model));
        Assert.Equal(model.ParameterTable.Count, file.Tensors.Count);
        foreach (ParameterInfo info in model.ParameterTable)
        {
            TestHelpers.AssertBitEqual(model.GetParameter(info.Name), file[info.Name].ToFloatArray(), info.Name);
        }
    }

    private static IEnumerable<SafetensorsTensor> ModuleTensors(SafetensorsFile file) =>
        file.Tensors.Values
            .Where(t => t.Name.StartsWith("rnn.", StringComparison.Ordinal) || t.Name.StartsWith("head.", StringComparison.Ordinal))
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    /// <summary>Names, dtypes and shapes equal PyTorch's state_dict: what load_state_dict needs.</summary>
    [Theory]
    [MemberData(nameof(DeclaredModelParityTests.Cases), MemberType = typeof(DeclaredModelParityTests))]
    public void Saved_file_has_the_tensors_of_pytorchs_state_dict(string name)
    {
        SafetensorsFile reference = ReferenceCase.LoadFrom(ReferencePath(name)).File;
        SafetensorsFile saved = SafetensorsFile.Parse(Save(TestModels.Create(name)));
        string Describe(SafetensorsTensor t) => $"{t.Name} {t.DType} {t.ShapeText}";
        Assert.Equal(ModuleTensors(reference).Select(Describe), ModuleTensors(saved).Select(Describe));
    }

    [Theory]
    [MemberData(nameof(DeclaredModelParityTests.Cases), MemberType = typeof(DeclaredModelParityTests))]
    public void Loading_pytorch_weights_and_saving_reproduces_their_bytes(string name)
    {
        SafetensorsFile reference = ReferenceCase.LoadFrom(ReferencePath(name)).File;
        IRecurrentModel model = TestModels.Create(name);
        model.LoadSafetensors(ReferencePath(name));
        SafetensorsFile saved = SafetensorsFile.Parse(Save(model));
        foreach (SafetensorsTensor tensor in ModuleTensors(reference))
        {
            Assert.True(tensor.Data.Span.SequenceEqual(saved[tensor.Name].Data.Span), $"{tensor.Name}: saved bytes differ from PyTorch's.");
        }
    }

    private static string ReferencePath(string name) =>
        Path.Combine(AppContext.BaseDirectory, "reference", name + ".safetensors");

    // ---- The writer ----

    private static byte[] Write(SafetensorsWriter writer)
    {
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Writer_pads_the_header_with_spaces_to_8_byte_alignment(int nameExtra)
    {
        byte[] bytes = Write(new SafetensorsWriter().Add("t" + new string('x', nameExtra), [2], [1f, 2f]));
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        Assert.Equal(8 + (long)headerLength + 8, bytes.Length);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        string trimmed = header.TrimEnd(' ');
        Assert.EndsWith("}", trimmed, StringComparison.Ordinal);
        Assert.True(header.Length - trimmed.Length < 8, $"{header.Length - trimmed.Length} padding bytes");
        Assert.Equal([1f, 2f], SafetensorsFile.Parse(bytes)["t" + new string('x', nameExtra)].ToFloatArray());
    }

    [Fact]
    public void Writer_metadata_round_trips()
    {
        var writer = new SafetensorsWriter()
            .AddMetadata("format", "pt")
            .AddMetadata("quote \" and ünïcode", "line\nbreak")
            .AddMetadata("format", "pt2");
        writer.Add("w", [1], [3f]);
        SafetensorsFile file = SafetensorsFile.Parse(Write(writer));
        Assert.Equal(2, file.Metadata.Count);
        Assert.Equal("pt2", file.Metadata["format"]);
        Assert.Equal("line\nbreak", file.Metadata["quote \" and ünïcode"]);
        Assert.Equal(["w"], file.Tensors.Keys);
    }

    [Fact]
    public void Writer_I32_and_F32_tensors_round_trip_with_dtype_shape_and_bits()
    {
        int[] ints = [0, -1, int.MaxValue, int.MinValue, 42, 7];
        float[] floats = [float.NegativeZero, float.Epsilon, float.MaxValue, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7FC0_0001), 1f / 3];
        SafetensorsFile file = SafetensorsFile.Parse(Write(new SafetensorsWriter()
            .Add("ints", [2, 3], ints)
            .Add("floats", [3, 1, 2], floats)
            .Add("scalar", [], [5])));
        Assert.Equal("I32", file["ints"].DType);
        Assert.Equal(new long[] { 2, 3 }, file["ints"].Shape.ToArray());
        Assert.Equal(ints, file["ints"].ToInt32Array());
        Assert.Equal("F32", file["floats"].DType);
        Assert.Equal(new long[] { 3, 1, 2 }, file["floats"].Shape.ToArray());
        TestHelpers.AssertBitEqual(floats, file["floats"].ToFloatArray());
        Assert.Empty(file["scalar"].Shape);
        Assert.Equal([5], file["scalar"].ToInt32Array());
    }

    [Fact]
    public void Writer_rejects_an_element_count_not_matching_the_shape()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => new SafetensorsWriter().Add("w", [2, 3], new float[5]));
        AssertMessageContains(e, "'w'", "[2, 3]", "6", "5");
    }

    [Theory]
    [InlineData("__metadata__")]
    [InlineData("twice")]
    public void Writer_rejects_reserved_and_repeated_names(string name)
    {
        SafetensorsWriter writer = new SafetensorsWriter().Add("twice", [1], [1f]);
        Assert.Throws<ArgumentException>(() => writer.Add(name, [1], [2f]));
    }

    [Fact]
    public void Reading_from_a_stream_matches_parsing_the_bytes()
    {
        byte[] bytes = Write(new SafetensorsWriter().AddMetadata("k", "v").Add("a", [2], [1f, 2f]).Add("b", [1], [3]));
        SafetensorsFile parsed = SafetensorsFile.Parse(bytes);
        SafetensorsFile read = SafetensorsFile.Read(new MemoryStream(bytes));
        Assert.Equal(parsed.Tensors.Keys.Order(StringComparer.Ordinal), read.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(parsed["a"].ToFloatArray(), read["a"].ToFloatArray());
        Assert.Equal(parsed["b"].ToInt32Array(), read["b"].ToInt32Array());
        Assert.Equal("v", read.Metadata["k"]);
    }
}
