using System.Diagnostics;
using System.Text.Json;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// The relay's egress rules (relay-agent/deploy/nftables/relay-egress.nft), loaded into a network namespace of the test's
/// own: a connection from user postfix to a private or metadata address hits the reject rule, while loopback, public
/// addresses, DNS, and every other user (the agent reaching the metadata service for its identity) pass. Which rule a
/// connection met is read off the rules' counters.
/// </summary>
public sealed class RelayEgressTests : IDisposable
{
    private readonly string _namespace = "relay-egress-" + Guid.NewGuid().ToString("N")[..8];

    public RelayEgressTests()
    {
        Run("ip", "netns", "add", _namespace);
        Run("ip", "-n", _namespace, "link", "set", "lo", "up");
        foreach (var address in new[] { "10.99.0.1/32", "169.254.169.254/32", "11.0.0.1/32", "fd00::1/128" })
        {
            Run("ip", "-n", _namespace, "addr", "add", address, "dev", "lo");
        }
        Run("ip", "netns", "exec", _namespace, "nft", "-f", Path.Combine(RepoRoot.Path, "relay-agent", "deploy", "nftables", "relay-egress.nft"));
    }

    [Theory]
    [InlineData("postfix", "10.99.0.1", 2525, true)]
    [InlineData("postfix", "169.254.169.254", 80, true)]
    [InlineData("postfix", "fd00::1", 25, true)]
    [InlineData("postfix", "11.0.0.1", 25, false)]
    [InlineData("postfix", "127.0.0.1", 9, false)]
    [InlineData("postfix", "10.99.0.1", 53, false)]
    [InlineData("root", "10.99.0.1", 2525, false)]
    [InlineData("root", "169.254.169.254", 80, false)]
    public void PostfixCannotConnectToSpecialPurposeAddresses(string user, string address, int port, bool rejected)
    {
        var before = Rejected();
        var target = address.Contains(':') ? $"[{address}]" : address;
        // bash's /dev/tcp opens the connection; refused either way (no listener, or the rule's reset): the counter tells which.
        Run(allowFailure: true, "ip", "netns", "exec", _namespace, "runuser", "-u", user, "--", "timeout", "5", "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}");
        Assert.True(rejected == Rejected() > before, $"{user} → {target}:{port}: expected {(rejected ? "rejected" : "let through")}");
    }

    [Fact]
    public void TheRulesLoadTwiceWithoutDuplicating()
    {
        Run("ip", "netns", "exec", _namespace, "nft", "-f", Path.Combine(RepoRoot.Path, "relay-agent", "deploy", "nftables", "relay-egress.nft"));
        var rules = Run("ip", "netns", "exec", _namespace, "nft", "list", "chain", "inet", "relay_egress", "output");
        Assert.Equal(2, rules.Split('\n').Count(l => l.Contains("reject with tcp reset", StringComparison.Ordinal)));
    }

    public void Dispose() => Run(allowFailure: true, "ip", "netns", "del", _namespace);

    /// <summary>Packets the reject rules have met so far.</summary>
    private long Rejected()
    {
        var json = JsonDocument.Parse(Run("ip", "netns", "exec", _namespace, "nft", "-j", "list", "chain", "inet", "relay_egress", "output")).RootElement;
        return json.GetProperty("nftables").EnumerateArray()
            .Where(e => e.TryGetProperty("rule", out _))
            .SelectMany(e => e.GetProperty("rule").GetProperty("expr").EnumerateArray())
            .Where(x => x.TryGetProperty("counter", out _))
            .Sum(x => x.GetProperty("counter").GetProperty("packets").GetInt64());
    }

    private static string Run(params string[] args) => Run(false, args);

    private static string Run(bool allowFailure, params string[] args)
    {
        var start = new ProcessStartInfo(args[0], args[1..]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(allowFailure || process.ExitCode == 0, $"{string.Join(' ', args)} failed ({process.ExitCode}): {stderr} (the egress tests need root, iproute2 and nftables: scripts/test.sh installs them)");
        return stdout.Result;
    }
}
