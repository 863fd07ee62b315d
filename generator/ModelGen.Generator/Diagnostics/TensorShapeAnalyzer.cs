using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Diagnostics;

/// <summary>
/// Checks calls to any method whose span parameters carry <c>ModelGen.TensorShapeAttribute</c> (every generated
/// model method): a buffer whose length is a compile-time constant and cannot have the parameter's shape, given
/// the constant batch size and the other constant-length buffers of the call, is an error (MG0017); so is a
/// constant batch size below 1 (MG0018). Shapes come from the attributes, not from method names, so every
/// generated method is checked, including new ones.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TensorShapeAnalyzer : DiagnosticAnalyzer
{
    public const string TensorShapeAttribute = "ModelGen.TensorShapeAttribute";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        [DiagnosticDescriptors.ShapeMismatch, DiagnosticDescriptors.InvalidBatchSize];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            // Resolved once per compilation; without the ModelGen runtime there is nothing to check.
            INamedTypeSymbol? attribute = start.Compilation.GetTypeByMetadataName(TensorShapeAttribute);
            if (attribute is null) return;
            var checker = new CallSiteChecker(attribute, new ConstantLengths(start.Compilation));
            start.RegisterOperationAction(checker.Analyze, OperationKind.Invocation);
        });
    }

    private sealed class ShapedParameter(int ordinal, string name, string shape, ShapeDimension[] dimensions, int batchOrdinal, bool allowEmpty,
        string units)
    {
        /// <summary>What the span holds, plural: <c>floats</c> or <c>ints</c> (token ids, lengths).</summary>
        public string Units { get; } = units;

        public int Ordinal { get; } = ordinal;
        public string Name { get; } = name;
        public string Shape { get; } = shape;
        public ShapeDimension[] Dimensions { get; } = dimensions;
        public int BatchOrdinal { get; } = batchOrdinal;
        public bool AllowEmpty { get; } = allowEmpty;
    }

    private sealed class CallSiteChecker(INamedTypeSymbol attribute, ConstantLengths lengths)
    {
        private const string Batch = "B";
        private static readonly ShapedParameter[] None = [];
        private readonly ConcurrentDictionary<IMethodSymbol, ShapedParameter[]> _methods = new(SymbolEqualityComparer.Default);

        public void Analyze(OperationAnalysisContext context)
        {
            var invocation = (IInvocationOperation)context.Operation;
            IMethodSymbol method = invocation.TargetMethod;
            if (method.Parameters.Length == 0) return;
            ShapedParameter[] shaped = _methods.GetOrAdd(method.OriginalDefinition, Read);
            if (shaped.Length == 0) return;

            var arguments = new IArgumentOperation?[method.Parameters.Length];
            foreach (IArgumentOperation argument in invocation.Arguments)
            {
                if (argument.Parameter is { } parameter && parameter.Ordinal < arguments.Length) arguments[parameter.Ordinal] = argument;
            }
            string methodName = method.ContainingType.Name + "." + method.Name;

            var known = new Dictionary<string, long>();
            // Which argument each symbol's value came from, to say so in the message.
            var sources = new Dictionary<string, string>();
            foreach (int batchOrdinal in shaped.Select(p => p.BatchOrdinal).Where(o => o >= 0).Distinct())
            {
                IArgumentOperation? argument = arguments[batchOrdinal];
                if (argument?.Value.ConstantValue is not { HasValue: true, Value: int batch }) continue;
                if (batch < 1)
                {
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidBatchSize, LocationOf(argument),
                        method.Parameters[batchOrdinal].Name, methodName, batch.ToString(CultureInfo.InvariantCulture)));
                    return;
                }
                known[Batch] = batch;
                sources[Batch] = method.Parameters[batchOrdinal].Name;
            }

            // Products of symbols that are known together but not one by one, e.g. B*T when B is not constant.
            var products = new Dictionary<string, long>();
            var productSources = new Dictionary<string, string>();
            foreach (ShapedParameter parameter in shaped)
            {
                IArgumentOperation? argument = arguments[parameter.Ordinal];
                if (argument is null || argument.ArgumentKind == ArgumentKind.DefaultValue) continue;
                if (lengths.Of(argument.Value) is not long length) continue;
                if (length == 0 && parameter.AllowEmpty) continue;

                long fixedPart = 1;
                var unknown = new List<string>();
                var used = new List<string>();
                foreach (ShapeDimension dimension in parameter.Dimensions)
                {
                    if (dimension.Symbol is null) fixedPart *= dimension.Size;
                    else if (known.TryGetValue(dimension.Symbol, out long value))
                    {
                        fixedPart *= value;
                        if (!used.Contains(dimension.Symbol)) used.Add(dimension.Symbol);
                    }
                    else unknown.Add(dimension.Symbol);
                }
                string substituted = ShapeNotation.Substitute(parameter.Dimensions, known);
                string? need = null;
                if (unknown.Count == 0)
                {
                    if (length != fixedPart) need = $"{substituted} = {Lit(fixedPart)} {parameter.Units}";
                }
                else
                {
                    unknown.Sort(System.StringComparer.Ordinal);
                    string key = string.Join("*", unknown);
                    if (products.TryGetValue(key, out long product))
                    {
                        if (length != fixedPart * product)
                        {
                            need = $"{substituted} = {Lit(fixedPart * product)} {parameter.Units}";
                            used.Add(key);
                        }
                    }
                    else if (fixedPart <= 0 || length == 0 || length % fixedPart != 0)
                    {
                        need = $"{substituted}: a non-zero multiple of {Lit(fixedPart)} {parameter.Units}";
                    }
                    else if (unknown.Count == 1)
                    {
                        known[unknown[0]] = length / fixedPart;
                        sources[unknown[0]] = parameter.Name;
                    }
                    else
                    {
                        products[key] = length / fixedPart;
                        productSources[key] = parameter.Name;
                    }
                }
                if (need is null) continue;
                // Say where the values of the symbols came from: "with B = 2 from 'batchSize'".
                var origins = used.Select(symbol => known.TryGetValue(symbol, out long value)
                    ? $"{symbol} = {Lit(value)} from '{sources[symbol]}'"
                    : $"{symbol} = {Lit(products[symbol])} from '{productSources[symbol]}'").ToList();
                // "B = 2 from 'batchSize'", "… and T = 5 from 'tokens'", "…, Tt = 5 from 'target' and Ts = 6 from 'source'".
                if (origins.Count > 0)
                {
                    need += " with " + (origins.Count == 1 ? origins[0]
                        : string.Join(", ", origins.Take(origins.Count - 1)) + " and " + origins[origins.Count - 1]);
                }
                if (parameter.AllowEmpty) need += ", or an empty span";
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ShapeMismatch, LocationOf(argument),
                    parameter.Name, methodName, Lit(length), parameter.Shape, need, parameter.Units));
            }
        }

        /// <summary>The shaped parameters of a method, in declaration order.</summary>
        private ShapedParameter[] Read(IMethodSymbol method)
        {
            List<ShapedParameter>? shaped = null;
            foreach (IParameterSymbol parameter in method.Parameters)
            {
                foreach (AttributeData data in parameter.GetAttributes())
                {
                    if (!SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute)) continue;
                    if (data.ConstructorArguments.Length != 1 || data.ConstructorArguments[0].Value is not string shape) continue;
                    if (ShapeNotation.Parse(shape) is not { } dimensions) continue;
                    int batchOrdinal = -1;
                    bool allowEmpty = false;
                    foreach (KeyValuePair<string, TypedConstant> named in data.NamedArguments)
                    {
                        if (named.Key == "BatchParameter" && named.Value.Value is string batchName)
                        {
                            batchOrdinal = method.Parameters.FirstOrDefault(p => p.Name == batchName
                                && p.Type.SpecialType == SpecialType.System_Int32)?.Ordinal ?? -1;
                        }
                        else if (named.Key == "AllowEmpty" && named.Value.Value is bool empty)
                        {
                            allowEmpty = empty;
                        }
                    }
                    string units = parameter.Type is INamedTypeSymbol { TypeArguments: [{ SpecialType: SpecialType.System_Int32 }] } ? "ints" : "floats";
                    (shaped ??= []).Add(new ShapedParameter(parameter.Ordinal, parameter.Name, shape, dimensions, batchOrdinal, allowEmpty, units));
                }
            }
            return shaped?.ToArray() ?? None;
        }

        private static Location LocationOf(IArgumentOperation argument) =>
            argument.Syntax is ArgumentSyntax syntax ? syntax.Expression.GetLocation() : argument.Value.Syntax.GetLocation();

        private static string Lit(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
