using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Testing;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>
/// MG0001–MG0016, each with a case that reports it at its exact place (span and message) and a close case that
/// does not. The generator runs in every test: a valid declaration must compile, an invalid one must leave no
/// compiler error behind but the user's own.
/// </summary>
public class DeclarationDiagnosticTests
{
    private static Task Verify(string source, params DiagnosticResult[] expected) =>
        new AnalyzerTest<ModelDeclarationAnalyzer>("using ModelGen;\n" + source, expected).RunAsync();

    private static DiagnosticResult Expect(DiagnosticDescriptor descriptor, int location, params object[] arguments) =>
        new DiagnosticResult(descriptor).WithLocation(location).WithArguments(arguments);

    // ---- MG0001 required size missing ----

    [Fact]
    public Task MG0001_missing_input_size_is_reported_on_the_attribute_name() => Verify(
        "[{|#0:LstmModel|}(HiddenSize = 3)] public partial class M;",
        Expect(DiagnosticDescriptors.RequiredSizeMissing, 0, "LstmModel", "InputSize", "the number of features per time step, PyTorch's input_size"));

    [Fact]
    public Task MG0001_missing_hidden_size_is_reported_on_the_qualified_attribute_name() => Verify(
        "[{|#0:ModelGen.GruModel|}(InputSize = 2)] public partial class M;",
        Expect(DiagnosticDescriptors.RequiredSizeMissing, 0, "GruModel", "HiddenSize", "the number of features of the hidden state, PyTorch's hidden_size"));

    [Fact]
    public Task MG0001_both_sizes_given_reports_nothing() => Verify(
        "[GruModel(InputSize = 2, HiddenSize = 3)] public partial class M;");

    // ---- MG0002 size out of range ----

    [Theory]
    [InlineData("InputSize = 0", "InputSize", "at least 1", "0")]
    [InlineData("HiddenSize = -4", "HiddenSize", "at least 1", "-4")]
    [InlineData("NumLayers = 0", "NumLayers", "between 1 and 1024", "0")]
    [InlineData("NumLayers = 100000000", "NumLayers", "between 1 and 1024", "100000000")]
    [InlineData("OutputSize = -2", "OutputSize", "0 (no head) or more", "-2")]
    public Task MG0002_size_out_of_range_is_reported_on_the_argument(string argument, string name, string expected, string actual)
    {
        string arguments = string.Join(", ", new[] { "InputSize = 2", "HiddenSize = 3" }
            .Where(a => !a.StartsWith(name, StringComparison.Ordinal)));
        return Verify($"[RnnModel({arguments}, {{|#0:{argument}|}})] public partial class M;",
            Expect(DiagnosticDescriptors.SizeOutOfRange, 0, name, expected, actual));
    }

    [Fact]
    public Task MG0002_smallest_valid_sizes_report_nothing() => Verify(
        "[RnnModel(InputSize = 1, HiddenSize = 1, NumLayers = 1, OutputSize = 0)] public partial class M;");

    [Fact]
    public Task MG0002_a_size_from_a_constant_is_reported_at_its_argument() => Verify(
        "static class Sizes { public const int Hidden = 0; }\n[GruModel(InputSize = 2, {|#0:HiddenSize = Sizes.Hidden|})] public partial class M;",
        Expect(DiagnosticDescriptors.SizeOutOfRange, 0, "HiddenSize", "at least 1", "0"));

    // ---- MG0003 ProjSize ----

    [Theory]
    [InlineData("ProjSize = 3", "3")]
    [InlineData("ProjSize = 7", "7")]
    [InlineData("ProjSize = -1", "-1")]
    public Task MG0003_impossible_proj_size_is_reported_on_the_argument(string argument, string value) => Verify(
        $"[LstmModel(InputSize = 2, HiddenSize = 3, {{|#0:{argument}|}})] public partial class M;",
        Expect(DiagnosticDescriptors.ProjSizeOutOfRange, 0, value, "2"));

    [Theory]
    [InlineData("ProjSize = 0")]
    [InlineData("ProjSize = 2")]
    public Task MG0003_proj_size_below_hidden_size_reports_nothing(string argument) => Verify(
        $"[LstmModel(InputSize = 2, HiddenSize = 3, {argument})] public partial class M;");

    // ---- MG0004 option not on this cell ----

    [Fact]
    public Task MG0004_proj_size_on_a_gru_is_reported_on_the_argument() => Verify(
        "[GruModel(InputSize = 2, HiddenSize = 3, {|#0:ProjSize = 1|})] public partial class M;",
        Expect(DiagnosticDescriptors.OptionNotOnCell, 0, "ProjSize", "GruModel", "only an LSTM has a projection (use [LstmModel] or remove it)"));

    [Fact]
    public Task MG0004_nonlinearity_on_an_lstm_is_reported_on_the_argument() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3, {|#0:Nonlinearity = RnnNonlinearity.Relu|})] public partial class M;",
        Expect(DiagnosticDescriptors.OptionNotOnCell, 0, "Nonlinearity", "LstmModel",
            "only an Elman RNN has a choice of non-linearity (use [RnnModel] or remove it)"));

    /// <summary>
    /// The compiler binds every option on every attribute (the foreign ones are hidden properties), so MG0004 comes
    /// with no CS error beside it (the verifier fails on any compiler error or warning), and the option's value is
    /// not judged: a ProjSize that would be MG0003 on an LSTM, a Nonlinearity that would be MG0005 on an RNN, or
    /// a default value are all MG0004 only.
    /// </summary>
    [Theory]
    [InlineData("GruModel", "ProjSize = 0", "ProjSize")]
    [InlineData("GruModel", "ProjSize = -1", "ProjSize")]
    [InlineData("RnnModel", "ProjSize = 9", "ProjSize")]
    [InlineData("GruModel", "Nonlinearity = RnnNonlinearity.Tanh", "Nonlinearity")]
    [InlineData("LstmModel", "Nonlinearity = (RnnNonlinearity)7", "Nonlinearity")]
    public Task MG0004_is_the_only_diagnostic_of_an_option_of_another_cell(string attribute, string argument, string option) => Verify(
        $"[{attribute}(InputSize = 2, HiddenSize = 3, {{|#0:{argument}|}})] public partial class M;",
        Expect(DiagnosticDescriptors.OptionNotOnCell, 0, option, attribute,
            option == "ProjSize" ? "only an LSTM has a projection (use [LstmModel] or remove it)"
                : "only an Elman RNN has a choice of non-linearity (use [RnnModel] or remove it)"));

    [Fact]
    public Task MG0004_comes_with_the_other_diagnostics_of_the_declaration() => Verify(
        "[GruModel({|#0:InputSize = 0|}, HiddenSize = 3, {|#1:ProjSize = 2|}, {|#2:Nonlinearity = RnnNonlinearity.Relu|})] public class {|#3:M|};",
        Expect(DiagnosticDescriptors.SizeOutOfRange, 0, "InputSize", "at least 1", "0"),
        Expect(DiagnosticDescriptors.OptionNotOnCell, 1, "ProjSize", "GruModel", "only an LSTM has a projection (use [LstmModel] or remove it)"),
        Expect(DiagnosticDescriptors.OptionNotOnCell, 2, "Nonlinearity", "GruModel", "only an Elman RNN has a choice of non-linearity (use [RnnModel] or remove it)"),
        Expect(DiagnosticDescriptors.TypeNotPartial, 3, "M"));

    [Fact]
    public Task MG0004_options_on_their_own_cells_report_nothing() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3, ProjSize = 1)] public partial class L;\n" +
        "[RnnModel(InputSize = 2, HiddenSize = 3, Nonlinearity = RnnNonlinearity.Relu)] public partial class R;");

    [Fact]
    public Task An_argument_the_compiler_cannot_bind_is_left_to_the_compiler() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = {|CS0103:Unknown|})] public partial class M;");

    // ---- MG0005 Nonlinearity value ----

    [Fact]
    public Task MG0005_undefined_nonlinearity_is_reported_on_the_argument() => Verify(
        "[RnnModel(InputSize = 2, HiddenSize = 3, {|#0:Nonlinearity = (RnnNonlinearity)7|})] public partial class M;",
        Expect(DiagnosticDescriptors.InvalidNonlinearity, 0, "(RnnNonlinearity)7"));

    [Fact]
    public Task MG0005_defined_nonlinearity_by_cast_reports_nothing() => Verify(
        "[RnnModel(InputSize = 2, HiddenSize = 3, Nonlinearity = (RnnNonlinearity)1)] public partial class M;");

    // ---- MG0006 layout overflow ----

    [Fact]
    public Task MG0006_parameter_count_beyond_int_is_reported_on_the_largest_size() => Verify(
        "[LstmModel(InputSize = 100000, {|#0:HiddenSize = 100001|})] public partial class M;",
        Expect(DiagnosticDescriptors.LayoutOverflow, 0,
            "its parameters would take 80002000012 floats, more than int.MaxValue = 2147483647"));

    [Fact]
    public Task MG0006_huge_hidden_size_is_reported_on_hidden_size() => Verify(
        "[RnnModel(InputSize = 1, {|#0:HiddenSize = 3000000|}, Bias = false)] public partial class M;",
        Expect(DiagnosticDescriptors.LayoutOverflow, 0,
            "its parameters would take 9000003000000 floats, more than int.MaxValue = 2147483647"));

    [Fact]
    public Task MG0006_wide_input_alone_is_reported_on_input_size() => Verify(
        "[GruModel({|#0:InputSize = 1000000000|}, HiddenSize = 2)] public partial class M;",
        Expect(DiagnosticDescriptors.LayoutOverflow, 0,
            "its parameters would take 6000000024 floats, more than int.MaxValue = 2147483647"));

    [Fact]
    public Task MG0006_large_model_that_fits_reports_nothing() => Verify(
        "[LstmModel(InputSize = 512, HiddenSize = 1024, NumLayers = 4, OutputSize = 1000)] public partial class M;");

    // ---- MG0007 not partial ----

    [Fact]
    public Task MG0007_non_partial_type_is_reported_on_its_identifier() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3)] public class {|#0:M|} { }",
        Expect(DiagnosticDescriptors.TypeNotPartial, 0, "M"));

    [Fact]
    public Task MG0007_partial_record_reports_nothing() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3)] public partial record M(int Tag);");

    // ---- MG0008 static ----

    [Fact]
    public Task MG0008_static_type_is_reported_on_its_identifier() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3)] public static partial class {|#0:M|} { }",
        Expect(DiagnosticDescriptors.TypeStatic, 0, "M"));

    [Fact]
    public Task MG0008_sealed_and_abstract_types_report_nothing() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3)] public sealed partial class S;\n" +
        "[LstmModel(InputSize = 2, HiddenSize = 3)] public abstract partial class A;");

    // ---- MG0009 generic ----

    [Fact]
    public Task MG0009_generic_type_is_reported_on_its_identifier() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3)] public partial class {|#0:M|}<T> { }",
        Expect(DiagnosticDescriptors.TypeGeneric, 0, "M"));

    [Fact]
    public Task MG0009_model_nested_in_a_generic_type_reports_nothing() => Verify(
        "public partial class Outer<T> { [LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M; }");

    // ---- MG0010 containing type not partial ----

    [Fact]
    public Task MG0010_non_partial_containing_type_is_reported_on_its_identifier() => Verify(
        "public partial class Outer { public class {|#0:Middle|} { [LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M; } }",
        Expect(DiagnosticDescriptors.ContainingTypeNotPartial, 0, "Middle", "M"));

    [Fact]
    public Task MG0010_partial_struct_and_record_containers_report_nothing() => Verify(
        "public partial struct S { [LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M; }\n" +
        "public partial record R { [GruModel(InputSize = 2, HiddenSize = 3)] public partial class M; }");

    // ---- MG0011 two model attributes ----

    [Fact]
    public Task MG0011_second_model_attribute_is_reported_on_that_attribute() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3)]\n[{|#0:GruModel(InputSize = 2, HiddenSize = 3)|}]\npublic partial class M;",
        Expect(DiagnosticDescriptors.DuplicateModelAttribute, 0, "M", "LstmModel", "GruModel"));

    [Fact]
    public Task MG0011_model_attributes_on_two_types_report_nothing() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3)] public partial class A;\n[GruModel(InputSize = 2, HiddenSize = 3)] public partial class B;");

    // ---- MG0012 member collision ----

    [Fact]
    public Task MG0012_user_method_with_a_generated_signature_is_reported_on_its_name() => Verify(
        """
        [LstmModel(InputSize = 2, HiddenSize = 3)]
        public partial class M
        {
            public void {|#0:Forward|}(System.ReadOnlySpan<float> x, int b, System.Span<float> y) { }
        }
        """,
        Expect(DiagnosticDescriptors.MemberNameCollision, 0, "Forward", "Forward(ReadOnlySpan<float>, int, Span<float>)", "M"));

    [Fact]
    public Task MG0012_user_property_named_like_a_generated_constant_is_reported() => Verify(
        "[GruModel(InputSize = 2, HiddenSize = 3)] public partial class M { public int {|#0:HiddenSize|} => 3; }",
        Expect(DiagnosticDescriptors.MemberNameCollision, 0, "HiddenSize", "HiddenSize", "M"));

    [Fact]
    public Task MG0012_record_parameter_named_like_a_generated_member_is_reported() => Verify(
        "[GruModel(InputSize = 2, HiddenSize = 3)] public partial record M(int {|#0:Parameters|});",
        Expect(DiagnosticDescriptors.MemberNameCollision, 0, "Parameters", "Parameters", "M"));

    [Fact]
    public Task MG0012_accessor_of_an_existing_layer_is_reported() => Verify(
        "[RnnModel(InputSize = 2, HiddenSize = 3, NumLayers = 2)] public partial class M { public int {|#0:WeightIhL1|}; }",
        Expect(DiagnosticDescriptors.MemberNameCollision, 0, "WeightIhL1", "WeightIhL1", "M"));

    [Fact]
    public Task MG0012_explicit_implementation_of_a_generated_one_is_left_to_the_compiler_at_the_users_declaration() => Verify(
        "[GruModel(InputSize = 2, HiddenSize = 3)] public partial class {|CS8646:M|} : IRecurrentModel { int IRecurrentModel.InputSize => 2; }");

    [Fact]
    public Task MG0012_overloads_and_names_of_absent_members_report_nothing() => Verify(
        """
        [RnnModel(InputSize = 2, HiddenSize = 3, Bidirectional = true)]
        public partial class M
        {
            public void Forward(float[] input) { }          // another overload
            public int WeightIhL1;                          // one layer only
            public int Step;                                // bidirectional: no streaming members
            public int PredictLast;                         // no head
        }
        """);

    // ---- MG0013 inherited member hidden ----

    [Fact]
    public Task MG0013_generated_members_hiding_inherited_ones_are_reported_on_the_base_type() => Verify(
        """
        public class Base { public int InputSize; public void Forward(System.ReadOnlySpan<float> a, int b, System.Span<float> c) { } }
        [LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M : {|#0:Base|};
        """,
        Expect(DiagnosticDescriptors.InheritedMemberHidden, 0, "M", "'Forward', 'InputSize'", "Base"));

    [Fact]
    public Task MG0013_a_model_deriving_from_a_model_is_reported() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3)] public partial class A;\n[GruModel(InputSize = 2, HiddenSize = 3)] public partial class B : {|#0:A|};",
        Expect(DiagnosticDescriptors.InheritedMemberHidden, 0, "B", "the model members", "A"));

    [Fact]
    public Task MG0013_private_and_differently_shaped_inherited_members_report_nothing() => Verify(
        """
        public class Base { private int InputSize = 1; public void Forward(float[] a) { } protected int Unrelated => InputSize; }
        [LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M : Base;
        """);

    // ---- MG0014 type name collision ----

    [Theory]
    [InlineData("ModelSpec")]
    [InlineData("Forward")]
    public Task MG0014_type_named_like_a_generated_member_is_reported(string name) => Verify(
        $"[LstmModel(InputSize = 2, HiddenSize = 3)] public partial class {{|#0:{name}|}};",
        Expect(DiagnosticDescriptors.TypeNameCollision, 0, name));

    [Fact]
    public Task MG0014_type_named_like_a_member_of_another_cell_reports_nothing() => Verify(
        // CellState is generated for an LSTM only (a GRU implements it explicitly).
        "[GruModel(InputSize = 2, HiddenSize = 3)] public partial class CellState;");

    // ---- MG0015 file-local ----

    [Fact]
    public Task MG0015_file_local_model_is_reported_on_its_identifier() => Verify(
        "[LstmModel(InputSize = 2, HiddenSize = 3)] file partial class {|#0:M|};",
        Expect(DiagnosticDescriptors.FileLocalType, 0, "M"));

    [Fact]
    public Task MG0015_model_in_a_file_local_type_is_reported_on_that_type() => Verify(
        "file partial class {|#0:Outer|} { [LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M; }",
        Expect(DiagnosticDescriptors.FileLocalType, 0, "Outer"));

    [Fact]
    public Task MG0015_internal_and_private_models_report_nothing() => Verify(
        "internal partial class Outer { [LstmModel(InputSize = 2, HiddenSize = 3)] private partial class M; }");

    // ---- MG0016 language version ----

    [Fact]
    public Task MG0016_csharp_10_is_reported_on_the_attribute_name() => new AnalyzerTest<ModelDeclarationAnalyzer>(
        "using ModelGen;\n[{|#0:LstmModel|}(InputSize = 2, HiddenSize = 3)] public partial class M { }",
        Expect(DiagnosticDescriptors.LanguageVersionTooLow, 0, "10.0"))
    {
        LanguageVersion = LanguageVersion.CSharp10,
    }.RunAsync();

    [Fact]
    public Task MG0016_csharp_11_reports_nothing() => new AnalyzerTest<ModelDeclarationAnalyzer>(
        "using ModelGen;\n[LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M { }")
    {
        LanguageVersion = LanguageVersion.CSharp11,
    }.RunAsync();

    // ---- Several at once ----

    [Fact]
    public Task Every_problem_of_a_declaration_is_reported_at_its_own_place() => Verify(
        "public class {|#0:Outer|} { [LstmModel({|#1:InputSize = 0|}, HiddenSize = 3, {|#2:ProjSize = 4|})] public static class {|#3:M|} { } }",
        Expect(DiagnosticDescriptors.ContainingTypeNotPartial, 0, "Outer", "M"),
        Expect(DiagnosticDescriptors.SizeOutOfRange, 1, "InputSize", "at least 1", "0"),
        Expect(DiagnosticDescriptors.ProjSizeOutOfRange, 2, "4", "2"),
        Expect(DiagnosticDescriptors.TypeNotPartial, 3, "M"),
        Expect(DiagnosticDescriptors.TypeStatic, 3, "M"));

    [Fact]
    public Task Keyword_and_lowercase_names_generate_code_that_compiles() => Verify(
        """
        namespace @if.@class
        {
            public partial class @record { [LstmModel(InputSize = 2, HiddenSize = 3)] public partial class @event; }
            public partial interface I<out T> { }
            [GruModel(InputSize = 2, HiddenSize = 3)] public partial class {|CS8981:lower|};
        }
        """);
}
