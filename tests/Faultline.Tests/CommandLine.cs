using System.Text.Json;
using Faultline.Cli;

namespace Faultline.Tests;

/// <summary>Runs the faultline command in-process, as a user would, capturing what it prints.</summary>
internal static class CommandLine
{
    public static (int Exit, string Stdout, string Stderr) Invoke(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Program.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>`faultline decode RECORD HEX` that must succeed: its JSON output.</summary>
    public static JsonElement DecodeOk(string record, string hex)
    {
        var (exit, stdout, stderr) = Invoke("decode", record, hex);
        Assert.True(exit == ExitCodes.Ok, $"exit {exit}: {stderr}");
        Assert.Equal("", stderr);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    /// <summary>Little-endian 64-bit words as the hex a user passes to `faultline decode`.</summary>
    public static string Hex(params ulong[] words) => Convert.ToHexString([.. words.SelectMany(BitConverter.GetBytes)]);
}
