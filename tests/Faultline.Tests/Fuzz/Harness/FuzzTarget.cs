using System.Text.RegularExpressions;

namespace Faultline.Fuzz;

/// <summary>
/// One input path the harness feeds (issue 14): how it reads an input, what it may answer, and what it starts from.
/// <see cref="Run"/> returns a short label of the input's outcome (the harness keeps inputs whose label is new) and
/// throws <see cref="FuzzFinding"/> when an answer breaks the rules; any other exception is a finding too.
/// </summary>
internal abstract partial class FuzzTarget
{
    public abstract string Name { get; }

    /// <summary>Its corpus folder, fuzz/corpus/CORPUS/: by default its name.</summary>
    public virtual string Corpus => Name;

    /// <summary>The longest input worth trying; mutations are cut to it.</summary>
    public virtual int MaxInput => 1 << 14;

    /// <summary>Inputs to start from besides the corpus files: valid records, the example scenarios.</summary>
    public abstract IEnumerable<byte[]> Seeds();

    /// <summary>Tokens the mutator may insert whole (keys, options, special numbers).</summary>
    public virtual IReadOnlyList<byte[]> Dictionary => [];

    public abstract string Run(byte[] input);

    /// <summary>
    /// A message as an outcome label: what it says, not what it quotes. Quoted values and numbers are blanked and the
    /// label cut short, so the set of outcomes stays small (each label would otherwise be as new as the input).
    /// </summary>
    protected static string Shape(string message)
    {
        var shape = Numbers().Replace(Quoted().Replace(message, "''"), "#");
        return shape.Length <= 80 ? shape : shape[..80];
    }

    [GeneratedRegex("'[^']*'")]
    private static partial Regex Quoted();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Numbers();
}

/// <summary>An answer that breaks the rules for its input: a throw, a wrong exit code, a message that is not one line.</summary>
internal sealed class FuzzFinding(string message) : Exception(message);
