namespace Faultline;

/// <summary>Why bytes did not decode: the field at fault and what is wrong with it.</summary>
public readonly record struct DecodeError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// A decoded record or the reason it could not be decoded. Decoders of hardware and kernel
/// records return this and never throw on malformed input (DESIGN rule 3).
/// </summary>
public readonly struct DecodeResult<T> where T : struct
{
    private readonly T _value;

    private DecodeResult(T value, DecodeError? error)
    {
        _value = value;
        Error = error;
    }

    public DecodeError? Error { get; }
    public bool IsOk => Error is null;
    public T Value => Error is null ? _value : throw new InvalidOperationException($"decode failed: {Error}");

    public static DecodeResult<T> Ok(T value) => new(value, null);
    public static DecodeResult<T> Fail(string field, string message) => new(default, new DecodeError(field, message));

    public static implicit operator DecodeResult<T>(T value) => Ok(value);
}
