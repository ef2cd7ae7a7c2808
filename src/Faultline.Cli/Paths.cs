namespace Faultline.Cli;

/// <summary>
/// Paths from the command line, checked before anything is read or run: an empty path or one with a NUL in it is
/// refused by the runtime with an <see cref="ArgumentException"/> deep in a write (issue 14: `--json ""` after a
/// whole run); an output that cannot be created is better said before the run than after it.
/// </summary>
internal static class Paths
{
    /// <summary>Why <paramref name="path"/> is no path at all, or null. The scenario reader says the rest (a directory, a missing file).</summary>
    public static string? InputProblem(string path) =>
        path.Length == 0 ? "the path is empty"
        : path.Contains('\0') ? "the path holds a NUL character"
        : null;

    /// <summary>Why a file cannot be written at <paramref name="path"/>, as far as can be told without writing it, or null.</summary>
    public static string? OutputProblem(string path)
    {
        if (InputProblem(path) is { } problem) return problem;
        if (Directory.Exists(path)) return "it is a directory";
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        return directory is not null && !Directory.Exists(directory) ? $"directory '{directory}' does not exist" : null;
    }
}
