namespace Faultline.Simulation.Sweeps;

/// <summary>
/// Points done as a bar redrawn in place, for a terminal: the command shows it only when standard error is one (a log
/// or a test's writer gets no carriage returns).
/// </summary>
public sealed class SweepProgress(TextWriter terminal) : IDisposable
{
    private const int Width = 40;
    private readonly Lock _lock = new();
    private int _drawn = -1;

    /// <summary>Called from the workers as points finish.</summary>
    public void Show(int done, int total)
    {
        lock (_lock)
        {
            if (done <= _drawn) return;
            _drawn = done;
            int filled = total == 0 ? Width : done * Width / total;
            terminal.Write($"\r[{new string('#', filled)}{new string('-', Width - filled)}] {done}/{total} points");
            terminal.Flush();
        }
    }

    public void Dispose()
    {
        if (_drawn >= 0) terminal.WriteLine();
    }
}
