using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RelayAgent;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// What the agent writes for the outbound accounts (issue 9): lmdb tables for sender_logins and sasl_access, the
/// pcre table and the passwd-file copied as they are, the passwd-file readable by root and Dovecot only, every file
/// of a later kind written empty when an older generation lacks it. Real postmap; Postfix itself is not needed.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class MapFilesTests : IDisposable
{
    private readonly string _maps = Directory.CreateTempSubdirectory("relay-map-files-").FullName;

    public void Dispose()
    {
        Directory.Delete(_maps, recursive: true);
        if (Directory.Exists(_maps + "-config"))
        {
            Directory.Delete(_maps + "-config", recursive: true);
        }
    }

    [Fact]
    public async Task AccountTablesAreBuiltThePcreAndPasswdCopiedAndThePasswdReadableOnlyByRootAndDovecot()
    {
        var passwd = "alice@cust.example:{BLF-CRYPT}$2a$10$abcdefghijklmnopqrstuu5Hk0Gz1uQZ1QOD3Rn1mVv1gx0mYQ3W::::::allow_nets=127.0.0.2/32\n";
        var pcre = "/@[^@]+\\.cust\\.example$/i @cust.example\n";
        await ApplyAsync(1, new()
        {
            ["transport"] = "cust.example hold:[127.0.0.1]:9\n",
            ["relay_domains"] = "cust.example x\n",
            ["passwd"] = passwd,
            ["sender_logins"] = "alice@cust.example alice@cust.example,@cust.example\n@cust.example @cust.example\n",
            ["sender_logins_sub.pcre"] = pcre,
            ["sasl_access"] = "disabled@cust.example REJECT 5.7.1 Account disabled\nmailserver@cust.example OK\n",
        });

        Assert.Equal("alice@cust.example,@cust.example", await QueryAsync("lmdb", "sender_logins", "alice@cust.example"));
        Assert.Equal("REJECT 5.7.1 Account disabled", await QueryAsync("lmdb", "sasl_access", "disabled@cust.example"));
        Assert.Equal("@cust.example", await QueryAsync("pcre", "sender_logins_sub.pcre", "x@a.cust.example"));
        Assert.Equal(pcre, await File.ReadAllTextAsync(Path.Combine(_maps, "sender_logins_sub.pcre")));
        Assert.Equal(passwd, await File.ReadAllTextAsync(Path.Combine(_maps, "passwd")));
        Assert.False(File.Exists(Path.Combine(_maps, "passwd.lmdb")));
        Assert.False(File.Exists(Path.Combine(_maps, "sender_logins_sub.pcre.lmdb")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(Path.Combine(_maps, "passwd")));
        if (HasGroup("dovecot"))
        {
            Assert.Equal("root:dovecot", await StatAsync("%U:%G", Path.Combine(_maps, "passwd")));
        }
        Assert.Empty(Directory.GetDirectories(_maps)); // no staging folder left behind
    }

    [Fact]
    public async Task AGenerationWithoutAccountTablesLeavesThemEmpty()
    {
        await ApplyAsync(1, new()
        {
            ["passwd"] = "alice@cust.example:{BLF-CRYPT}$2a$10$x::::::\n",
            ["sender_logins"] = "alice@cust.example alice@cust.example\n",
            ["sender_logins_sub.pcre"] = "/@[^@]+\\.cust\\.example$/i alice@cust.example\n",
            ["sasl_access"] = "alice@cust.example OK\n",
        });
        // An older control plane publishes the routing tables only.
        await ApplyAsync(2, new() { ["transport"] = "", ["relay_domains"] = "", ["relay_recipients"] = "", ["message_size_limits"] = "" });

        foreach (var file in new[] { "passwd", "sender_logins", "sender_logins_sub.pcre", "sasl_access" })
        {
            Assert.Equal("", await File.ReadAllTextAsync(Path.Combine(_maps, file)));
        }
        Assert.Null(await QueryAsync("lmdb", "sender_logins", "alice@cust.example"));
        Assert.Null(await QueryAsync("lmdb", "sasl_access", "alice@cust.example"));
    }

    [Fact]
    public async Task APasswdFileRewrittenWithinTheSameSecondIsDatedASecondLaterSoDovecotNoticesIt()
    {
        // Same size, new hash: Dovecot compares the mtime in whole seconds and the size.
        await ApplyAsync(1, new() { ["passwd"] = "alice@cust.example:{BLF-CRYPT}$2a$10$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::::::\n" });
        var first = File.GetLastWriteTimeUtc(Path.Combine(_maps, "passwd"));
        await ApplyAsync(2, new() { ["passwd"] = "alice@cust.example:{BLF-CRYPT}$2a$10$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb::::::\n" });
        var second = File.GetLastWriteTimeUtc(Path.Combine(_maps, "passwd"));

        Assert.True(second.Ticks / TimeSpan.TicksPerSecond > first.Ticks / TimeSpan.TicksPerSecond, $"{first:O} then {second:O}");
    }

    [Fact]
    public void SenderTablesAreRenamedIntoPlaceBeforeThePasswdFileAndRoutesBeforeDomains()
    {
        var order = MapFiles.InOrder(new Dictionary<string, byte[]> { ["passwd"] = [], ["future_table"] = [] }).Select(f => f.Name).ToList();

        Assert.Equal(
            ["future_table", "transport", "message_size_limits", "relay_recipients", "relay_domains", "sender_logins_sub.pcre", "sender_logins", "sasl_access", "outbound_accounts", "passwd"],
            order);
    }

    [Fact]
    public async Task AnLmdbTableIsReadInKeyOrderAsPostmapListsIt()
    {
        await ApplyAsync(1, new()
        {
            ["transport"] = "b.example smtp:[192.0.2.2]:25\n.b.example smtp:[192.0.2.2]:25\na.example hold:[127.0.0.1]:9\nz.example smtp:[name.example]:2525, [127.0.0.1]:9\n",
        });

        var (_, listed) = await RunAsync("postmap", "-c", _maps + "-config", "-s", $"lmdb:{Path.Combine(_maps, "transport")}");
        var read = LmdbTable.Entries(Path.Combine(_maps, "transport")).ToList();

        Assert.Equal(listed.Split('\n', StringSplitOptions.RemoveEmptyEntries), read.Select(e => $"{e.Key}\t{e.Value}"));
        Assert.Equal(read.Select(e => e.Key).Order(StringComparer.Ordinal), read.Select(e => e.Key));
        Assert.Equal(("z.example", "smtp:[name.example]:2525, [127.0.0.1]:9"), read[^1]);
    }

    private async Task ApplyAsync(long generation, Dictionary<string, string> files)
    {
        // A Postfix configuration for postmap alone (defaults for everything).
        var config = Directory.CreateDirectory(_maps + "-config").FullName;
        // A host name of its own, or every postmap spends a second and a half looking up this machine's.
        await File.WriteAllTextAsync(Path.Combine(config, "main.cf"), "myhostname = relay.test\n");
        var options = new AgentOptions { MapDirectory = _maps, PostfixConfigDirectory = config, Postfix = "/bin/true", Postqueue = "/bin/true" };
        var telemetry = new AgentTelemetry(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
        var applier = new MapApplier(options, new Commands(options), telemetry, TimeProvider.System, NullLogger<MapApplier>.Instance);
        await applier.ApplyAsync(new MapGeneration(generation, files.ToDictionary(f => f.Key, f => Encoding.UTF8.GetBytes(f.Value))), default);
    }

    /// <summary>postmap -q: the value, or null when the key is not there.</summary>
    private async Task<string?> QueryAsync(string type, string table, string key)
    {
        var (code, stdout) = await RunAsync("postmap", "-c", _maps + "-config", "-q", key, $"{type}:{Path.Combine(_maps, table)}");
        return code == 0 ? stdout.TrimEnd('\n') : null;
    }

    private static async Task<string> StatAsync(string format, string path) => (await RunAsync("stat", "-c", format, path)).Output.Trim();

    private static bool HasGroup(string group) => File.ReadLines("/etc/group").Any(l => l.StartsWith(group + ":", StringComparison.Ordinal));

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
