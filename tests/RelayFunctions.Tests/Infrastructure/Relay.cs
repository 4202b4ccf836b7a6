using System.Diagnostics;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>
/// The relay under test: a private Postfix instance on loopback, configured from relay-agent/deploy/postfix. The one
/// scripts/test.sh started (RELAY_TEST_POSTFIX_DIR/PORT), or one started here through scripts/lib.sh.
/// </summary>
public static class Relay
{
    private static readonly Lazy<(string Dir, int Port)> Instance = new(Start);

    public static string ConfigDirectory => Instance.Value.Dir;
    public static int Port => Instance.Value.Port;
    public static string MapDirectory => Path.Combine(ConfigDirectory, "maps");

    public static async Task<string> QueueAsync()
    {
        var start = new ProcessStartInfo("postqueue", ["-c", ConfigDirectory, "-p"]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    private static (string, int) Start()
    {
        var dir = Environment.GetEnvironmentVariable("RELAY_TEST_POSTFIX_DIR");
        if (!string.IsNullOrEmpty(dir))
        {
            return (dir, int.Parse(Environment.GetEnvironmentVariable("RELAY_TEST_POSTFIX_PORT")!));
        }
        var port = Azurite.FreePort();
        var lib = Path.Combine(RepoRoot.Path, "scripts", "lib.sh");
        var start = new ProcessStartInfo("bash", ["-c", $"source '{lib}' && start_postfix tests-{port} {port}"]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var output = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "Postfix did not start (is it installed? run scripts/test.sh): " + output);
        var configDir = Path.Combine("/tmp/relayfunctions-postfix", $"tests-{port}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Process.Start("postfix", ["-c", configDir, "stop"])?.WaitForExit();
        return (configDir, port);
    }
}
