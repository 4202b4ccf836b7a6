using System.Diagnostics;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>
/// The authoritative Knot DNS the tests change records in with knsupdate: the one scripts/test.sh started
/// (RELAY_TEST_DNS, RELAY_TEST_DNS_ZONE), or one started here through scripts/lib.sh when a test runs alone.
/// </summary>
public static class Knot
{
    private static readonly Lazy<(string Address, int Port, string Zone)> Server = new(Start);

    public static string Endpoint => $"{Server.Value.Address}:{Server.Value.Port}";

    public static string Zone => Server.Value.Zone;

    /// <summary>A fresh name in the test zone, so tests never share records.</summary>
    public static string NewName(string stem) => $"{stem}-{Guid.NewGuid().ToString("N")[..10]}.{Zone}";

    public static Task SetAsync(string name, int ttl, params string[] addresses) => UpdateAsync(
        [$"update delete {name}. A", $"update delete {name}. AAAA",
         .. addresses.Select(a => $"update add {name}. {ttl} {(a.Contains(':') ? "AAAA" : "A")} {a}")]);

    /// <summary>Removes every record of the name: it then answers NXDOMAIN.</summary>
    public static Task DeleteAsync(string name) => UpdateAsync([$"update delete {name}."]);

    /// <summary>Leaves the name with a TXT record only: A lookups answer NODATA.</summary>
    public static Task SetNoDataAsync(string name) =>
        UpdateAsync([$"update delete {name}.", $"update add {name}. 60 TXT \"no address here\""]);

    public static async Task UpdateAsync(IEnumerable<string> lines)
    {
        var (address, port, zone) = Server.Value;
        var script = $"server {address} {port}\nzone {zone}.\n{string.Join("\n", lines)}\nsend\n";
        var start = new ProcessStartInfo("knsupdate") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(script);
        process.StandardInput.Close();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"knsupdate failed: {error}");
    }

    private static (string, int, string) Start()
    {
        var fromScript = Environment.GetEnvironmentVariable("RELAY_TEST_DNS");
        if (!string.IsNullOrEmpty(fromScript))
        {
            var parts = fromScript.Split(':');
            return (parts[0], int.Parse(parts[1]), Environment.GetEnvironmentVariable("RELAY_TEST_DNS_ZONE") ?? "helpers.test");
        }
        var port = Azurite.FreePort();
        var lib = Path.Combine(RepoRoot.Path, "scripts", "lib.sh");
        var start = new ProcessStartInfo("bash", ["-c", $"source '{lib}' && start_knot tests-{port} {port} helpers.test"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "Knot DNS did not start (is it installed? run scripts/test.sh): " + output);
        var pidFile = Path.Combine(RepoRoot.Path, ".artifacts", $"knot-tests-{port}.pid");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim())).Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
            {
            }
        };
        return ("127.0.0.1", port, "helpers.test");
    }
}
