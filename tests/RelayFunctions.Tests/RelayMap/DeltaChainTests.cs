using System.Diagnostics;
using System.Runtime.Versioning;
using RelayAgent;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// The agent follows the chain of deltas from the generation it applied to the pointer's, and falls back to the
/// pointer's snapshot and the deltas after it when a link is altered, corrupt or missing: it ends at the pointer's
/// generation with the same tables either way. Blobs written by hand on Azurite; real postmap and lmdb tables, no Postfix.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DeltaChainTests : IDisposable
{
    private readonly string _maps = Directory.CreateTempSubdirectory("relay-delta-chain-").FullName;

    public void Dispose()
    {
        Directory.Delete(_maps, recursive: true);
        if (Directory.Exists(_maps + "-config"))
        {
            Directory.Delete(_maps + "-config", recursive: true);
        }
    }

    [Theory]
    [InlineData("intact", "Applying 3 deltas from generation 1 to 4")]
    [InlineData("altered", "Applying snapshot 3 and 1 deltas up to generation 4")] // a delta's file no longer matches its manifest
    [InlineData("corrupt", "Applying snapshot 3 and 1 deltas up to generation 4")] // a delta line of an unknown table
    [InlineData("gap", "Applying snapshot 3 and 1 deltas up to generation 4")] // a delta's manifest deleted
    public async Task TheAgentEndsAtThePointersGenerationWhetherItFollowsTheDeltasOrFallsBackToTheSnapshot(string chain, string path)
    {
        var prefix = $"d{Guid.NewGuid():N}"[..12];
        var map = new HandMap(prefix);
        var snapshot = await map.SnapshotAsync(1, new Dictionary<string, string>
        {
            ["transport"] = "a.example smtp:[192.0.2.1]:25\n.a.example smtp:[192.0.2.1]:25\nb.example hold:[127.0.0.1]:9\nc.example smtp:[192.0.2.3]:25\n",
            ["relay_domains"] = "a.example OK\nb.example OK\nc.example OK\n",
            ["relay_recipients"] = "@a.example OK\n@b.example OK\n@c.example OK\n",
            ["message_size_limits"] = "a.example 10485760\n",
            ["passwd"] = "alice@a.example:{BLF-CRYPT}$2a$10$x::::::\n",
        });
        await map.PointAsync(1, snapshot, 1, snapshot);
        var logs = new CapturingLogs();
        var (worker, applier) = TestAgent.Create(await OptionsAsync(prefix), logs: logs);
        Assert.Equal(1, (await worker.PollOnceAsync(default))?.Generation);
        Assert.Equal(["b.example"], TestAgent.Held(_maps));

        await map.DeltaAsync(2, 1, "+ transport d.example smtp:[192.0.2.4]:25\n+ relay_domains d.example OK\n+ relay_recipients @d.example OK\n");
        await map.DeltaAsync(3, 2, chain == "corrupt"
            ? "- relay_domains c.example\n+ nosuch b.example x\n"
            : "- relay_domains c.example\n- relay_recipients @c.example\n- transport c.example\n+ transport b.example smtp:[192.0.2.2]:25\n");
        var compaction = await map.SnapshotAsync(3, new Dictionary<string, string>
        {
            ["transport"] = "a.example smtp:[192.0.2.1]:25\n.a.example smtp:[192.0.2.1]:25\nb.example smtp:[192.0.2.2]:25\nd.example smtp:[192.0.2.4]:25\n",
            ["relay_domains"] = "a.example OK\nb.example OK\nd.example OK\n",
            ["relay_recipients"] = "@a.example OK\n@b.example OK\n@d.example OK\n",
            ["message_size_limits"] = "a.example 10485760\n",
            ["passwd"] = "alice@a.example:{BLF-CRYPT}$2a$10$x::::::\n",
        }, compaction: true);
        var last = await map.DeltaAsync(4, 3, "+ transport a.example smtp:[192.0.2.11]:25\n+ transport .a.example smtp:[192.0.2.11]:25\n", new Dictionary<string, string>
        {
            ["passwd"] = "alice@a.example:{BLF-CRYPT}$2a$10$y::::::\n",
        });
        if (chain == "altered")
        {
            await map.Container.GetBlobClient($"{HandMap.Folder(3)}/delta").UploadAsync(BinaryData.FromString("- relay_domains a.example\n"), overwrite: true);
        }
        if (chain == "gap")
        {
            await map.Container.GetBlobClient($"{HandMap.Folder(2)}/manifest.json").DeleteAsync();
        }
        await map.PointAsync(4, last, 3, compaction);

        var result = await worker.PollOnceAsync(default);

        Assert.Equal(4, result?.Generation);
        Assert.Equal(4, applier.AppliedGeneration);
        Assert.Contains(logs.Lines, l => l.Contains(path, StringComparison.Ordinal));
        Assert.Equal(chain != "intact", logs.Lines.Any(l => l.StartsWith("Warning: Cannot follow the relay map's deltas", StringComparison.Ordinal)));
        Assert.Equal("smtp:[192.0.2.11]:25", await QueryAsync("transport", "a.example"));
        Assert.Equal("smtp:[192.0.2.11]:25", await QueryAsync("transport", ".a.example"));
        Assert.Equal("smtp:[192.0.2.2]:25", await QueryAsync("transport", "b.example"));
        Assert.Null(await QueryAsync("transport", "c.example"));
        Assert.Null(await QueryAsync("relay_domains", "c.example"));
        Assert.Null(await QueryAsync("relay_recipients", "@c.example"));
        Assert.Equal("OK", await QueryAsync("relay_domains", "d.example"));
        Assert.Equal("10485760", await QueryAsync("message_size_limits", "a.example"));
        Assert.Equal("alice@a.example:{BLF-CRYPT}$2a$10$y::::::\n", await File.ReadAllTextAsync(Path.Combine(_maps, "passwd")));
        Assert.Empty(TestAgent.Held(_maps));
        Assert.False(File.Exists(Path.Combine(_maps, "release.json")));
        Assert.Empty(Directory.GetDirectories(_maps));
    }

    [Fact]
    public async Task AnAgentWithNothingAppliedStartsFromTheSnapshotThePointerNames()
    {
        var prefix = $"d{Guid.NewGuid():N}"[..12];
        var map = new HandMap(prefix);
        await map.SnapshotAsync(1, new Dictionary<string, string> { ["transport"] = "old.example smtp:[192.0.2.1]:25\n", ["relay_domains"] = "old.example OK\n" });
        var compaction = await map.SnapshotAsync(5, new Dictionary<string, string> { ["transport"] = "new.example smtp:[192.0.2.5]:25\n", ["relay_domains"] = "new.example OK\n" }, compaction: true);
        await map.DeltaAsync(5, 1, "- relay_domains old.example\n- transport old.example\n+ transport new.example smtp:[192.0.2.5]:25\n+ relay_domains new.example OK\n");
        var last = await map.DeltaAsync(7, 5, "+ transport new.example smtp:[192.0.2.7]:25\n");
        await map.PointAsync(7, last, 5, compaction);
        var logs = new CapturingLogs();
        var (worker, _) = TestAgent.Create(await OptionsAsync(prefix), logs: logs);

        Assert.Equal(7, (await worker.PollOnceAsync(default))?.Generation);

        Assert.Contains(logs.Lines, l => l.Contains("Applying snapshot 5 and 1 deltas up to generation 7 (nothing applied on this relay)", StringComparison.Ordinal));
        Assert.Equal("smtp:[192.0.2.7]:25", await QueryAsync("transport", "new.example"));
        Assert.Null(await QueryAsync("relay_domains", "old.example"));
    }

    [Fact]
    public async Task AnAgentUpgradedFromCdbTablesAppliesThePointersSnapshotAgain()
    {
        var prefix = $"d{Guid.NewGuid():N}"[..12];
        var map = new HandMap(prefix);
        var snapshot = await map.SnapshotAsync(4, new Dictionary<string, string> { ["transport"] = "a.example smtp:[192.0.2.1]:25\n", ["relay_domains"] = "a.example OK\n" });
        await map.PointAsync(4, snapshot, 4, snapshot);
        // What a cdb-era agent left: generation 4 applied, its source files and cdb tables, no lmdb table.
        await File.WriteAllTextAsync(Path.Combine(_maps, "applied.json"), """{"Generation":4,"Held":[]}""");
        await File.WriteAllTextAsync(Path.Combine(_maps, "transport"), "a.example smtp:[192.0.2.1]:25\n");
        var (worker, applier) = TestAgent.Create(await OptionsAsync(prefix));
        Assert.Equal(0, applier.AppliedGeneration);

        Assert.Equal(4, (await worker.PollOnceAsync(default))?.Generation);

        Assert.Equal("smtp:[192.0.2.1]:25", await QueryAsync("transport", "a.example"));
        Assert.Equal(4, applier.AppliedGeneration);
    }

    private async Task<AgentOptions> OptionsAsync(string prefix)
    {
        // A Postfix configuration for postmap alone; no Postfix runs (reload and flush are no-ops).
        var config = Directory.CreateDirectory(_maps + "-config").FullName;
        await File.WriteAllTextAsync(Path.Combine(config, "main.cf"), "myhostname = relay.test\n");
        return new AgentOptions { RelayId = prefix, Prefix = prefix, MapDirectory = _maps, PostfixConfigDirectory = config, Postfix = "/bin/true", Postqueue = "/bin/true" };
    }

    private async Task<string?> QueryAsync(string table, string key)
    {
        using var process = Process.Start(new ProcessStartInfo("postmap", ["-c", _maps + "-config", "-q", key, $"lmdb:{Path.Combine(_maps, table)}"]) { RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output.TrimEnd('\n') : null;
    }
}
