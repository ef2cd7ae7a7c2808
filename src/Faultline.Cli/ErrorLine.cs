using System.Text;

namespace Faultline.Cli;

/// <summary>
/// What the command prints on standard error: one line per error, whatever the input held. A newline in a name, a
/// control character in a path or an argument is written escaped, so a message never breaks in two (issue 14).
/// </summary>
internal static class ErrorLine
{
    public static void Write(TextWriter stderr, string message) => stderr.WriteLine(Printable(message));

    public static string Printable(string text)
    {
        if (!text.Any(c => char.IsControl(c) || char.IsSurrogate(c))) return text;
        var s = new StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) s.Append(c).Append(text[++i]);
            else if (c == '\n') s.Append("\\n");
            else if (c == '\r') s.Append("\\r");
            else if (c == '\t') s.Append("\\t");
            else if (char.IsControl(c) || char.IsSurrogate(c)) s.Append($"\\u{(int)c:x4}");
            else s.Append(c);
        }
        return s.ToString();
    }
}
