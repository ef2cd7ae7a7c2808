using System.Diagnostics;
using System.Text.RegularExpressions;
using Faultline.Tests.Golden;

namespace Faultline.Tests.Cli;

/// <summary>
/// Issue 13 item 1: every `faultline …` example in the README, docs/ and scenarios/README.md works as written. Each
/// example line in a code block (`faultline …`, `$ faultline …`, `dotnet faultline …`, or the README's `dotnet run
/// --project src/Faultline.Cli -- …`) is split into words by bash, as a shell would, and goes through Program.Run
/// with those words; files it names are read from the repository and written to a folder of its own, in document
/// order (an example can read what an earlier one wrote). It must exit 0 unless its line ends in `# exit N`; an
/// example with its output shown must print exactly that, unless the output is abridged (a "..." line). Synopses
/// (a `[`, or a placeholder such as HEX or FILE) are not examples.
/// </summary>
public sealed partial class DocExamplesTests
{

    [Fact]
    public void Every_faultline_example_in_the_docs_works_as_written()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // bash splits the words
        string root = GoldenDigests.RepositoryRoot;
        var work = Directory.CreateTempSubdirectory("faultline-docs-");
        try
        {
            var failures = new List<string>();
            int examples = 0;
            foreach (var file in DocFiles(root))
            {
                foreach (var example in Examples(File.ReadAllLines(file)))
                {
                    examples++;
                    string where = $"{Path.GetRelativePath(root, file)}:{example.Line}";
                    var args = ShellWords(example.Arguments, work.FullName).Select(a => Located(a, root, work.FullName)).ToArray();
                    var (exit, stdout, stderr) = CommandLine.Invoke(args);
                    int expected = example.Exit ?? 0;
                    if (exit != expected)
                        failures.Add($"{where}: `faultline {example.Arguments}` exits {exit}, the docs say {expected}: {stderr.Split('\n')[0]}");
                    // The docs show what a command prints: its results alone (standard output) or all of it.
                    if (example.Output is { } shown && !Shows(shown, stdout) && !Shows(shown, stdout + stderr))
                        failures.Add($"{where}: `faultline {example.Arguments}` prints\n{stdout}{stderr}\nthe docs show\n{shown}");
                }
            }
            Assert.True(examples >= 15, $"{examples} examples found");
            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static bool Shows(string shown, string printed) => printed.ReplaceLineEndings("\n").TrimEnd('\n') == shown;

    private sealed record Example(int Line, string Arguments, int? Exit, string? Output);

    private static IEnumerable<string> DocFiles(string root) =>
        new[] { Path.Combine(root, "README.md"), Path.Combine(root, "scenarios", "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            .Where(File.Exists);

    private static IEnumerable<Example> Examples(string[] lines)
    {
        bool inBlock = false, prompted = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (IsFence(lines[i]))
            {
                inBlock = !inBlock;
                // In a block with prompts, the lines without one are output.
                prompted = inBlock && lines.Skip(i + 1).TakeWhile(l => !IsFence(l)).Any(l => l.StartsWith("$ ", StringComparison.Ordinal));
                continue;
            }
            var m = inBlock ? CommandLinePattern().Match(lines[i]) : Match.Empty;
            if (!m.Success || (prompted && !m.Groups["prompt"].Success)) continue;
            string text = m.Groups["args"].Value, comment = "";
            int hash = text.IndexOf(" #", StringComparison.Ordinal);
            if (hash >= 0) (text, comment) = (text[..hash], text[hash..]);
            text = text.Trim();
            if (PlaceholderPattern().IsMatch(QuotedPattern().Replace(text, "\"\""))) continue;
            var exit = ExitPattern().Match(comment);
            string? output = null;
            if (m.Groups["prompt"].Success)
            {
                var shown = lines.Skip(i + 1).TakeWhile(l => !l.StartsWith("$ ", StringComparison.Ordinal) && !IsFence(l)).ToList();
                if (shown.Count > 0 && !shown.Any(l => l.Trim() == "...")) output = string.Join("\n", shown);
            }
            yield return new Example(i + 1, text, exit.Success ? int.Parse(exit.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null, output);
        }
    }

    private static bool IsFence(string line) => line.TrimStart().StartsWith("```", StringComparison.Ordinal);

    /// <summary>The words bash makes of <paramref name="text"/>: quotes, $(...) and {a..b} as a shell does them.</summary>
    private static List<string> ShellWords(string text, string directory)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("printf '%s\\0' " + text);
        using var bash = Process.Start(start)!;
        string words = bash.StandardOutput.ReadToEnd();
        bash.WaitForExit();
        Assert.Equal(0, bash.ExitCode);
        return [.. words.Split('\0')[..^1]];
    }

    /// <summary>A file the example names: from the repository if it is there, else in the examples' own folder.</summary>
    private static string Located(string word, string root, string work) =>
        word.StartsWith('-') ? word
        : File.Exists(Path.Combine(root, word)) ? Path.Combine(root, word)
        : FileNamePattern().IsMatch(word) ? Path.Combine(work, word)
        : word;

    [GeneratedRegex(@"^\s*(?<prompt>\$ )?(dotnet faultline|faultline|dotnet run --project src/Faultline\.Cli --) (?<args>[a-z]+(\s.*)?)$")]
    private static partial Regex CommandLinePattern();

    [GeneratedRegex(@"\[|\b[A-Z]{2,}[A-Z_]*\b")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex("\"[^\"]*\"|'[^']*'")]
    private static partial Regex QuotedPattern();

    [GeneratedRegex(@"#\s*exit (\d+)")]
    private static partial Regex ExitPattern();

    [GeneratedRegex(@"^[\w./-]*\.[a-z]+$")]
    private static partial Regex FileNamePattern();
}
