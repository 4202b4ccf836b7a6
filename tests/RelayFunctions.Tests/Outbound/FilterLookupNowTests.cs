using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// A login with a host-name filter works seconds after the API answers: its first lookup is asked for at once, not at the
/// next tick of the scheduler (which, here, never comes: the timer is set to midnight on 1 January).
/// </summary>
public sealed class FilterLookupNowTests : IAsyncLifetime
{
    private readonly HelperApp _app = new([new("Helpers:Schedule", "0 0 0 1 1 *")]);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task ANewLoginsHostNameFilterAndAChangedOneAreLookedUpAtOnce()
    {
        var client = await _app.NewAccountAsync("lookup-now");
        var domain = $"lookup-now-{Guid.NewGuid().ToString("N")[..6]}.example";
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("lookup-now", domain);
        var office = Knot.NewName("office");
        var home = Knot.NewName("home");
        await Knot.SetAsync(office, 300, "198.51.100.20");
        await Knot.SetAsync(home, 300, "198.51.100.30");
        var login = $"dyn@{domain}";

        (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = login, password = "secret", ipv4Filter = office })).EnsureSuccessStatusCode();
        await NetsAsync(login, "198.51.100.20/32,::/0");

        (await client.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/{login}", new { ipv4Filter = home })).EnsureSuccessStatusCode();
        await NetsAsync(login, "198.51.100.30/32,::/0");
    }

    private Task<string> NetsAsync(string login, string expected) =>
        Eventually.WaitAsync(
            async () =>
            {
                var files = await _app.Services.GetRequiredService<RelayMapBuilder>().OutboundFilesAsync(default);
                var passwd = System.Text.Encoding.UTF8.GetString(files.Single(f => f.Name == "passwd").Content);
                var line = passwd.Split('\n').Single(l => l.StartsWith(login + ":", StringComparison.Ordinal));
                return line[(line.IndexOf("allow_nets=", StringComparison.Ordinal) + "allow_nets=".Length)..];
            },
            n => n == expected, TimeSpan.FromSeconds(30), $"allow_nets of {login} to be {expected}");
}
