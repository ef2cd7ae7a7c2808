namespace Faultline.Cli;

/// <summary>
/// What the command knows of the console it prints to, read once in <c>Main</c>; tests and the fuzz harness pass
/// <see cref="None"/>, so their output is the same on every machine (issue 13).
/// </summary>
/// <param name="WindowWidth">The console window's width, when there is one.</param>
/// <param name="OutputIsTerminal">Standard output is a terminal: the summary fits its window.</param>
/// <param name="ErrorIsTerminal">Standard error is a terminal: the progress line goes there.</param>
/// <param name="Columns">The COLUMNS environment variable, if set.</param>
/// <param name="Stop">Cancelled by Ctrl-C: a run stops at the next slice of events and writes what ran.</param>
internal sealed record Terminal(int? WindowWidth, bool OutputIsTerminal, bool ErrorIsTerminal, string? Columns, CancellationToken Stop)
{
    /// <summary>The summary's width when not a terminal and neither --width nor COLUMNS says otherwise.</summary>
    public const int DefaultWidth = 100;

    /// <summary>No terminal, no COLUMNS, never stopped.</summary>
    public static Terminal None { get; } = new(null, false, false, null, CancellationToken.None);

    public static Terminal OfConsole(CancellationToken stop)
    {
        int? width = null;
        try
        {
            width = Console.WindowWidth > 0 ? Console.WindowWidth : null;
        }
        catch (IOException)
        {
            // No window to ask: the fallbacks below.
        }
        return new(width, !Console.IsOutputRedirected, !Console.IsErrorRedirected, Environment.GetEnvironmentVariable("COLUMNS"), stop);
    }

    /// <summary>--width if given, else the terminal's when standard output is one, else COLUMNS, else <see cref="DefaultWidth"/>.</summary>
    public int SummaryWidth(int? option) =>
        option ?? (OutputIsTerminal ? WindowWidth : null)
        ?? (int.TryParse(Columns, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int columns) && columns >= RunOptions.MinWidth
            ? columns
            : DefaultWidth);

    /// <summary>The progress line's width: the window's, whatever standard output is.</summary>
    public int ProgressWidth => WindowWidth ?? DefaultWidth;
}
