using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Outbound;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// Host-name source filters are followed in DNS by the control plane (Knot, records changed with knsupdate): the relay's
/// allow_nets follow the name within its TTL, a name that does not exist lets nobody in, and the IPv6 filter reads AAAA.
/// </summary>
public sealed class OutboundFilterTests : IClassFixture<HelperApp>
{
    private readonly HelperApp _app;

    public OutboundFilterTests(HelperApp app) => _app = app;

    private async Task<string> AllowNetsAsync(string login)
    {
        var (files, _) = await _app.Services.GetRequiredService<RelayMapBuilder>().BuildAsync(default);
        var passwd = System.Text.Encoding.UTF8.GetString(files.Single(f => f.Name == "passwd").Content);
        var line = passwd.Split('\n').Single(l => l.StartsWith(login + ":", StringComparison.Ordinal));
        var at = line.IndexOf("allow_nets=", StringComparison.Ordinal);
        return at < 0 ? "(anywhere)" : line[(at + "allow_nets=".Length)..];
    }

    private Task<string> NetsAsync(string login, string expected) =>
        Eventually.WaitAsync(() => AllowNetsAsync(login), n => n == expected, TimeSpan.FromSeconds(20), $"allow_nets of {login} to be {expected}");

    [Fact]
    public async Task AHostNameFilterFollowsItsRecordsWithinTheirTtl()
    {
        var client = await _app.NewAccountAsync("filtered");
        var domain = $"filtered-{Guid.NewGuid().ToString("N")[..6]}.example";
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("filtered", domain);
        var v4 = Knot.NewName("office");
        var v6 = Knot.NewName("office6");
        await Knot.SetAsync(v4, 1, "198.51.100.10", "198.51.100.11");
        await Knot.SetAsync(v6, 1, "2001:db8::10");
        var login = $"dyn@{domain}";
        (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = login, password = "secret", ipv4Filter = v4, ipv6Filter = v6 })).EnsureSuccessStatusCode();

        await NetsAsync(login, "198.51.100.10/32,198.51.100.11/32,2001:db8::10/128");
        var view = await (await client.GetAsync($"/api/outbound-accounts/{login}")).ReadViewAsync<OutboundAccountView>();
        Assert.Equal(["198.51.100.10", "198.51.100.11"], view.ResolvedAddresses["ipv4Filter"].Order());
        Assert.NotNull(view.NextLookup);

        // The dynamic name moves: the relay lets the new address in, and the old one no longer.
        await Knot.SetAsync(v4, 1, "203.0.113.77");
        await NetsAsync(login, "203.0.113.77/32,2001:db8::10/128");

        // Gone from DNS: nobody over IPv4.
        await Knot.DeleteAsync(v4);
        await NetsAsync(login, "2001:db8::10/128");
    }
}
