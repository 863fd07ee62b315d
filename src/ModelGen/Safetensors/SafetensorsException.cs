namespace ModelGen;

/// <summary>A safetensors file is malformed, or does not hold what a model expects.</summary>
public sealed class SafetensorsException : Exception
{
    /// <summary>Creates the exception with a message naming the problem.</summary>
    public SafetensorsException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public SafetensorsException(string message, Exception inner) : base(message, inner) { }
}
