using System.Buffers.Binary;
using ModelGen.Testing;

namespace ModelGen.Tests;

/// <summary>
/// Loading PyTorch checkpoints as <c>load_state_dict</c> does: key renames (<see cref="LoadOptions.Rename"/>), the
/// missing and unexpected keys of <see cref="LoadResult"/>, strictness, the messages of a file that does not fit,
/// and the configuration that <c>SaveSafetensors</c> writes into <c>__metadata__</c> and loading checks. Every file
/// is built in memory with <see cref="SafetensorsWriter"/>.
/// </summary>
public class PyTorchInteropTests
{
    // ---- Building files ----

    private static long[] ShapeOf(ParameterInfo info) => [.. info.Shape.Select(d => (long)d)];

    private static byte[] Bytes(SafetensorsWriter writer)
    {
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>The model's parameters under the names <paramref name="key"/> gives, as PyTorch's save_file writes them (no metadata).</summary>
    private static SafetensorsWriter StateDict(IRecurrentModel model, Func<string, string>? key = null)
    {
        var writer = new SafetensorsWriter();
        foreach (ParameterInfo info in model.ParameterTable)
        {
            writer.Add((key ?? (name => name))(info.Name), ShapeOf(info), model.GetParameter(info.Name));
        }
        return writer;
    }

    /// <summary>A file of zero tensors with the names and shapes of another configuration's state_dict.</summary>
    private static SafetensorsWriter StateDictOf(ModelGeometry geometry)
    {
        var writer = new SafetensorsWriter();
        foreach (TensorSlot slot in geometry.Parameters)
        {
            writer.Add(slot.Name, [.. slot.Shape.Select(d => (long)d)], new float[slot.Length]);
        }
        return writer;
    }

    private static T Seeded<T>(ulong seed) where T : IRecurrentModel, new()
    {
        var model = new T();
        model.InitializeParameters(seed);
        return model;
    }

    private static byte[] Save(IRecurrentModel model)
    {
        using var stream = new MemoryStream();
        model.SaveSafetensors(stream);
        return stream.ToArray();
    }

    private static SafetensorsException LoadFails(IRecurrentModel model, byte[] file, LoadOptions options)
    {
        float[] before = model.Parameters.ToArray();
        SafetensorsException e = Assert.Throws<SafetensorsException>(() => model.LoadSafetensors(new MemoryStream(file), options));
        TestHelpers.AssertBitEqual(before, model.Parameters, "parameters after a failed load");
        return e;
    }

    private static void AssertMessageContains(Exception exception, params string[] parts)
    {
        foreach (string part in parts)
        {
            Assert.True(exception.Message.Contains(part, StringComparison.Ordinal), $"message lacks \"{part}\":\n{exception.Message}");
        }
    }

    private static long HeaderBytes(byte[] file) => 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(file);

    // ---- 1. Renaming the file's keys ----

    /// <summary>A PyTorch module whose attributes are called <c>lstm</c> and <c>fc</c> (the usual names).</summary>
    private static string LstmFcName(string name) =>
        name.StartsWith("rnn.", StringComparison.Ordinal) ? "lstm." + name[4..] : "fc." + name["head.".Length..];

    [Fact]
    public void Prefix_renames_load_a_module_whose_attributes_are_lstm_and_fc()
    {
        LstmStacked source = Seeded<LstmStacked>(1);
        byte[] file = Bytes(StateDict(source, LstmFcName));
        var model = new LstmStacked();

        LoadResult result = model.LoadSafetensors(new MemoryStream(file), new LoadOptions { Rename = { ["lstm."] = "rnn.", ["fc."] = "head." } });

        TestHelpers.AssertBitEqual(source.Parameters, model.Parameters, "renamed parameters");
        Assert.Equal(LstmStacked.ParameterTable.Select(p => p.Name), result.LoadedKeys);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.True(result.AllKeysMatched);
        Assert.Equal("<All keys matched successfully>", result.ToString());
    }

    [Fact]
    public void A_function_maps_keys_and_skips_those_it_maps_to_null()
    {
        GruBasic source = Seeded<GruBasic>(2);
        SafetensorsWriter writer = StateDict(source, name => "model." + name.Replace("rnn.", "encoder.gru.", StringComparison.Ordinal));
        writer.Add("optimizer.step", [1], [3]).Add("input", [2, 4], new float[8]);
        var model = new GruBasic();

        LoadResult result = model.LoadSafetensors(new MemoryStream(Bytes(writer)), new LoadOptions
        {
            Rename = KeyMap.From(key => key.StartsWith("optimizer.", StringComparison.Ordinal)
                ? null
                : key.Replace("model.", "", StringComparison.Ordinal).Replace("encoder.gru.", "rnn.", StringComparison.Ordinal)),
        });

        TestHelpers.AssertBitEqual(source.Parameters, model.Parameters, "mapped parameters");
        Assert.Empty(result.MissingKeys);
        Assert.Equal(["input"], result.UnexpectedKeys);   // optimizer.step was skipped, not unexpected
    }

    /// <summary>A bare <c>nn.GRU</c>'s state_dict (<c>weight_ih_l0</c>, …) and <c>nn.DataParallel</c>'s <c>module.</c> prefix.</summary>
    [Fact]
    public void The_empty_prefix_matches_every_key_and_an_empty_target_strips_a_prefix()
    {
        SquareBidirectionalGru source = Seeded<SquareBidirectionalGru>(3);
        var bare = new SquareBidirectionalGru();
        bare.LoadSafetensors(new MemoryStream(Bytes(StateDict(source, name => name[4..]))), new LoadOptions { Rename = { [""] = "rnn." } });
        TestHelpers.AssertBitEqual(source.Parameters, bare.Parameters, "bare nn.GRU keys");

        var parallel = new SquareBidirectionalGru();
        parallel.LoadSafetensors(new MemoryStream(Bytes(StateDict(source, name => "module." + name))), new LoadOptions { Rename = { ["module."] = "" } });
        TestHelpers.AssertBitEqual(source.Parameters, parallel.Parameters, "DataParallel keys");
    }

    [Fact]
    public void KeyMap_applies_the_longest_matching_prefix_and_keeps_unmatched_keys()
    {
        var map = new KeyMap { ["a."] = "x.", ["a.b."] = "y.", ["skip."] = null };
        Assert.Equal("y.c", map.Map("a.b.c"));
        Assert.Equal("x.c", map.Map("a.c"));
        Assert.Null(map.Map("skip.me"));
        Assert.Equal("other", map.Map("other"));
        Assert.Equal("x.", map["a."]);
        map["a."] = "z.";                                    // setting a prefix again replaces its rule
        Assert.Equal("z.c", map.Map("a.c"));
        Assert.Equal(3, map.Prefixes.Count);
        Assert.Equal("{ [\"a.\"] = \"z.\", [\"a.b.\"] = \"y.\", [\"skip.\"] = null }", map.ToString());
        Assert.Throws<KeyNotFoundException>(() => map["none."]);
        Assert.True(new KeyMap().IsIdentity);
        Assert.False(map.IsIdentity);

        KeyMap function = KeyMap.From(key => key.ToUpperInvariant());
        Assert.Equal("RNN.X", function.Map("rnn.x"));
        Assert.Throws<InvalidOperationException>(() => function["a."] = "b.");
    }

    [Fact]
    public void Two_keys_that_map_to_one_name_are_refused_naming_both()
    {
        LstmBasic source = Seeded<LstmBasic>(4);
        SafetensorsWriter writer = StateDict(source);
        writer.Add("lstm.weight_ih_l0", [20, 3], source.WeightIhL0);
        SafetensorsException e = LoadFails(new LstmBasic(), Bytes(writer), new LoadOptions { Rename = { ["lstm."] = "rnn." } });
        AssertMessageContains(e, "'rnn.weight_ih_l0'", "'lstm.weight_ih_l0'", "both map to");
    }

    [Fact]
    public void The_bool_overloads_still_load_and_return_the_result()
    {
        LstmBasic source = Seeded<LstmBasic>(5);
        var model = new LstmBasic();
        LoadResult strict = model.LoadSafetensors(new MemoryStream(Save(source)));
        LoadResult lenient = ((IRecurrentModel)new LstmBasic()).LoadSafetensors(new MemoryStream(Save(source)), strict: false);
        TestHelpers.AssertBitEqual(source.Parameters, model.Parameters, "reloaded");
        Assert.True(strict.AllKeysMatched);
        Assert.True(lenient.AllKeysMatched);
        Assert.Throws<ArgumentNullException>(() => model.LoadSafetensors(new MemoryStream(Save(source)), options: null!));
        var stream = new MemoryStream(Save(source));
        Assert.Throws<ArgumentException>(() => model.LoadSafetensors(stream, new LoadOptions { Rename = null! }));
        Assert.Equal(0, stream.Position);   // refused before anything was read
    }

    // ---- 2. Missing and unexpected keys ----

    [Fact]
    public void Non_strict_load_returns_the_missing_and_the_unexpected_keys()
    {
        LstmBasic source = Seeded<LstmBasic>(6);
        var writer = new SafetensorsWriter().Add("input", [1, 7, 3], new float[21]);
        foreach (ParameterInfo info in LstmBasic.ParameterTable.Where(p => !p.Name.StartsWith("head.", StringComparison.Ordinal)))
        {
            writer.Add(info.Name, ShapeOf(info), source.GetParameter(info.Name));
        }
        writer.Add("optimizer.step", [1], [10]);
        LstmBasic model = Seeded<LstmBasic>(7);
        float[] headBefore = [.. model.HeadWeight, .. model.HeadBias];

        LoadResult result = model.LoadSafetensors(new MemoryStream(Bytes(writer)), strict: false);

        Assert.Equal(["head.weight", "head.bias"], result.MissingKeys);
        Assert.Equal(["input", "optimizer.step"], result.UnexpectedKeys);   // in the file's order
        Assert.Equal(["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"], result.LoadedKeys);
        Assert.False(result.AllKeysMatched);
        Assert.Equal("missing_keys=['head.weight', 'head.bias'], unexpected_keys=['input', 'optimizer.step'] (4 loaded)", result.ToString());
        TestHelpers.AssertBitEqual(headBefore, [.. model.HeadWeight, .. model.HeadBias], "the head the file lacks");
        TestHelpers.AssertBitEqual(source.WeightHhL0, model.WeightHhL0, "a tensor the file has");
    }

    [Fact]
    public void Strict_load_fails_on_a_missing_key_and_names_it()
    {
        LstmBasic source = Seeded<LstmBasic>(8);
        var writer = new SafetensorsWriter();
        foreach (ParameterInfo info in LstmBasic.ParameterTable.Where(p => p.Name != "rnn.bias_hh_l0"))
        {
            writer.Add(info.Name, ShapeOf(info), source.GetParameter(info.Name));
        }
        SafetensorsException e = LoadFails(Seeded<LstmBasic>(9), Bytes(writer), new LoadOptions());
        AssertMessageContains(e, "Tensor 'rnn.bias_hh_l0' [20] is missing from the file", "strict: false");
    }

    /// <summary>
    /// The reference files carry the module's weights and their test data (input, output, grad_*, sgd3.*, …):
    /// under strict the data is ignored, as before, but reported.
    /// </summary>
    [Fact]
    public void Strict_load_ignores_tensors_outside_the_models_modules_and_reports_them()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "reference", "lstm_basic.safetensors");
        LoadResult result = new LstmBasic().LoadSafetensors(path);
        Assert.Empty(result.MissingKeys);
        Assert.Contains("input", result.UnexpectedKeys);
        Assert.Contains("grad_last.rnn.weight_ih_l0", result.UnexpectedKeys);
        Assert.Equal(ReferenceCase.LoadFrom(path).File.Tensors.Count - 6, result.UnexpectedKeys.Count);
        Assert.Equal(6, result.LoadedKeys.Count);
    }

    /// <summary>Tensors under rnn. or head. that the model lacks mean the file is of a bigger model: strict refuses it.</summary>
    public static TheoryData<string, string, string> TensorsOfABiggerModel() => new()
    {
        { "lstm_basic", "rnn.weight_ih_l1:20,5 rnn.weight_hh_l1:20,5", "the file has 2 layers, the model 1" },
        { "lstm_basic", "rnn.weight_ih_l0_reverse:20,3 rnn.weight_hh_l0_reverse:20,5", "the file's layers are bidirectional" },
        { "lstm_basic", "rnn.weight_hr_l0:2,5", "the file's layers have a projection (weight_hr)" },
        { "lstm_nobias", "rnn.bias_ih_l0:36 rnn.bias_hh_l0:36", "the file's layers have biases, the model's have none (Bias = false)" },
        { "square_bidirectional_gru", "head.weight:3,8 head.bias:3", "the file has a head (OutputSize 3), the model has none (OutputSize = 0)" },
        { "lstm_basic", "rnn.cell_state_l0:5", "no recurrent layer has a tensor of that name" },
    };

    private static IRecurrentModel Create(string name) =>
        name == "square_bidirectional_gru" ? new SquareBidirectionalGru() : TestModels.Create(name);

    [Theory]
    [MemberData(nameof(TensorsOfABiggerModel))]
    public void Strict_load_refuses_tensors_under_the_models_modules_that_it_lacks(string modelName, string extras, string reason)
    {
        IRecurrentModel source = Create(modelName);
        source.InitializeParameters(seed: 10);
        SafetensorsWriter writer = StateDict(source);
        string[] names = [.. extras.Split(' ').Select(e => e.Split(':')[0])];
        foreach (string extra in extras.Split(' '))
        {
            long[] shape = [.. extra.Split(':')[1].Split(',').Select(long.Parse)];
            writer.Add(extra.Split(':')[0], shape, new float[shape.Aggregate(1L, (a, b) => a * b)]);
        }
        byte[] file = Bytes(writer);

        SafetensorsException e = LoadFails(Create(modelName), file, new LoadOptions());
        AssertMessageContains(e, [reason, .. names.Select(n => $"'{n}'")]);

        // Not strict: the model's tensors load and the others are reported, as load_state_dict(strict=False) does.
        IRecurrentModel lenient = Create(modelName);
        LoadResult result = lenient.LoadSafetensors(new MemoryStream(file), strict: false);
        Assert.Equal(names, result.UnexpectedKeys);
        Assert.Empty(result.MissingKeys);
        TestHelpers.AssertBitEqual(source.Parameters, lenient.Parameters, "parameters");
    }

    // ---- 3. Messages that say what the file holds ----

    [Fact]
    public void A_gru_file_in_an_lstm_says_it_is_a_gru()
    {
        byte[] file = Bytes(StateDictOf(new ModelGeometry(CellKind.Gru, 8, 32, 2, true, false, 0, 4)));
        SafetensorsException e = LoadFails(new LstmStacked(), file, new LoadOptions());
        AssertMessageContains(e,
            "Tensor 'rnn.weight_hh_l0' has shape [96, 32], expected [128, 32] (LSTM: 4 gates × HiddenSize 32 by HiddenSize 32)",
            "its shape is that of a GRU (3 gates × HiddenSize 32)",
            "Tensor 'rnn.weight_ih_l0' has shape [96, 8], expected [128, 8] (LSTM: 4 gates × HiddenSize 32 by InputSize 8)",
            "In the file, its 96 rows are 3 gates × HiddenSize 32 (GRU).",
            "The file's tensors look like [GruModel(InputSize = 8, HiddenSize = 32, NumLayers = 2, OutputSize = 4)]; " +
            "the model is [LstmModel(InputSize = 8, HiddenSize = 32, NumLayers = 2, OutputSize = 4)].");
        // Also without strict: a loaded tensor must have the model's shape (PyTorch's size mismatch).
        AssertMessageContains(LoadFails(new LstmStacked(), file, new LoadOptions { Strict = false }), "[96, 32]", "a GRU");

        // A tensor alone does not tell the cell: every reading of its rows is listed.
        byte[] lone = Bytes(new SafetensorsWriter().Add("rnn.bias_ih_l0", [96], new float[96]));
        AssertMessageContains(LoadFails(new LstmStacked(), lone, new LoadOptions { Strict = false }),
            "Tensor 'rnn.bias_ih_l0' has shape [96], expected [128] (LSTM: 4 gates × HiddenSize 32). " +
            "In the file, its 96 rows are 4 gates × HiddenSize 24 (LSTM), 3 gates × HiddenSize 32 (GRU) or HiddenSize 96 (RNN).");
    }

    [Fact]
    public void Other_sizes_are_named_by_the_argument_that_differs()
    {
        // LstmBasic is I = 3, H = 5, O = 2; the file's model is I = 4, H = 5, O = 6, bidirectional.
        byte[] file = Bytes(StateDictOf(new ModelGeometry(CellKind.Lstm, 4, 5, 1, true, true, 0, 6)));
        SafetensorsException e = LoadFails(new LstmBasic(), file, new LoadOptions());
        AssertMessageContains(e,
            "Tensor 'rnn.weight_ih_l0' has shape [20, 4], expected [20, 3]", "its 4 columns are InputSize 4, where the model has 3",
            "Tensor 'head.weight' has shape [6, 10], expected [2, 5]", "its 6 rows are OutputSize 6, where the model has 2",
            "its 10 columns are the features of the file's top layer (D × Hout), where the model has 5",
            "the file's layers are bidirectional",
            "look like [LstmModel(InputSize = 4, HiddenSize = 5, Bidirectional = true, OutputSize = 6)]");
    }

    [Fact]
    public void An_upper_layer_says_why_the_layer_below_has_other_features()
    {
        // LstmStacked's layer 1 reads the 32 features of layer 0; a bidirectional file's reads 2 × 32.
        byte[] bidirectional = Bytes(StateDictOf(new ModelGeometry(CellKind.Lstm, 8, 32, 2, true, true, 0, 4)));
        AssertMessageContains(LoadFails(new LstmStacked(), bidirectional, new LoadOptions()),
            "Tensor 'rnn.weight_ih_l1' has shape [128, 64], expected [128, 32] (LSTM: 4 gates × HiddenSize 32 by the 32 features of layer 0)",
            "its 64 columns are the features of layer 0, 2 × 32: the file's layers are bidirectional",
            "'rnn.weight_ih_l0_reverse'");

        // LstmProjection's layer 1 reads ProjSize 6 features; a file without projection gives it HiddenSize 12.
        byte[] unprojected = Bytes(StateDictOf(new ModelGeometry(CellKind.Lstm, 5, 12, 2, true, false, 0, 3)));
        SafetensorsException e = LoadFails(new LstmProjection(), unprojected, new LoadOptions());
        AssertMessageContains(e,
            "Tensor 'rnn.weight_ih_l1' has shape [48, 12], expected [48, 6] (LSTM: 4 gates × HiddenSize 12 by the 6 features of layer 0)",
            "its 12 columns are the features of layer 0, 1 × 12: the file's layers have no projection",
            "Tensor 'rnn.weight_hr_l0' [6, 12] is missing from the file",
            "look like [LstmModel(InputSize = 5, HiddenSize = 12, NumLayers = 2, OutputSize = 3)]");
        Assert.DoesNotContain("bidirectional", e.Message, StringComparison.Ordinal);

        // Without the file's configuration (one tensor), only the count is stated.
        byte[] lone = Bytes(new SafetensorsWriter().Add("rnn.weight_ih_l1", [128, 64], new float[128 * 64]));
        AssertMessageContains(LoadFails(new LstmStacked(), lone, new LoadOptions { Strict = false }),
            "its 64 columns are the features of layer 0, D × Hout = 64, where the model has 32");
    }

    [Fact]
    public void Missing_keys_suggest_the_closest_file_keys_and_the_prefix_rename()
    {
        byte[] file = Bytes(StateDict(Seeded<LstmBasic>(12), LstmFcName));
        SafetensorsException e = LoadFails(new LstmBasic(), file, new LoadOptions());
        AssertMessageContains(e,
            "Tensor 'rnn.weight_ih_l0' [20, 3] is missing from the file; did you mean 'lstm.weight_ih_l0'?",
            "Tensor 'head.bias' [2] is missing from the file; did you mean 'fc.bias'?",
            "map 'lstm.' to 'rnn.' and 'fc.' to 'head.', with new LoadOptions { Rename = { [\"lstm.\"] = \"rnn.\", [\"fc.\"] = \"head.\" } }");
        Assert.DoesNotContain("strict: false", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_key_is_found_by_edit_distance()
    {
        LstmBasic source = Seeded<LstmBasic>(13);
        byte[] file = Bytes(StateDict(source, name => name == "rnn.weight_hh_l0" ? "rnn.weights_hh_l0" : name));
        SafetensorsException e = LoadFails(new LstmBasic(), file, new LoadOptions());
        AssertMessageContains(e, "Tensor 'rnn.weight_hh_l0' [20, 5] is missing from the file; did you mean 'rnn.weights_hh_l0'?");
        Assert.DoesNotContain("Rename", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, StateDictLoader.EditDistance("abc", "abc", 3));
        Assert.Equal(4, StateDictLoader.EditDistance("rnn.weight_ih_l0", "lstm.weight_ih_l0", 5));
        Assert.Equal(3, StateDictLoader.EditDistance("kitten", "sitting", 5));
        Assert.True(StateDictLoader.EditDistance("aaaaaaaa", "bbbbbbbb", 2) > 2);
    }

    [Fact]
    public void A_half_precision_tensor_says_how_to_convert_it()
    {
        LstmBasic source = Seeded<LstmBasic>(14);
        var writer = new SafetensorsWriter();
        foreach (ParameterInfo info in LstmBasic.ParameterTable) writer.Add(info.Name, ShapeOf(info), source.GetParameter(info.Name));
        byte[] file = Bytes(writer);
        // Rewrite head.bias's dtype: F32 [2] is 8 bytes, F16 [4] is too.
        string header = System.Text.Encoding.UTF8.GetString(file, 8, (int)HeaderBytes(file) - 8);
        string changed = header.Replace("\"head.bias\":{\"dtype\":\"F32\",\"shape\":[2]", "\"head.bias\":{\"dtype\":\"F16\",\"shape\":[4]", StringComparison.Ordinal);
        Assert.NotEqual(header, changed);
        byte[] f16 = [.. file[..8], .. System.Text.Encoding.UTF8.GetBytes(changed), .. file[(int)HeaderBytes(file)..]];
        AssertMessageContains(LoadFails(new LstmBasic(), f16, new LoadOptions()), "'head.bias' has dtype F16, expected F32", ".float()");
    }

    // ---- 4. The configuration in __metadata__ ----

    [Fact]
    public void Saving_writes_the_configuration_as_pytorch_style_metadata()
    {
        SafetensorsFile lstm = SafetensorsFile.Parse(Save(new LstmProjection()));
        Assert.Equal(new Dictionary<string, string>
        {
            ["modelgen.format"] = "1", ["modelgen.cell"] = "lstm", ["modelgen.input_size"] = "5", ["modelgen.hidden_size"] = "12",
            ["modelgen.num_layers"] = "2", ["modelgen.bias"] = "true", ["modelgen.bidirectional"] = "false",
            ["modelgen.proj_size"] = "6", ["modelgen.nonlinearity"] = "tanh", ["modelgen.output_size"] = "3",
        }.OrderBy(p => p.Key, StringComparer.Ordinal), lstm.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));

        SafetensorsFile rnn = SafetensorsFile.Parse(Save(new RnnRelu()));
        Assert.Equal("rnn", rnn.Metadata["modelgen.cell"]);
        Assert.Equal("relu", rnn.Metadata["modelgen.nonlinearity"]);
        SafetensorsFile gru = SafetensorsFile.Parse(Save(new GruStackedBidirectional()));
        Assert.Equal(("gru", "true", "0"), (gru.Metadata["modelgen.cell"], gru.Metadata["modelgen.bidirectional"], gru.Metadata["modelgen.proj_size"]));
        Assert.Equal("false", SafetensorsFile.Parse(Save(new LstmNoBias())).Metadata["modelgen.bias"]);
    }

    /// <summary>RnnRelu's and RnnTanhShapedLikeRnnRelu's tensors have the same names and shapes: only the metadata tells them apart.</summary>
    [Fact]
    public void A_file_saved_from_another_configuration_fails_naming_both_before_any_data_is_read()
    {
        byte[] file = Save(Seeded<RnnRelu>(15));
        foreach (bool strict in new[] { true, false })
        {
            var stream = new TestStream(file, seekable: false);
            var model = new RnnTanhShapedLikeRnnRelu();
            SafetensorsException e = Assert.Throws<SafetensorsException>(() => model.LoadSafetensors(stream, strict));
            AssertMessageContains(e,
                "[RnnModel(InputSize = 5, HiddenSize = 7, Nonlinearity = RnnNonlinearity.Relu, OutputSize = 1)]",
                "this model is [RnnModel(InputSize = 5, HiddenSize = 7, OutputSize = 1)]",
                "nonlinearity relu in the file, tanh in the model", "Nothing was read");
            Assert.Equal(HeaderBytes(file), stream.BytesRead);
            Assert.All(model.Parameters.ToArray(), value => Assert.Equal(0f, value));
        }
    }

    [Fact]
    public void A_file_saved_from_other_sizes_fails_strictly_and_loads_what_fits_without_strict()
    {
        LstmBasic source = Seeded<LstmBasic>(16);
        byte[] file = Save(source);
        SafetensorsException e = LoadFails(new LstmBasicOtherHead(), file, new LoadOptions());
        AssertMessageContains(e,
            "saved from another model: [LstmModel(InputSize = 3, HiddenSize = 5, OutputSize = 2)]",
            "this model is [LstmModel(InputSize = 3, HiddenSize = 5, OutputSize = 7)]", "output_size 2 in the file, 7 in the model",
            "new LoadOptions { Strict = false }");

        // Transfer: the recurrent layer loads, the file's head is skipped, the model's head is missing.
        LstmBasicOtherHead model = Seeded<LstmBasicOtherHead>(17);
        float[] head = [.. model.HeadWeight, .. model.HeadBias];
        LoadResult result = model.LoadSafetensors(new MemoryStream(file), new LoadOptions { Strict = false, Rename = { ["head."] = null } });
        Assert.Equal(["head.weight", "head.bias"], result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        TestHelpers.AssertBitEqual(source.WeightIhL0, model.WeightIhL0, "transferred layer");
        TestHelpers.AssertBitEqual(head, [.. model.HeadWeight, .. model.HeadBias], "the model's own head");

        // Without the skip, the file's head does not fit: its shape is named, with the file's configuration.
        AssertMessageContains(LoadFails(new LstmBasicOtherHead(), file, new LoadOptions { Strict = false }),
            "'head.weight' has shape [2, 5], expected [7, 5]", "saved from [LstmModel(InputSize = 3, HiddenSize = 5, OutputSize = 2)] (its __metadata__)");
    }

    [Fact]
    public void A_file_without_modelgen_metadata_loads_as_before()
    {
        // PyTorch's reference files have metadata of their own (cell, hidden_size, … without the prefix), but no modelgen.format.
        string path = Path.Combine(AppContext.BaseDirectory, "reference", "rnn_relu.safetensors");
        Assert.False(SafetensorsFile.Read(path).Metadata.ContainsKey("modelgen.format"));
        Assert.Empty(new RnnRelu().LoadSafetensors(path).MissingKeys);
        // And a state_dict without metadata loads into a model of any non-linearity: the tensors cannot tell.
        Assert.True(new RnnTanhShapedLikeRnnRelu().LoadSafetensors(new MemoryStream(Bytes(StateDict(Seeded<RnnRelu>(18))))).AllKeysMatched);
    }

    [Theory]
    [InlineData("modelgen.format", "2", "reads format 1 only")]
    [InlineData("modelgen.hidden_size", null, "'modelgen.hidden_size' is missing")]
    [InlineData("modelgen.hidden_size", "-5", "'modelgen.hidden_size' = '-5' is not a non-negative integer")]
    [InlineData("modelgen.bias", "yes", "'modelgen.bias' = 'yes' is not true or false")]
    [InlineData("modelgen.cell", "transformer", "is not lstm, gru or rnn")]
    public void Unknown_or_malformed_modelgen_metadata_is_refused(string key, string? value, string message)
    {
        var source = new LstmBasic();
        var writer = new SafetensorsWriter();
        foreach ((string k, string v) in SafetensorsFile.Parse(Save(source)).Metadata)
        {
            if (k != key) writer.AddMetadata(k, v);
        }
        if (value is not null) writer.AddMetadata(key, value);
        foreach (ParameterInfo info in LstmBasic.ParameterTable) writer.Add(info.Name, ShapeOf(info), source.GetParameter(info.Name));
        byte[] file = Bytes(writer);
        AssertMessageContains(LoadFails(new LstmBasic(), file, new LoadOptions()), message);
        AssertMessageContains(LoadFails(new LstmBasic(), file, new LoadOptions { Strict = false }), message);
    }

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public void Every_model_reloads_its_own_file_with_all_keys_matched(string name)
    {
        IRecurrentModel source = TestModels.Create(name);
        source.InitializeParameters(seed: 19);
        IRecurrentModel copy = TestModels.Create(name);
        Assert.True(copy.LoadSafetensors(new MemoryStream(Save(source))).AllKeysMatched);
        TestHelpers.AssertBitEqual(source.Parameters, copy.Parameters, name);
    }
}
