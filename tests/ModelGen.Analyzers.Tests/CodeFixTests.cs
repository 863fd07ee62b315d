using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using ModelGen.CodeFixes;
using ModelGen.Generator.Diagnostics;

namespace ModelGen.Analyzers.Tests;

/// <summary>Each code fix before and after, its fix-all where several diagnostics share a document, and where it is not offered.</summary>
public class CodeFixTests
{
    private static Task Fix<TFix>(string source, string fixedSource, params DiagnosticResult[] expected)
        where TFix : Microsoft.CodeAnalysis.CodeFixes.CodeFixProvider, new() =>
        new CodeFixTest<ModelDeclarationAnalyzer, TFix>(source, fixedSource, expected).RunAsync();

    private static DiagnosticResult Expect(DiagnosticDescriptor descriptor, int location, params object[] arguments) =>
        new DiagnosticResult(descriptor).WithLocation(location).WithArguments(arguments);

    // ---- MG0007 / MG0010: make partial ----

    [Fact]
    public Task Make_partial_adds_the_modifier_after_the_others() => Fix<MakePartialCodeFixProvider>(
        """
        namespace Demo;

        /// <summary>Doc.</summary>
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]
        public sealed class {|#0:M|}
        {
        }
        """,
        """
        namespace Demo;

        /// <summary>Doc.</summary>
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]
        public sealed partial class M
        {
        }
        """,
        Expect(DiagnosticDescriptors.TypeNotPartial, 0, "M"));

    [Fact]
    public Task Make_partial_on_a_type_without_modifiers_keeps_its_indentation() => Fix<MakePartialCodeFixProvider>(
        """
        namespace Demo
        {
            [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)]
            class {|#0:M|} { }
        }
        """,
        """
        namespace Demo
        {
            [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)]
            partial class M { }
        }
        """,
        Expect(DiagnosticDescriptors.TypeNotPartial, 0, "M"));

    [Fact]
    public Task Make_partial_fixes_a_containing_type() => Fix<MakePartialCodeFixProvider>(
        """
        public partial class Outer
        {
            internal class {|#0:Middle|}
            {
                [ModelGen.RnnModel(InputSize = 2, HiddenSize = 3)]
                private partial class M;
            }
        }
        """,
        """
        public partial class Outer
        {
            internal partial class Middle
            {
                [ModelGen.RnnModel(InputSize = 2, HiddenSize = 3)]
                private partial class M;
            }
        }
        """,
        Expect(DiagnosticDescriptors.ContainingTypeNotPartial, 0, "Middle", "M"));

    [Fact]
    public Task Make_partial_fix_all_fixes_every_type_and_container_in_the_document() => Fix<MakePartialCodeFixProvider>(
        """
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public class {|#0:A|};
        [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] internal class {|#1:B|};
        public class {|#2:Outer|} { [ModelGen.RnnModel(InputSize = 2, HiddenSize = 3)] public class {|#3:C|}; }
        """,
        """
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class A;
        [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] internal partial class B;
        public partial class Outer { [ModelGen.RnnModel(InputSize = 2, HiddenSize = 3)] public partial class C; }
        """,
        Expect(DiagnosticDescriptors.TypeNotPartial, 0, "A"),
        Expect(DiagnosticDescriptors.TypeNotPartial, 1, "B"),
        Expect(DiagnosticDescriptors.ContainingTypeNotPartial, 2, "Outer", "C"),
        Expect(DiagnosticDescriptors.TypeNotPartial, 3, "C"));

    // ---- MG0008: remove static ----

    [Fact]
    public Task Remove_static_keeps_the_other_modifiers() => Fix<RemoveStaticCodeFixProvider>(
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]\npublic static partial class {|#0:M|} { }",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]\npublic partial class M { }",
        Expect(DiagnosticDescriptors.TypeStatic, 0, "M"));

    [Fact]
    public Task Remove_static_as_first_modifier_keeps_the_leading_trivia() => Fix<RemoveStaticCodeFixProvider>(
        "namespace Demo\n{\n    // A comment.\n    [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]\n    static partial class {|#0:M|} { }\n}",
        "namespace Demo\n{\n    // A comment.\n    [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]\n    partial class M { }\n}",
        Expect(DiagnosticDescriptors.TypeStatic, 0, "M"));

    [Fact]
    public Task Remove_static_fix_all_fixes_every_model() => Fix<RemoveStaticCodeFixProvider>(
        """
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public static partial class {|#0:A|};
        [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] internal static partial class {|#1:B|};
        """,
        """
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class A;
        [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] internal partial class B;
        """,
        Expect(DiagnosticDescriptors.TypeStatic, 0, "A"),
        Expect(DiagnosticDescriptors.TypeStatic, 1, "B"));

    [Fact]
    public Task Remove_static_is_not_offered_when_the_type_declares_extension_methods() => Fix<RemoveStaticCodeFixProvider>(
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]\npublic static partial class {|#0:M|} { public static int Twice(this int x) => 2 * x; }",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]\npublic static partial class {|#0:M|} { public static int Twice(this int x) => 2 * x; }",
        Expect(DiagnosticDescriptors.TypeStatic, 0, "M"));

    // ---- MG0003: impossible ProjSize ----

    [Fact]
    public Task Impossible_proj_size_is_removed() => Fix<RemoveAttributeArgumentCodeFixProvider>(
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, {|#0:ProjSize = 3|}, OutputSize = 1)] public partial class M;",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, OutputSize = 1)] public partial class M;",
        Expect(DiagnosticDescriptors.ProjSizeOutOfRange, 0, "3", "2"));

    [Fact]
    public Task Impossible_proj_size_written_first_is_removed_with_its_comma() => Fix<RemoveAttributeArgumentCodeFixProvider>(
        "[ModelGen.LstmModel({|#0:ProjSize = -1|}, InputSize = 2, HiddenSize = 3)] public partial class M;",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M;",
        Expect(DiagnosticDescriptors.ProjSizeOutOfRange, 0, "-1", "2"));

    [Fact]
    public Task Impossible_proj_size_fix_all_fixes_every_model() => Fix<RemoveAttributeArgumentCodeFixProvider>(
        """
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, {|#0:ProjSize = 3|})] public partial class A;
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 8, {|#1:ProjSize = 9|})] public partial class B;
        """,
        """
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class A;
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 8)] public partial class B;
        """,
        Expect(DiagnosticDescriptors.ProjSizeOutOfRange, 0, "3", "2"),
        Expect(DiagnosticDescriptors.ProjSizeOutOfRange, 1, "9", "7"));

    // ---- MG0004: option of another cell ----

    [Fact]
    public Task Option_of_another_cell_is_removed() => Fix<RemoveAttributeArgumentCodeFixProvider>(
        "[ModelGen.GruModel(InputSize = 2, {|#0:ProjSize = 1|}, HiddenSize = 3)] public partial class M;",
        "[ModelGen.GruModel(InputSize = 2, HiddenSize = 3)] public partial class M;",
        Expect(DiagnosticDescriptors.OptionNotOnCell, 0, "ProjSize", "GruModel", "only an LSTM has a projection (use [LstmModel] or remove it)"));

    [Fact]
    public Task Options_of_another_cell_fix_all_removes_each() => Fix<RemoveAttributeArgumentCodeFixProvider>(
        """
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3, {|#0:Nonlinearity = ModelGen.RnnNonlinearity.Relu|})] public partial class A;
        [ModelGen.RnnModel(InputSize = 2, HiddenSize = 3, {|#1:ProjSize = 2|})] public partial class B;
        """,
        """
        [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class A;
        [ModelGen.RnnModel(InputSize = 2, HiddenSize = 3)] public partial class B;
        """,
        Expect(DiagnosticDescriptors.OptionNotOnCell, 0, "Nonlinearity", "LstmModel", "only an Elman RNN has a choice of non-linearity (use [RnnModel] or remove it)"),
        Expect(DiagnosticDescriptors.OptionNotOnCell, 1, "ProjSize", "RnnModel", "only an LSTM has a projection (use [LstmModel] or remove it)"));

    // ---- MG0011: duplicate model attribute ----

    [Fact]
    public Task Duplicate_attribute_in_its_own_list_is_removed_with_its_line() => Fix<RemoveDuplicateModelAttributeCodeFixProvider>(
        """
        namespace Demo
        {
            /// <summary>Doc.</summary>
            [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]
            [{|#0:ModelGen.GruModel(InputSize = 2, HiddenSize = 3)|}]
            public partial class M { }
        }
        """,
        """
        namespace Demo
        {
            /// <summary>Doc.</summary>
            [ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)]
            public partial class M { }
        }
        """,
        Expect(DiagnosticDescriptors.DuplicateModelAttribute, 0, "M", "LstmModel", "GruModel"));

    [Fact]
    public Task Duplicate_attribute_sharing_a_list_is_removed_with_its_comma() => Fix<RemoveDuplicateModelAttributeCodeFixProvider>(
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3), {|#0:ModelGen.RnnModel(InputSize = 2, HiddenSize = 3)|}] public partial class M;",
        "[ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)] public partial class M;",
        Expect(DiagnosticDescriptors.DuplicateModelAttribute, 0, "M", "LstmModel", "RnnModel"));

    [Fact]
    public Task Duplicate_attributes_fix_all_keeps_only_the_first() => Fix<RemoveDuplicateModelAttributeCodeFixProvider>(
        """
        /// <summary>Doc.</summary>
        [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)]
        [{|#0:ModelGen.LstmModel(InputSize = 2, HiddenSize = 3)|}, {|#1:ModelGen.RnnModel(InputSize = 2, HiddenSize = 3)|}]
        public partial class M;
        """,
        """
        /// <summary>Doc.</summary>
        [ModelGen.GruModel(InputSize = 2, HiddenSize = 3)]
        public partial class M;
        """,
        Expect(DiagnosticDescriptors.DuplicateModelAttribute, 0, "M", "GruModel", "LstmModel"),
        Expect(DiagnosticDescriptors.DuplicateModelAttribute, 1, "M", "GruModel", "RnnModel"));
}
