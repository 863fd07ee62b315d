namespace ModelGen.Generator.Emit;

/// <summary>
/// The members that every model over a <c>ModelBuffers</c> field <c>_buffers</c> has, graph or encoder–decoder
/// alike: access to the parameter and gradient buffers, and loading and saving them as safetensors.
/// </summary>
internal static class BufferMembers
{
    private const string Rt = "global::ModelGen.";

    /// <summary><c>Parameters</c>, <c>Gradients</c>, <c>EditParameters</c>, <c>MarkParametersChanged</c>, <c>ZeroGradients</c>.</summary>
    public static void WriteParameterAccess(CodeWriter w) =>
        w.Line("/// <summary>All parameters, laid out as <see cref=\"ParameterTable\"/> says; reading them changes nothing.</summary>")
         .Line("public global::System.ReadOnlySpan<float> Parameters => _buffers.Parameters;")
         .Line()
         .Line("/// <summary>The gradient buffer, laid out like <see cref=\"Parameters\"/>; <c>Backward</c> adds to it.</summary>")
         .Line("public global::System.Span<float> Gradients => _buffers.Gradients;")
         .Line()
         .Line($"/// <inheritdoc cref=\"{Rt}ModelBuffers.EditParameters\"/>")
         .Line("public global::System.Span<float> EditParameters() => _buffers.EditParameters();")
         .Line()
         .Line($"/// <inheritdoc cref=\"{Rt}ModelBuffers.MarkParametersChanged\"/>")
         .Line("public void MarkParametersChanged() => _buffers.MarkParametersChanged();")
         .Line()
         .Line("/// <summary>Sets every gradient to zero.</summary>")
         .Line("public void ZeroGradients() => _buffers.Gradients.Clear();")
         .Line()
         .Line($"int {Rt}ITrainableModel.ParameterCount => ParameterCount;")
         .Line();

    /// <summary>The two <c>LoadSafetensors</c> and two <c>SaveSafetensors</c>, saving <paramref name="format"/> and the model's name in the metadata.</summary>
    public static void WriteSafetensors(CodeWriter w, string format, string fullName) =>
        w.Line("/// <summary>Loads a PyTorch <c>state_dict</c> saved as safetensors, matched by name; see <see cref=\"global::ModelGen.ModelBuffers.Load\"/>.</summary>")
         .Open($"public {Rt}LoadResult LoadSafetensors(string path, {Rt}LoadOptions? options = null)")
         .Line("using global::System.IO.FileStream stream = global::System.IO.File.OpenRead(path);")
         .Line("return LoadSafetensors(stream, options);")
         .Close().Line()
         .Line("/// <summary>Loads a PyTorch <c>state_dict</c> saved as safetensors, matched by name; see <see cref=\"global::ModelGen.ModelBuffers.Load\"/>.</summary>")
         .Line($"public {Rt}LoadResult LoadSafetensors(global::System.IO.Stream stream, {Rt}LoadOptions? options = null) =>")
         .Line($"    _buffers.Load(stream, options ?? new {Rt}LoadOptions());")
         .Line()
         .Line("/// <summary>Saves every parameter under its <c>state_dict</c> name, as PyTorch's <c>save_file(model.state_dict())</c> would.</summary>")
         .Open("public void SaveSafetensors(string path)")
         .Line("using global::System.IO.FileStream stream = global::System.IO.File.Create(path);")
         .Line("SaveSafetensors(stream);")
         .Close().Line()
         .Line("/// <summary>Saves every parameter under its <c>state_dict</c> name.</summary>")
         .Line("public void SaveSafetensors(global::System.IO.Stream stream) =>")
         .Line($"    _buffers.Save(stream, [new(\"modelgen.format\", \"{format}\"), new(\"modelgen.model\", \"{fullName}\")]);")
         .Line();
}
