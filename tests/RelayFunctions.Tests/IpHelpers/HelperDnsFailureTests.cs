using System.Net;
using System.Net.Sockets;
using RelayFunctions.IpHelpers;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.IpHelpers;

/// <summary>When the DNS server cannot be reached or never answers, the domain is held with outcome failed and a 5-minute retry.</summary>
public sealed class HelperDnsFailureTests : IDisposable
{
    private readonly UdpClient _silent = new(new IPEndPoint(IPAddress.Loopback, 0));

    public void Dispose() => _silent.Dispose();

    [Fact]
    public async Task AnUnreachableDnsServerHoldsTheDomainAsFailedAndRetriesInFiveMinutes()
    {
        // Nothing listens on this port: queries are refused at once (ICMP port unreachable).
        await AssertFailedAsync(Azurite.FreePort(), "unreachable");
    }

    [Fact]
    public async Task ADnsServerThatNeverAnswersHoldsTheDomainAsFailed()
    {
        // A bound socket that reads nothing: every query times out.
        await AssertFailedAsync(((IPEndPoint)_silent.Client.LocalEndPoint!).Port, "silent");
    }

    private static async Task AssertFailedAsync(int dnsPort, string stem)
    {
        await using var app = new HelperApp([new("Dns:Servers:0", $"127.0.0.1:{dnsPort}")]);
        var (client, domain) = await app.NewDomainAsync(stem, mode: "redirect");
        await HelperApp.AttachAsync(client, domain, Knot.NewName("home"), 2525);

        await HelperApp.RoutingAsync(client, domain, "hold");
        var helper = await HelperApp.HelperAsync(client, domain);
        var outcome = helper.LastOutcome!;
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("Lookup failed", outcome.Reason);
        Assert.Equal(300, (helper.NextCheck - helper.LastCheck!.Value).TotalSeconds, 1.0);
    }
}
