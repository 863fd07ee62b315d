using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using ModelGen.Generator.Parsing;

namespace ModelGen.Generator.Diagnostics;

/// <summary>
/// Finds the length of an array or span expression when it is a compile-time constant: <c>new float[N]</c> and
/// array initialisers, collection expressions, <c>stackalloc</c>, inline arrays, <c>new Span&lt;float&gt;(p, N)</c>
/// over fixed-size buffers, <c>AsSpan</c>, <c>Slice</c> and ranges with constant bounds, <c>default</c> and
/// <c>Span.Empty</c>, and locals initialised with any of these and never written again. Anything else has no
/// constant length (null), so it is never reported.
/// </summary>
internal sealed class ConstantLengths
{
    private const int MaxDepth = 8;

    private readonly INamedTypeSymbol? _span;
    private readonly INamedTypeSymbol? _readOnlySpan;
    private readonly INamedTypeSymbol? _memoryExtensions;
    private readonly INamedTypeSymbol? _memoryMarshal;
    private readonly INamedTypeSymbol? _inlineArray;

    // Per operation block (keyed by the root of its operation tree): which locals have a constant initial length.
    private readonly ConditionalWeakTable<IOperation, LocalTable> _locals = new();

    public ConstantLengths(Compilation compilation)
    {
        _span = compilation.GetTypeByMetadataName("System.Span`1");
        _readOnlySpan = compilation.GetTypeByMetadataName("System.ReadOnlySpan`1");
        _memoryExtensions = compilation.GetTypeByMetadataName("System.MemoryExtensions");
        _memoryMarshal = compilation.GetTypeByMetadataName("System.Runtime.InteropServices.MemoryMarshal");
        _inlineArray = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.InlineArrayAttribute");
    }

    /// <summary>The constant number of elements of the value, or null when it is not known at compile time.</summary>
    public long? Of(IOperation? operation) => Of(operation, 0);

    private long? Of(IOperation? operation, int depth)
    {
        if (operation is null || depth > MaxDepth) return null;
        depth++;
        switch (operation)
        {
            case IConversionOperation conversion:
                // Array → span, span → read-only span, inline array → span keep the length; a user-defined
                // conversion might not.
                if (conversion.OperatorMethod is { } op && !IsSpan(op.ContainingType)) return null;
                return InlineArrayLength(conversion.Operand.Type) ?? Of(conversion.Operand, depth);

            case IArrayCreationOperation { DimensionSizes.Length: 1 } creation:
                return IntConstant(creation.DimensionSizes[0]);

            case ICollectionExpressionOperation collection when collection.Type is IArrayTypeSymbol || IsSpan(collection.Type):
            {
                long total = 0;
                foreach (IOperation element in collection.Elements)
                {
                    if (element is ISpreadOperation spread)
                    {
                        if (Of(spread.Operand, depth) is not long spreadLength) return null;
                        total += spreadLength;
                    }
                    else
                    {
                        total++;
                    }
                }
                return total;
            }

            case ILocalReferenceOperation local:
                return InlineArrayLength(local.Type) ?? LocalLength(local, depth);

            case IParameterReferenceOperation or IFieldReferenceOperation:
                return InlineArrayLength(operation.Type);

            case IDefaultValueOperation when IsSpan(operation.Type):
                return 0;

            case IPropertyReferenceOperation { Property.Name: "Empty", Property.IsStatic: true } property
                when IsSpan(property.Property.ContainingType):
                return 0;

            case IObjectCreationOperation creation when IsSpan(creation.Type):
                return SpanConstructorLength(creation, depth);

            case IInvocationOperation invocation:
                return InvocationLength(invocation, depth);

            case IArrayElementReferenceOperation { Indices.Length: 1 } element when element.Indices[0] is IRangeOperation range:
                return RangeLength(range, Of(element.ArrayReference, depth));

            case IImplicitIndexerReferenceOperation indexer when indexer.Argument is IRangeOperation range:
                return RangeLength(range, Of(indexer.Instance, depth));

            case IInlineArrayAccessOperation access when access.Argument is IRangeOperation range:
                return RangeLength(range, Of(access.Instance, depth));

            case IConditionalOperation { WhenFalse: not null } conditional:
                return Of(conditional.WhenTrue, depth) is long whenTrue && Of(conditional.WhenFalse, depth) == whenTrue ? whenTrue : null;

            default:
                // stackalloc has no operation of its own: its size is its first child (or the initialiser's count).
                if (operation.Kind == OperationKind.None
                    && operation.Syntax is StackAllocArrayCreationExpressionSyntax or ImplicitStackAllocArrayCreationExpressionSyntax)
                {
                    foreach (IOperation child in operation.ChildOperations)
                    {
                        return IntConstant(child);
                    }
                }
                return null;
        }
    }

    private long? SpanConstructorLength(IObjectCreationOperation creation, int depth)
    {
        IMethodSymbol? constructor = creation.Constructor;
        if (constructor is null) return null;
        var parameters = constructor.Parameters;
        if (parameters.Length == 1 && parameters[0].Type is IArrayTypeSymbol)
        {
            return Of(Argument(creation.Arguments, 0), depth);
        }
        if (parameters.Length == 1 && parameters[0].RefKind != RefKind.None)
        {
            return 1; // new Span<T>(ref value): one element.
        }
        if (parameters.Length == 2 && parameters[0].Type is IPointerTypeSymbol)
        {
            return IntConstant(Argument(creation.Arguments, 1)); // new Span<T>(void* pointer, int length)
        }
        if (parameters.Length == 3 && parameters[0].Type is IArrayTypeSymbol)
        {
            return IntConstant(Argument(creation.Arguments, 2)); // new Span<T>(T[] array, int start, int length)
        }
        return null;
    }

    private long? InvocationLength(IInvocationOperation invocation, int depth)
    {
        IMethodSymbol method = invocation.TargetMethod;
        INamedTypeSymbol type = method.ContainingType;
        var parameters = method.Parameters;
        if (SymbolEqualityComparer.Default.Equals(type, _memoryExtensions) && method.Name == "AsSpan"
            && parameters.Length >= 1 && parameters[0].Type is IArrayTypeSymbol && AllInt(parameters, 1))
        {
            long? length = Of(Argument(invocation.Arguments, 0), depth);
            return parameters.Length switch
            {
                1 => length,
                2 => Subtract(length, IntConstant(Argument(invocation.Arguments, 1))),
                3 => IntConstant(Argument(invocation.Arguments, 2)),
                _ => null,
            };
        }
        if (IsSpan(type) && method.Name == "Slice" && !method.IsStatic && AllInt(parameters, 0))
        {
            return parameters.Length switch
            {
                1 => Subtract(Of(invocation.Instance, depth), IntConstant(Argument(invocation.Arguments, 0))),
                2 => IntConstant(Argument(invocation.Arguments, 1)),
                _ => null,
            };
        }
        if (SymbolEqualityComparer.Default.Equals(type, _memoryMarshal)
            && method.Name is "CreateSpan" or "CreateReadOnlySpan" && parameters.Length == 2)
        {
            return IntConstant(Argument(invocation.Arguments, 1));
        }
        return null;
    }

    /// <summary>The length of <c>x[a..b]</c>; bounds counted from the end (<c>^n</c>) need the length of x.</summary>
    private static long? RangeLength(IRangeOperation range, long? baseLength)
    {
        long? start = range.LeftOperand is null ? 0 : IndexOf(range.LeftOperand, baseLength);
        long? end = range.RightOperand is null ? baseLength : IndexOf(range.RightOperand, baseLength);
        return start is long s && end is long e && e >= s ? e - s : null;
    }

    private static long? IndexOf(IOperation index, long? baseLength)
    {
        while (index is IConversionOperation conversion) index = conversion.Operand;
        if (index is IUnaryOperation { OperatorKind: UnaryOperatorKind.Hat } fromEnd)
        {
            return IntConstant(fromEnd.Operand) is long offset && baseLength is long length ? length - offset : null;
        }
        return IntConstant(index);
    }

    private long? InlineArrayLength(ITypeSymbol? type)
    {
        if (type is not INamedTypeSymbol { TypeKind: TypeKind.Struct } named || _inlineArray is null) return null;
        foreach (AttributeData attribute in named.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _inlineArray)
                && attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int length)
            {
                return length;
            }
        }
        return null;
    }

    private long? LocalLength(ILocalReferenceOperation reference, int depth)
    {
        IOperation root = reference;
        while (root.Parent is not null) root = root.Parent;
        LocalTable table = _locals.GetValue(root, static r => new LocalTable(r));
        return table.Initializers.TryGetValue(reference.Local, out IOperation? initializer) && !table.Written.Contains(reference.Local)
            ? Of(initializer, depth)
            : null;
    }

    private bool IsSpan(ITypeSymbol? type) =>
        type is INamedTypeSymbol named
        && (SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, _span)
            || SymbolEqualityComparer.Default.Equals(named.OriginalDefinition, _readOnlySpan));

    private static bool AllInt(System.Collections.Immutable.ImmutableArray<IParameterSymbol> parameters, int from)
    {
        for (int i = from; i < parameters.Length; i++)
        {
            if (parameters[i].Type.SpecialType != SpecialType.System_Int32) return false;
        }
        return true;
    }

    private static IOperation? Argument(System.Collections.Immutable.ImmutableArray<IArgumentOperation> arguments, int ordinal)
    {
        foreach (IArgumentOperation argument in arguments)
        {
            if (argument.Parameter?.Ordinal == ordinal) return argument.Value;
        }
        return null;
    }

    private static long? IntConstant(IOperation? operation) =>
        operation?.ConstantValue is { HasValue: true, Value: int value } ? value : null;

    private static long? Subtract(long? a, long? b) => a is long x && b is long y && x >= y ? x - y : null;

    /// <summary>The locals of one operation block with an initialiser, and those written anywhere after it.</summary>
    private sealed class LocalTable
    {
        public LocalTable(IOperation root)
        {
            foreach (IOperation operation in root.Descendants())
            {
                switch (operation)
                {
                    case IVariableDeclaratorOperation { Initializer: { } initializer } declarator:
                        // A ref local aliases another variable: its length is that variable's, not tracked.
                        if (!declarator.Symbol.IsRef) Initializers[declarator.Symbol] = initializer.Value;
                        else Written.Add(declarator.Symbol);
                        break;
                    case ILocalReferenceOperation { IsDeclaration: false } reference when IsWrite(reference):
                        Written.Add(reference.Local);
                        break;
                }
            }
        }

        public Dictionary<ILocalSymbol, IOperation> Initializers { get; } = new(SymbolEqualityComparer.Default);

        public HashSet<ILocalSymbol> Written { get; } = new(SymbolEqualityComparer.Default);

        /// <summary>Whether the reference may change which array or span the local holds. Errs towards yes.</summary>
        private static bool IsWrite(ILocalReferenceOperation reference)
        {
            if (reference.Syntax.Parent is RefExpressionSyntax) return true; // ref x: aliased, may be written through.
            IOperation? parent = reference.Parent;
            switch (parent)
            {
                case IAssignmentOperation assignment when assignment.Target == reference:
                case IIncrementOrDecrementOperation:
                case IAddressOfOperation:
                case IArgumentOperation { Parameter.RefKind: RefKind.Ref or RefKind.Out }:
                    return true;
            }
            // (a, b) = ...: the local is inside the target tuple of a deconstruction.
            IOperation child = reference;
            while (parent is ITupleOperation)
            {
                child = parent;
                parent = parent.Parent;
            }
            return parent is IDeconstructionAssignmentOperation deconstruction && deconstruction.Target == child;
        }
    }
}
