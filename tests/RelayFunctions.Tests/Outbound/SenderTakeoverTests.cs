using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// Every field a tenant sets that ends up in a relay table, tried with another tenant's domain: none lets one account send
/// as, or receive for, a domain it has not verified. What the relays get is read from the map as published.
/// </summary>
public sealed class SenderTakeoverTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public SenderTakeoverTests(AppFactory app) => _app = app;

    private async Task<(HttpClient Client, string Domain)> VerifiedAsync(string account, string? level = null)
    {
        var client = await _app.NewAccountAsync(account, level ?? "standard");
        var domain = await AddVerifiedAsync(client, account);
        return (client, domain);
    }

    private async Task<string> AddVerifiedAsync(HttpClient client, string account)
    {
        var domain = $"{account}-{Guid.NewGuid().ToString("N")[..6]}.example";
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync(account, domain);
        return domain;
    }

    [Fact]
    public async Task ThePublishedPostmasterIsAlwaysAtOneOfTheAccountsVerifiedDomains()
    {
        var (client, domain) = await VerifiedAsync("pm-map");
        var second = await AddVerifiedAsync(client, "pm-map");
        var ops = _app.Operator();
        (await ops.PutAsJsonAsync("/api/admin/accounts/pm-map", new { serviceLevel = "standard", primaryEmail = "owner@pm-map.example", postmasterEmail = $"bounces@{second}" })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "mail-server", domain, password = "secret", ipv4Filter = "198.51.100.7" })).EnsureSuccessStatusCode();
        Assert.Equal($"bounces@{second}", (await PublishedAsync($"mailserver@{domain}")).GetProperty("postmaster").GetString());

        // The postmaster's domain is deleted: the relays rewrite into the login's own domain instead.
        (await client.DeleteAsync($"/api/domains/{second}")).EnsureSuccessStatusCode();
        Assert.Equal($"postmaster@{domain}", (await PublishedAsync($"mailserver@{domain}")).GetProperty("postmaster").GetString());

        // No postmaster address, and a primary address (operator-set) at a free-mail domain: not an envelope sender either.
        (await ops.PutAsJsonAsync("/api/admin/accounts/pm-map", new { serviceLevel = "standard", primaryEmail = "someone@gmail.com" })).EnsureSuccessStatusCode();
        Assert.Equal($"postmaster@{domain}", (await PublishedAsync($"mailserver@{domain}")).GetProperty("postmaster").GetString());

        // An address under a verified domain is the account's own as well.
        (await ops.PutAsJsonAsync("/api/admin/accounts/pm-map", new { serviceLevel = "standard", primaryEmail = "someone@gmail.com", postmasterEmail = $"bounces@mail.{domain}" })).EnsureSuccessStatusCode();
        Assert.Equal($"bounces@mail.{domain}", (await PublishedAsync($"mailserver@{domain}")).GetProperty("postmaster").GetString());

        // A primary address at a verified domain is used.
        (await ops.PutAsJsonAsync("/api/admin/accounts/pm-map", new { serviceLevel = "standard", primaryEmail = $"owner@{domain}" })).EnsureSuccessStatusCode();
        Assert.Equal($"owner@{domain}", (await PublishedAsync($"mailserver@{domain}")).GetProperty("postmaster").GetString());
    }

    [Fact]
    public async Task NoLoginIdentityCopyOrMirrorNamesAnotherTenantsDomainOnTheRelays()
    {
        var (_, victimDomain) = await VerifiedAsync("takeover-victim");
        var (mallory, own) = await VerifiedAsync("takeover-mallory", "enterprise");
        var before = await TablesAsync();

        // Logins for the victim's domain, of every type, and with the victim's domain as the mail server's name: refused.
        foreach (var body in new object[]
        {
            new { type = "single-address", address = $"ceo@{victimDomain}", password = "secret" },
            new { type = "any-address", domain = victimDomain, password = "secret" },
            new { type = "mail-server", domain = victimDomain, password = "secret", ipv4Filter = "198.51.100.8" },
            new { type = "single-address", address = $"ceo@sub.{victimDomain}", password = "secret" },
        })
        {
            var refused = await mallory.PostAsJsonAsync("/api/outbound-accounts", body);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        }

        // Its own login with identities and subdomains, BCC copies to the victim's addresses: accepted (a copy is mail to
        // the victim, sent from the relay's own bounce address); a mirror in the victim's domain: refused.
        var login = $"me@{own}";
        (await mallory.PostAsJsonAsync("/api/outbound-accounts", new
        {
            type = "single-address",
            address = login,
            password = "secret",
            allowIdentities = true,
            allowSubdomains = true,
            bccRecipients = new[] { $"postmaster@{victimDomain}" },
        })).EnsureSuccessStatusCode();
        await (await mallory.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/{login}", new { mirrors = new[] { $"inbox@{victimDomain}" } }))
            .AssertFieldErrorsAsync("mirrors[0]");
        await (await mallory.PatchAsJsonAsync("/api/account", new { postmasterEmail = $"postmaster@{victimDomain}" })).AssertFieldErrorsAsync("postmasterEmail");

        var after = await TablesAsync();
        foreach (var table in new[] { "sender_logins", "sender_logins_sub.pcre", "sasl_access", "passwd" })
        {
            Assert.DoesNotContain(Lines(after[table]), l => l.Contains(victimDomain, StringComparison.OrdinalIgnoreCase));
        }
        foreach (var table in new[] { "relay_domains", "transport", "relay_recipients" })
        {
            // The victim's routing is what it was: nothing of mallory's reaches its keys.
            Assert.Equal(Lines(before[table]).Where(l => l.Contains(victimDomain, StringComparison.OrdinalIgnoreCase)),
                Lines(after[table]).Where(l => l.Contains(victimDomain, StringComparison.OrdinalIgnoreCase)));
        }
        var line = await PublishedAsync(login);
        Assert.Equal($"postmaster@{own}", line.GetProperty("postmaster").GetString());
        Assert.Equal([own], line.GetProperty("domains").EnumerateArray().Select(d => d.GetString()));
        Assert.Empty(line.GetProperty("mirrors").EnumerateArray());
        Assert.True(Lines(after["sender_logins"]).Any(l => l.StartsWith(login + " ", StringComparison.Ordinal)), after["sender_logins"]);
    }

    private async Task<Dictionary<string, string>> TablesAsync()
    {
        var (files, _) = await _app.Services.GetRequiredService<RelayMapBuilder>().BuildAsync(default);
        return files.ToDictionary(f => f.Name, f => Encoding.UTF8.GetString(f.Content), StringComparer.Ordinal);
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private async Task<JsonElement> PublishedAsync(string login)
    {
        var tables = await TablesAsync();
        return Lines(tables["outbound_accounts"]).Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("login").GetString() == login);
    }
}
