using RelayAgent;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// The agent's Postfix commands name the instance they serve. Without <c>-c</c>, postmap reads /etc/postfix/main.cf, which a
/// machine whose system Postfix was never configured does not have (postmap: fatal: open /etc/postfix/main.cf), and on a
/// machine that has one it reads the wrong instance's settings.
/// </summary>
[Trait("Category", "Fast")]
public sealed class CommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("commands-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("/tmp/relayfunctions-postfix/some-instance")]
    [InlineData(null)]
    public async Task EveryPostfixCommandNamesTheInstanceItServes(string? instance)
    {
        var record = Path.Combine(_dir, "calls");
        var tool = Path.Combine(_dir, "tool");
        await File.WriteAllTextAsync(tool, $"#!/bin/sh\necho \"$(basename \"$0\") $*\" >>'{record}'\ncat >/dev/null\nexit 0\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tool, (UnixFileMode)0b111_101_101);
        }
        var table = Path.Combine(_dir, "transport");
        await File.WriteAllTextAsync(table + ".lmdb", "");
        var options = new AgentOptions { Postmap = tool, Postfix = tool, Postqueue = tool };
        if (instance is not null)
        {
            options.PostfixConfigDirectory = instance;
        }
        var commands = new Commands(options);

        await commands.PostmapAsync(table, default);
        await commands.PutAsync(table, ["a.example hold:"], default);
        await commands.DeleteAsync(table, ["a.example"], default);
        await commands.QueryAsync(table, ["a.example"], default);
        await commands.ReloadAsync(default);
        await commands.FlushDomainAsync("a.example", default);

        var calls = await File.ReadAllLinesAsync(record);
        Assert.Equal(6, calls.Length);
        Assert.All(calls, call => Assert.Contains($" -c {instance ?? "/etc/postfix"} ", call + " ", StringComparison.Ordinal));
    }
}
