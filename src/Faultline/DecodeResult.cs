namespace Faultline;

/// <summary>Why bytes did not decode: the field at fault and what is wrong with it.</summary>
public readonly record struct DecodeError(string Field, string Message)
{
    /// <inheritdoc />
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

    /// <summary>Why decoding failed; null when it succeeded.</summary>
    public DecodeError? Error { get; }
    /// <summary>True when the bytes decoded and <see cref="Value"/> holds the record.</summary>
    public bool IsOk => Error is null;
    /// <summary>The decoded record; throws <see cref="InvalidOperationException"/> when decoding failed.</summary>
    public T Value => Error is null ? _value : throw new InvalidOperationException($"decode failed: {Error}");

    /// <summary>A successful decode of <paramref name="value"/>.</summary>
    public static DecodeResult<T> Ok(T value) => new(value, null);
    /// <summary>A failed decode naming the <paramref name="field"/> at fault and what is wrong with it.</summary>
    public static DecodeResult<T> Fail(string field, string message) => new(default, new DecodeError(field, message));

    /// <summary>Wraps a decoded record as a successful result.</summary>
    public static implicit operator DecodeResult<T>(T value) => Ok(value);
}
