namespace Faultline.Cli;

/// <summary>Hex text to bytes, in memory order; spaces, ':' '_' '-' separators and a leading 0x are allowed.</summary>
internal static class Hex
{
    public static bool TryParse(string text, out byte[] bytes, out string error)
    {
        var digits = new System.Text.StringBuilder();
        var t = text.Trim();
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) t = t[2..];
        for (int i = 0; i < t.Length; i++)
        {
            char c = t[i];
            if (char.IsWhiteSpace(c) || c is ':' or '_' or '-') continue;
            if (!char.IsAsciiHexDigit(c))
            {
                bytes = [];
                error = $"'{c}' at position {i + 1} is not a hex digit";
                return false;
            }
            digits.Append(c);
        }
        if (digits.Length % 2 != 0)
        {
            bytes = [];
            error = $"odd number of hex digits ({digits.Length}); give whole bytes";
            return false;
        }
        bytes = Convert.FromHexString(digits.ToString());
        error = "";
        return true;
    }
}
