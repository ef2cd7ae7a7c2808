namespace Faultline.Cli;

/// <summary>Hex text to bytes, in memory order; spaces, ':' '_' '-' separators and a leading 0x are allowed.</summary>
internal static class Hex
{
    /// <summary>The bytes, or an error whose position counts characters of <paramref name="text"/> as given, from 1.</summary>
    public static bool TryParse(string text, out byte[] bytes, out string error)
    {
        var digits = new System.Text.StringBuilder(text.Length);
        int start = 0;
        while (start < text.Length && char.IsWhiteSpace(text[start])) start++;
        if (text.AsSpan(start).StartsWith("0x", StringComparison.OrdinalIgnoreCase)) start += 2;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c) || c is ':' or '_' or '-') continue;
            if (!char.IsAsciiHexDigit(c))
            {
                bytes = [];
                error = $"{(char.IsControl(c) || char.IsSurrogate(c) ? $"U+{(int)c:X4}" : $"'{c}'")} at position {i + 1} is not a hex digit";
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
