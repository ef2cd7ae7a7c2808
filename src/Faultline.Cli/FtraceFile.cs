using Faultline.Simulation.Traces;

namespace Faultline.Cli;

/// <summary>The file <c>faultline run --ftrace FILE</c> writes the run's kernel trace to, as the run goes.</summary>
internal sealed class FtraceFile : IDisposable
{
    private readonly StreamWriter _stream;

    private FtraceFile(StreamWriter stream)
    {
        _stream = stream;
        Writer = new FtraceWriter(stream);
    }

    public FtraceWriter Writer { get; }

    /// <summary>Opens <paramref name="path"/> (null: no file, true); false, said on <paramref name="stderr"/>, when it cannot be written.</summary>
    public static bool TryOpen(string? path, TextWriter stderr, out FtraceFile? file)
    {
        file = null;
        if (path is null) return true;
        try
        {
            file = new FtraceFile(new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false), 1 << 16));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"faultline run: cannot write the ftrace to '{path}': {e.Message}");
            return false;
        }
    }

    public void Dispose() => _stream.Dispose();
}
