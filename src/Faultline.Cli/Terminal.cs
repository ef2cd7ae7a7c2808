namespace Faultline.Cli;

/// <summary>
/// What the command knows of the console it prints to, read once in <c>Main</c>; tests and the fuzz harness pass
/// <see cref="None"/>, so their output is the same on every machine (issue 13).
/// </summary>
/// <param name="Width">The terminal's width when standard output is a terminal, else null.</param>
/// <param name="ErrorIsTerminal">Standard error is a terminal: the progress line goes there.</param>
/// <param name="Columns">The COLUMNS environment variable, if set.</param>
/// <param name="Stop">Cancelled by Ctrl-C: a run stops at the next slice of events and writes what ran.</param>
internal sealed record Terminal(int? Width, bool ErrorIsTerminal, string? Columns, CancellationToken Stop)
{
    /// <summary>The summary's width when not a terminal and neither --width nor COLUMNS says otherwise.</summary>
    public const int DefaultWidth = 100;

    /// <summary>No terminal, no COLUMNS, never stopped.</summary>
    public static Terminal None { get; } = new(null, false, null, CancellationToken.None);

    public static Terminal OfConsole(CancellationToken stop)
    {
        int? width = null;
        if (!Console.IsOutputRedirected)
        {
            try
            {
                width = Console.WindowWidth > 0 ? Console.WindowWidth : null;
            }
            catch (IOException)
            {
                // No window to ask: the fallbacks below.
            }
        }
        return new(width, !Console.IsErrorRedirected, Environment.GetEnvironmentVariable("COLUMNS"), stop);
    }

    /// <summary>--width if given, else the terminal's, else COLUMNS, else <see cref="DefaultWidth"/>.</summary>
    public int SummaryWidth(int? option) =>
        option ?? Width ?? (int.TryParse(Columns, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int columns) && columns >= RunOptions.MinWidth
            ? columns
            : DefaultWidth);
}
