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
            ReadOnlySpan<float> values = model.GetParameter(info.Name);
            if (present.Contains(info.Name)) Assert.All(values.ToArray(), value => Assert.Equal(-3.5f, value));
            else TestHelpers.AssertBitEqual(before.AsSpan(info.Offset, info.Length), values, info.Name);
        }
    }

    [Fact]
    public void Tensors_outside_the_models_modules_are_ignored_and_reported()
    {
        IRecurrentModel model = new LstmBasic();
        List<Entry> entries = EntriesOf(model);
        entries.Insert(0, new Entry("optimizer.step", "I32", [1], 4));
        entries.Add(F32("input", 1, 7, 3));
        LoadResult result = model.LoadSafetensors(new MemoryStream(BuildFile(entries, fill: 2f)));
        Assert.All(model.Parameters.ToArray(), value => Assert.Equal(2f, value));
        Assert.Equal(["optimizer.step", "input"], result.UnexpectedKeys);
    }

    /// <summary>
    /// A tensor under rnn. or head. that the model lacks was ignored before, so a file of a 2-layer model loaded
    /// into a 1-layer one without a word. Strict now refuses it, as PyTorch's strict=True does; non-strict reports it.
    /// </summary>
    [Fact]
    public void A_tensor_of_the_models_modules_that_it_lacks_fails_a_strict_load()
    {
        IRecurrentModel model = new LstmBasic();
        List<Entry> entries = EntriesOf(model);
        entries.Add(F32("rnn.weight_ih_l1", 20, 5));
        byte[] file = BuildFile(entries, fill: 2f);
        AssertMessageContains(LoadFails(model, file), "'rnn.weight_ih_l1'", "the file has 2 layers, the model 1");
        Assert.All(model.Parameters.ToArray(), value => Assert.Equal(0f, value));
        Assert.Equal(["rnn.weight_ih_l1"], model.LoadSafetensors(new MemoryStream(file), strict: false).UnexpectedKeys);
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
        Span<float> headBias = TestHelpers.Writable(source, source.HeadBias);
        headBias[0] = float.NegativeZero;
        headBias[1] = float.Epsilon;
        headBias[2] = BitConverter.Int32BitsToSingle(0x7FC0_1234);  // NaN with a payload
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

    // ---- The format's layout rules (the reference implementation's validate) ----

    /// <summary>Every reader: Parse, Read on a MemoryStream and on a stream that cannot seek; returns Parse's exception.</summary>
    private static SafetensorsException AllReadersFail(byte[] file)
    {
        Assert.Throws<SafetensorsException>(() => SafetensorsFile.Read(new MemoryStream(file)));
        Assert.Throws<SafetensorsException>(() => SafetensorsFile.Read(new TestStream(file, seekable: false, pieceSeed: 1)));
        return ParseFails(file);
    }

    /// <summary>A saved LstmBasic whose header the writer padded with at least one space.</summary>
    private static byte[] PaddedModelFile(IRecurrentModel model)
    {
        byte[] file = Save(model);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal((byte)' ', file[8 + headerLength - 1]);
        return file;
    }

    [Fact]
    public void Header_length_one_byte_short_is_rejected_instead_of_shifting_every_tensor()
    {
        IRecurrentModel model = new LstmBasic();
        model.InitializeParameters(seed: 3);
        byte[] file = PaddedModelFile(model);
        BinaryPrimitives.WriteUInt64LittleEndian(file, BinaryPrimitives.ReadUInt64LittleEndian(file) - 1);

        AssertMessageContains(AllReadersFail(file), "1 trailing bytes", "header length");
        IRecurrentModel target = new LstmBasic();
        target.InitializeParameters(seed: 4);
        float[] before = Snapshot(target);
        LoadFails(target, file);
        TestHelpers.AssertBitEqual(before, target.Parameters, "parameters after a failed load");
    }

    [Fact]
    public void Trailing_bytes_after_the_last_tensor_are_rejected()
    {
        byte[] file = [.. BuildFile([F32("w", 2)]), 0, 0, 0, 0];
        AssertMessageContains(AllReadersFail(file), "holds 12 bytes", "end at byte 8", "4 trailing bytes");
    }

    [Fact]
    public void Gap_between_tensors_is_rejected_naming_both()
    {
        byte[] file = BuildFile([F32("a", 2), F32("b", 2) with { Begin = 12, End = 20 }, F32("pad", 1)]);
        AssertMessageContains(AllReadersFail(file), "'a' [0, 8]", "'b' [12, 20]", "gap of 4 bytes", "contiguous");
    }

    [Fact]
    public void First_tensor_not_at_offset_0_is_rejected()
    {
        byte[] file = BuildFile([F32("w", 2) with { Begin = 4, End = 12 }, F32("pad", 1)]);
        AssertMessageContains(AllReadersFail(file), "'w'", "starts at byte 4", "must start at 0");
    }

    [Fact]
    public void Tensors_listed_out_of_offset_order_are_read_by_their_offsets()
    {
        // b's bytes come first in the data section, a's second: only the offsets say which is which.
        byte[] data = [.. BitConverter.GetBytes(2f), .. BitConverter.GetBytes(1f)];
        byte[] file = RawFile(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data);
        foreach (SafetensorsFile parsed in new[] { SafetensorsFile.Parse(file), SafetensorsFile.Read(new TestStream(file, seekable: false)) })
        {
            Assert.Equal([1f], parsed["a"].ToFloatArray());
            Assert.Equal([2f], parsed["b"].ToFloatArray());
        }
    }

    [Fact]
    public void Zero_length_tensors_may_sit_at_any_boundary()
    {
        byte[] file = BuildFile([F32("a", 1), F32("empty_middle", 0) with { Begin = 4, End = 4 }, F32("b", 1),
            F32("empty_end", 3, 0) with { Begin = 8, End = 8 }, F32("empty_start", 0) with { Begin = 0, End = 0 }]);
        SafetensorsFile parsed = SafetensorsFile.Parse(file);
        Assert.Equal(5, parsed.Tensors.Count);
        Assert.Equal(0, parsed["empty_end"].ElementCount);
    }

    [Fact]
    public void Header_starting_with_white_space_is_rejected()
    {
        byte[] file = RawFile(" {\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        AssertMessageContains(AllReadersFail(file), "0x20", "'{'");
    }

    [Theory]
    [InlineData("   ")]
    [InlineData(" \t\r\n")]
    public void Trailing_white_space_in_the_header_is_padding(string padding)
    {
        byte[] data = BitConverter.GetBytes(7f);
        byte[] file = RawFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}" + padding, data);
        Assert.Equal([7f], SafetensorsFile.Parse(file)["w"].ToFloatArray());
    }

    [Fact]
    public void Header_that_is_not_white_space_after_the_object_is_rejected() =>
        AssertMessageContains(AllReadersFail(RawFile("{}\0\0", [])), "not valid JSON");

    [Fact]
    public void Metadata_appearing_twice_is_rejected() =>
        AssertMessageContains(AllReadersFail(RawFile("{\"__metadata__\":{\"a\":\"1\"},\"__metadata__\":{\"a\":\"2\"}}", [])),
            "__metadata__", "twice");

    [Fact]
    public void Metadata_key_appearing_twice_is_rejected() =>
        AssertMessageContains(AllReadersFail(RawFile("{\"__metadata__\":{\"step\":\"1\",\"step\":\"9\"}}", [])),
            "__metadata__ key 'step'", "twice");

    [Fact]
    public void Metadata_key_repeated_through_an_escape_is_rejected() =>
        AssertMessageContains(AllReadersFail(RawFile("{\"__metadata__\":{\"k\":\"1\",\"\\u006b\":\"2\"}}", [])), "'k'", "twice");

    [Theory]
    [InlineData("dtype", "\"F64\"", "\"F32\"")]
    [InlineData("shape", "[2]", "[1]")]
    [InlineData("data_offsets", "[0,8]", "[0,4]")]
    public void Field_appearing_twice_in_a_tensor_entry_is_rejected(string field, string first, string second)
    {
        var fields = new Dictionary<string, string> { ["dtype"] = "\"F32\"", ["shape"] = "[1]", ["data_offsets"] = "[0,4]" };
        string entry = string.Join(",", fields.Select(f => f.Key == field
            ? $"\"{field}\":{first},\"{field}\":{second}"
            : $"\"{f.Key}\":{f.Value}"));
        byte[] file = RawFile("{\"w\":{" + entry + "}}", new byte[4]);
        AssertMessageContains(AllReadersFail(file), "'w'", $"\"{field}\"", "twice");
    }

    [Fact]
    public void Unknown_fields_of_a_tensor_entry_are_ignored_as_by_the_reference()
    {
        byte[] file = RawFile("{\"w\":{\"dtype\":\"F32\",\"note\":[{\"x\":\"\\ud800\"}],\"shape\":[1],\"data_offsets\":[0,4]}}", BitConverter.GetBytes(3f));
        Assert.Equal([3f], SafetensorsFile.Parse(file)["w"].ToFloatArray());
    }

    [Fact]
    public void Header_with_more_than_MaxEntries_tensors_is_rejected_naming_the_limit()
    {
        AssertMessageContains(ParseFails(EmptyTensors(SafetensorsFile.MaxEntries + 1)),
            "more than " + SafetensorsFile.MaxEntries.ToString(System.Globalization.CultureInfo.InvariantCulture), "tensors");
        Assert.Equal(SafetensorsFile.MaxEntries, SafetensorsFile.Parse(EmptyTensors(SafetensorsFile.MaxEntries)).Tensors.Count);
    }

    [Fact]
    public void Metadata_with_more_than_MaxEntries_entries_is_rejected_naming_the_limit()
    {
        var header = new StringBuilder("{\"__metadata__\":{");
        for (int i = 0; i <= SafetensorsFile.MaxEntries; i++) header.Append(i == 0 ? "" : ",").Append("\"k").Append(i).Append("\":\"\"");
        header.Append("}}");
        AssertMessageContains(ParseFails(RawFile(header.ToString(), [])), "__metadata__",
            "more than " + SafetensorsFile.MaxEntries.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A file of <paramref name="count"/> empty U8 tensors, all at offset 0.</summary>
    private static byte[] EmptyTensors(int count)
    {
        var header = new StringBuilder("{");
        for (int i = 0; i < count; i++)
        {
            header.Append(i == 0 ? "" : ",").Append("\"t").Append(i).Append("\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}");
        }
        return RawFile(header.Append('}').ToString(), []);
    }

    // ---- Text that is not text ----

    /// <summary>Headers with bytes that are not UTF-8 (0xFF, a truncated sequence, an encoded surrogate) in each kind of string.</summary>
    public static TheoryData<string, byte[]> InvalidUtf8Headers()
    {
        var cases = new TheoryData<string, byte[]>();
        foreach ((string what, string header) in new[]
        {
            ("tensor name", "{\"w#\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"),
            ("dtype", "{\"w\":{\"dtype\":\"F32#\",\"shape\":[1],\"data_offsets\":[0,4]}}"),
            ("metadata key", "{\"__metadata__\":{\"k#\":\"v\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"),
            ("metadata value", "{\"__metadata__\":{\"k\":\"v#\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"),
            ("ignored field", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"note\":\"#\"}}"),
        })
        {
            foreach ((string kind, byte[] bad) in new[] { ("0xFF", new byte[] { 0xFF }), ("truncated", new byte[] { 0xC3 }), ("surrogate", new byte[] { 0xED, 0xA0, 0x80 }) })
            {
                string[] parts = header.Split('#');
                cases.Add($"{what}, {kind}", [.. Encoding.UTF8.GetBytes(parts[0]), .. bad, .. Encoding.UTF8.GetBytes(parts[1])]);
            }
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(InvalidUtf8Headers))]
    public void Header_that_is_not_UTF8_throws_SafetensorsException(string what, byte[] header)
    {
        byte[] file = [.. new byte[8], .. header, .. new byte[4]];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        SafetensorsException e = AllReadersFail(file);
        Assert.True(e.Message.Contains("not valid UTF-8", StringComparison.Ordinal), $"{what}: {e.Message}");
        Assert.Throws<SafetensorsException>(() => new LstmBasic().LoadSafetensors(new MemoryStream(file), strict: false));
    }

    /// <summary>JSON escapes that decode to a lone UTF-16 surrogate, in each place the reader decodes a string.</summary>
    [Theory]
    [InlineData("{\"w\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "header key at position 0")]
    [InlineData("{\"w\":{\"dtype\":\"\\udc00\",\"shape\":[1],\"data_offsets\":[0,4]}}", "'w': dtype")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"\\ud800x\":1,\"shape\":[1],\"data_offsets\":[0,4]}}", "'w': a field name")]
    [InlineData("{\"__metadata__\":{\"\\ud800\":\"v\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "__metadata__ key at position 0")]
    [InlineData("{\"__metadata__\":{\"k\":\"a\\udbff\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "__metadata__ entry 'k'")]
    public void Lone_surrogate_escape_throws_SafetensorsException_naming_where(string header, string where)
    {
        byte[] file = RawFile(header, new byte[4]);
        AssertMessageContains(AllReadersFail(file), where, "not valid text", "surrogate");
        Assert.Throws<SafetensorsException>(() => new LstmBasic().LoadSafetensors(new MemoryStream(file), strict: false));
    }

    [Fact]
    public void Escaped_non_ASCII_names_decode_like_plain_ones()
    {
        byte[] file = RawFile("{\"\\u00e9\\ud83d\\ude00\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", BitConverter.GetBytes(5f));
        Assert.Equal([5f], SafetensorsFile.Parse(file)["é😀"].ToFloatArray());
    }

    // ---- Bounded reads ----

    [Fact]
    public void Endless_stream_that_cannot_seek_is_rejected_right_after_the_data_section()
    {
        byte[] file = BuildFile([F32("w", 4)]);
        var stream = new TestStream(file, length: long.MaxValue, seekable: false, budget: file.Length + (1 << 20));
        AssertMessageContains(Assert.Throws<SafetensorsException>(() => SafetensorsFile.Read(stream)), "goes on past", "16-byte data section");
        Assert.Equal(file.Length + 1, stream.BytesRead);
    }

    [Fact]
    public void Seekable_stream_longer_than_the_header_implies_is_rejected_before_reading_data()
    {
        byte[] file = BuildFile([F32("w", 4)]);
        long length = 3L << 30;  // more than one array can hold
        var stream = new TestStream(file, length: length, budget: file.Length);
        SafetensorsException e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Read(stream));
        AssertMessageContains(e, "trailing bytes");
        Assert.Equal(file.Length - 16, stream.BytesRead);
    }

    [Fact]
    public void Truncated_seekable_stream_is_rejected_before_reading_data()
    {
        byte[] file = BuildFile([F32("a", 4), F32("b", 4)])[..^4];
        var stream = new TestStream(file);
        AssertMessageContains(Assert.Throws<SafetensorsException>(() => SafetensorsFile.Read(stream)), "'b'", "out of range", "truncated");
        Assert.Equal(file.Length - 28, stream.BytesRead);
    }

    [Fact]
    public void Truncated_stream_that_cannot_seek_names_where_it_ended()
    {
        byte[] file = BuildFile([F32("a", 4), F32("b", 4)])[..^4];
        SafetensorsException e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Read(new TestStream(file, seekable: false)));
        AssertMessageContains(e, "Truncated data section", "after 28 of the 32 bytes", "'b' [16, 32]");
    }

    [Fact]
    public void Header_length_larger_than_a_stream_that_cannot_seek_holds_costs_only_what_it_holds()
    {
        byte[] file = new byte[18];
        BinaryPrimitives.WriteUInt64LittleEndian(file, SafetensorsFile.MaxHeaderBytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        SafetensorsException e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Read(new TestStream(file, seekable: false)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        AssertMessageContains(e, "runs past the end", "(10 bytes follow");
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated to find 10 bytes");
    }

    /// <summary>LstmBasic's tensors after an 8 MiB tensor the model does not have.</summary>
    private static (byte[] File, long ModelBytes) ModelFileAfterABigTensor(float fill)
    {
        List<Entry> entries = EntriesOf(new LstmBasic());
        long modelBytes = entries.Sum(e => e.Bytes);
        entries.Insert(0, F32("unused", 2 << 20));
        return (BuildFile(entries, fill), modelBytes);
    }

    [Fact]
    public void Model_load_from_a_seekable_stream_reads_only_the_header_and_the_models_tensors()
    {
        (byte[] file, long modelBytes) = ModelFileAfterABigTensor(fill: 0.25f);
        var stream = new TestStream(file);
        IRecurrentModel model = new LstmBasic();
        model.LoadSafetensors(stream);
        Assert.All(model.Parameters.ToArray(), value => Assert.Equal(0.25f, value));
        long header = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(header + modelBytes, stream.BytesRead);
    }

    [Fact]
    public void Model_load_from_a_stream_that_cannot_seek_does_not_buffer_the_file()
    {
        (byte[] file, _) = ModelFileAfterABigTensor(fill: 0.75f);
        IRecurrentModel model = new LstmBasic();
        var stream = new TestStream(file, seekable: false);
        long before = GC.GetAllocatedBytesForCurrentThread();
        model.LoadSafetensors(stream);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.All(model.Parameters.ToArray(), value => Assert.Equal(0.75f, value));
        Assert.Equal(file.Length, stream.BytesRead);
        Assert.True(allocated < file.Length / 8, $"{allocated} bytes allocated to load a {file.Length}-byte file");
    }

    [Fact]
    public void Model_load_checks_names_dtypes_and_shapes_before_reading_any_data()
    {
        List<Entry> entries = EntriesOf(new LstmBasic());
        entries[^1] = entries[^1] with { Shape = [1, 2] };
        byte[] file = BuildFile(entries);
        var stream = new TestStream(file, seekable: false);
        AssertMessageContains(LoadFailsOn(new LstmBasic(), stream), "'head.bias'", "expected [2]");
        Assert.Equal(8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(file), stream.BytesRead);
    }

    private static SafetensorsException LoadFailsOn(IRecurrentModel model, Stream stream) =>
        Assert.Throws<SafetensorsException>(() => model.LoadSafetensors(stream));

    [Fact]
    public void Model_load_failing_after_its_tensors_were_read_leaves_the_model_unchanged()
    {
        // The model's tensors are complete; the stream ends inside a later tensor the model does not use.
        List<Entry> entries = EntriesOf(new LstmBasic());
        entries.Add(F32("later", 8));
        byte[] file = BuildFile(entries, fill: 9f)[..^4];
        IRecurrentModel model = new LstmBasic();
        model.InitializeParameters(seed: 8);
        float[] before = Snapshot(model);
        AssertMessageContains(LoadFailsOn(model, new TestStream(file, seekable: false, pieceSeed: 2)), "Truncated data section", "'later'");
        TestHelpers.AssertBitEqual(before, model.Parameters, "parameters after a failed load");
    }

    [Fact]
    public void Reading_starts_at_the_streams_position()
    {
        byte[] file = BuildFile([F32("w", 2)], fill: 4f);
        var stream = new MemoryStream([9, 9, 9, .. file]) { Position = 3 };
        Assert.Equal([4f, 4f], SafetensorsFile.Read(stream)["w"].ToFloatArray());
    }

    [Fact]
    public void Selective_read_holds_only_the_tensors_selected_and_the_metadata()
    {
        byte[] bytes = Write(new SafetensorsWriter().AddMetadata("k", "v").Add("a", [2], [1f, 2f]).Add("b", [1], [3]).Add("c", [1], [4f]));
        foreach (Stream stream in new Stream[] { new MemoryStream(bytes), new TestStream(bytes, seekable: false, pieceSeed: 3) })
        {
            SafetensorsFile file = SafetensorsFile.Read(stream, header =>
            {
                Assert.Equal(["a", "b", "c"], header.Tensors.Keys.Order(StringComparer.Ordinal));
                Assert.Equal(16, header.DataLength);
                Assert.Equal("I32", header.Tensors["b"].DType);
                Assert.Equal((8L, 12L), (header.Tensors["b"].Begin, header.Tensors["b"].End));
                return ["c", "a", "c"];
            });
            Assert.Equal(["a", "c"], file.Tensors.Keys.Order(StringComparer.Ordinal));
            Assert.Equal([1f, 2f], file["a"].ToFloatArray());
            Assert.Equal([4f], file["c"].ToFloatArray());
            Assert.Equal("v", file.Metadata["k"]);
        }
    }

    [Fact]
    public void Selecting_a_tensor_the_file_lacks_names_it()
    {
        byte[] bytes = Write(new SafetensorsWriter().Add("a", [1], [1f]));
        SafetensorsException e = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Read(new MemoryStream(bytes), _ => ["zz"]));
        AssertMessageContains(e, "'zz'", "missing");
    }

    [Fact]
    public void Missing_file_throws_FileNotFoundException()
    {
        string path = Path.Combine(Path.GetTempPath(), $"modelgen-missing-{Guid.NewGuid():N}.safetensors");
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Read(path));
        Assert.Throws<FileNotFoundException>(() => new LstmBasic().LoadSafetensors(path));
    }
}
