using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Outbound;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Outbound;

/// <summary>Every login says whether the relays know it and, when they do not, why; and what it says is what the map publishes.</summary>
public sealed class LoginRelayStatusTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public LoginRelayStatusTests(AppFactory app) => _app = app;

    [Fact]
    public async Task ALoginWhoseDomainWasDeletedSaysItIsOffTheRelaysAndWhy()
    {
        var client = await _app.NewAccountAsync("relay-status");
        var domain = $"relay-status-{Guid.NewGuid().ToString("N")[..6]}.example";
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("relay-status", domain);
        var login = $"me@{domain}";
        var created = await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = login, password = "secret" })).ReadViewAsync<OutboundAccountView>();
        Assert.True(created.OnRelays);
        Assert.Null(created.OffRelaysReason);
        Assert.Contains(login, await PasswdAsync());

        (await client.DeleteAsync($"/api/domains/{domain}")).EnsureSuccessStatusCode();

        var one = await (await client.GetAsync($"/api/outbound-accounts/{login}")).ReadViewAsync<OutboundAccountView>();
        var listed = (await (await client.GetAsync("/api/outbound-accounts")).ReadViewAsync<OutboundAccountList>()).Accounts.Single();
        foreach (var view in new[] { one, listed })
        {
            Assert.True(view.Enabled);
            Assert.False(view.OnRelays);
            Assert.Contains($"its domain {domain} is no longer one of your mail domains", view.OffRelaysReason, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(login, await PasswdAsync());

        // Registered again but not yet proven: still off, and the reason says so.
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        var pending = await (await client.GetAsync($"/api/outbound-accounts/{login}")).ReadViewAsync<OutboundAccountView>();
        Assert.False(pending.OnRelays);
        Assert.Contains("is not verified (pending)", pending.OffRelaysReason, StringComparison.Ordinal);

        await _app.VerifyAsync("relay-status", domain);
        Assert.True((await (await client.GetAsync($"/api/outbound-accounts/{login}")).ReadViewAsync<OutboundAccountView>()).OnRelays);
        Assert.Contains(login, await PasswdAsync());
    }

    private async Task<string> PasswdAsync()
    {
        var files = await _app.Services.GetRequiredService<RelayMapBuilder>().OutboundFilesAsync(default);
        return System.Text.Encoding.UTF8.GetString(files.Single(f => f.Name == "passwd").Content);
    }
}
