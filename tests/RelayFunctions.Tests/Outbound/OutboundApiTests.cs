using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Outbound;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Outbound;

/// <summary>Outbound accounts through the API: the three types, their logins, passwords, filters and options, scoped to the caller.</summary>
public sealed class OutboundApiTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public OutboundApiTests(AppFactory app) => _app = app;

    private async Task<(HttpClient Client, string Domain)> VerifiedAsync(string account, string level = "standard")
    {
        var client = await _app.NewAccountAsync(account, level);
        var domain = $"{account}-{Guid.NewGuid().ToString("N")[..6]}.example";
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync(account, domain);
        return (client, domain);
    }

    private async Task<Dictionary<string, string>> MapAsync()
    {
        var (files, _) = await _app.Services.GetRequiredService<RelayMapBuilder>().BuildAsync(default);
        return files.ToDictionary(f => f.Name, f => System.Text.Encoding.UTF8.GetString(f.Content));
    }

    [Fact]
    public async Task TheThreeTypesHaveTheirLoginsAndTheirTables()
    {
        var (client, domain) = await VerifiedAsync("out-types");
        var single = await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"Alice@{domain}", password = "secret1" })).ReadViewAsync<OutboundAccountView>();
        Assert.Equal($"alice@{domain}", single.Login);
        Assert.Equal(OutboundType.SingleAddress, single.Type);
        var any = await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "any-address", domain, password = "secret2", allowSubdomains = true });
        Assert.Equal(HttpStatusCode.Created, any.StatusCode);
        Assert.Equal($"/api/outbound-accounts/%40{domain}", any.Headers.Location!.OriginalString);
        Assert.Equal($"@{domain}", (await any.ReadViewAsync<OutboundAccountView>()).Login);
        var server = await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "mail-server", domain, password = "secret3", ipv4Filter = "198.51.100.0/24" })).ReadViewAsync<OutboundAccountView>();
        Assert.Equal($"mailserver@{domain}", server.Login);

        var list = await (await client.GetAsync("/api/outbound-accounts")).ReadViewAsync<OutboundAccountList>();
        Assert.Equal(3, list.Accounts.Count);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/outbound-accounts/@{domain}")).StatusCode);

        var map = await MapAsync();
        Assert.Contains($"alice@{domain} @{domain},alice@{domain}\n", map["sender_logins"]);
        Assert.Contains($"@{domain} @{domain}\n", map["sender_logins"]);
        Assert.Contains($"\\.{domain.Replace(".", "\\.")}$/i @{domain}\n", map["sender_logins_sub.pcre"]);
        Assert.Contains($"mailserver@{domain} OK\n", map["sasl_access"]);
        Assert.Contains($"mailserver@{domain}:{{BLF-CRYPT}}$2a$10$", map["passwd"]);
        Assert.Contains("::::::allow_nets=198.51.100.0/24\n", map["passwd"]);
    }

    [Fact]
    public async Task PasswordsAreHashedForDovecotAndNeverShownButAGeneratedOneOnce()
    {
        var (client, domain) = await VerifiedAsync("out-passwords");
        var created = await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"gen@{domain}", generate = true })).ReadViewAsync<OutboundAccountView>();
        var generated = created.GeneratedPassword!;
        Assert.Equal(24, generated.Length);
        var read = await (await client.GetAsync($"/api/outbound-accounts/gen@{domain}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(generated, read);
        Assert.DoesNotContain("$2a$", read);
        Assert.DoesNotContain("BLF-CRYPT", read);

        var passwd = (await MapAsync())["passwd"].Split('\n').Single(l => l.StartsWith($"gen@{domain}:", StringComparison.Ordinal));
        var hash = passwd.Split(':')[1];
        Assert.StartsWith("{BLF-CRYPT}$2a$10$", hash);
        Assert.True(BCrypt.Net.BCrypt.Verify(generated, hash["{BLF-CRYPT}".Length..]));

        var changed = await client.PutAsJsonAsync($"/api/outbound-accounts/gen@{domain}/password", new { password = "a new one" });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Null((await changed.ReadViewAsync<OutboundAccountView>()).GeneratedPassword);
        var newHash = (await MapAsync())["passwd"].Split('\n').Single(l => l.StartsWith($"gen@{domain}:", StringComparison.Ordinal)).Split(':')[1];
        Assert.True(BCrypt.Net.BCrypt.Verify("a new one", newHash["{BLF-CRYPT}".Length..]));
        Assert.False(BCrypt.Net.BCrypt.Verify(generated, newHash["{BLF-CRYPT}".Length..]));
    }

    [Fact]
    public async Task BadRequestsNameTheirFields()
    {
        var (client, domain) = await VerifiedAsync("out-invalid", level: "personal");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "courier", domain, password = "12345" })).AssertFieldErrorsAsync("type");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"a@{domain}", password = "1234" })).AssertFieldErrorsAsync("password");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"a@{domain}", password = new string('x', 73) })).AssertFieldErrorsAsync("password");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"a@{domain}" })).AssertFieldErrorsAsync("password");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"a@{domain}", password = "12345", generate = true })).AssertFieldErrorsAsync("password");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "any-address", domain, password = "12345", allowIdentities = true })).AssertFieldErrorsAsync("allowIdentities");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "mail-server", domain, password = "12345" })).AssertFieldErrorsAsync("ipv4Filter");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "mail-server", domain, password = "12345", ipv4Filter = "127.0.0.1", ipv6Filter = "::1" })).AssertFieldErrorsAsync("ipv4Filter");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"a@{domain}", password = "12345", ipv4Filter = "2001:db8::1" })).AssertFieldErrorsAsync("ipv4Filter");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"a@{domain}", password = "12345", ipv6Filter = "not a host!" })).AssertFieldErrorsAsync("ipv6Filter");
        // An alternate filter needs Standard or higher, and says so.
        var problem = await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"a@{domain}", password = "12345", ipv4Filter = "198.51.100.1", alternateIpv4Filter = "203.0.113.0/24" }))
            .AssertFieldErrorsAsync("alternateIpv4Filter");
        Assert.Contains("standard", problem.GetProperty("errors").GetProperty("alternateIpv4Filter")[0].GetString());
        // Only verified domains of the caller's own.
        (await client.PostAsJsonAsync("/api/domains", new { name = $"pending.{domain}", mode = "hold" })).EnsureSuccessStatusCode();
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "any-address", domain = $"pending.{domain}", password = "12345" })).AssertFieldErrorsAsync("domain");
        await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = "a@gmail.com", password = "12345" })).AssertFieldErrorsAsync("address");
        Assert.Empty((await (await client.GetAsync("/api/outbound-accounts")).ReadViewAsync<OutboundAccountList>()).Accounts);

        // The messages as they always were: a type that is none is required, and every bad entry of a list is named.
        problem = await (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "courier", domain, password = "12345" })).AssertFieldErrorsAsync("type");
        Assert.Equal("Required: one of single-address, any-address, mail-server.", problem.GetProperty("errors").GetProperty("type")[0].GetString());
        await (await client.SendAsync(HttpMethod.Post, "/api/outbound-accounts", $"{{\"type\":\"single-address\",\"address\":\"a@{domain}\",\"password\":\"12345\",\"bccRecipients\":[1,\"x@{domain}\",null]}}"))
            .AssertFieldErrorsAsync("bccRecipients[0]", "bccRecipients[2]");
        var tooLong = "[" + string.Join(",", Enumerable.Repeat("1", 1000)) + "]";
        await (await client.SendAsync(HttpMethod.Post, "/api/outbound-accounts", $"{{\"type\":\"single-address\",\"address\":\"a@{domain}\",\"password\":\"12345\",\"mirrors\":{tooLong}}}"))
            .AssertFieldErrorsAsync("mirrors");
    }

    [Fact]
    public async Task AnotherAccountCanNeitherSeeNorTakeNorChangeALogin()
    {
        var (owner, domain) = await VerifiedAsync("out-owner");
        var intruder = await _app.NewAccountAsync("out-intruder");
        (await owner.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"boss@{domain}", password = "secret" })).EnsureSuccessStatusCode();

        Assert.Empty((await (await intruder.GetAsync("/api/outbound-accounts")).ReadViewAsync<OutboundAccountList>()).Accounts);
        await (await intruder.GetAsync($"/api/outbound-accounts/boss@{domain}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await intruder.PutAsJsonAsync($"/api/outbound-accounts/boss@{domain}/password", new { password = "taken!" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await intruder.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/boss@{domain}", new { enabled = false })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await intruder.DeleteAsync($"/api/outbound-accounts/boss@{domain}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await intruder.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"boss@{domain}", password = "taken!" })).AssertFieldErrorsAsync("address");
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/outbound-accounts/boss@{domain}")).StatusCode);
    }

    [Fact]
    public async Task DisablingFilteringAndDeletingChangeTheTables()
    {
        var (client, domain) = await VerifiedAsync("out-lifecycle");
        var created = await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"life@{domain}", password = "secret", allowIdentities = true });
        var etag = created.Headers.ETag!.ToString();
        var patched = await client.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/life@{domain}",
            new { enabled = false, ipv4Filter = "198.51.100.7", ipv6Filter = "::1" }, ifMatch: etag);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        await (await client.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/life@{domain}", new { enabled = true }, ifMatch: etag))
            .AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        var map = await MapAsync();
        Assert.Contains($"life@{domain} REJECT 5.7.1 Account disabled\n", map["sasl_access"]);
        Assert.Contains("allow_nets=198.51.100.7/32\n", map["passwd"].Split('\n').Single(l => l.StartsWith($"life@{domain}:", StringComparison.Ordinal)) + "\n");
        Assert.Contains($"@{domain} life@{domain}\n", map["sender_logins"]);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/outbound-accounts/life@{domain}")).StatusCode);
        Assert.DoesNotContain($"life@{domain}", string.Join('\n', (await MapAsync()).Values));
        // The login is free again.
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "single-address", address = $"life@{domain}", password = "again" })).StatusCode);
    }

    [Fact]
    public async Task AnAccountOfADomainThatIsNotVerifiedIsNotPublished()
    {
        var (client, domain) = await VerifiedAsync("out-unpublished");
        (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "any-address", domain, password = "secret" })).EnsureSuccessStatusCode();
        Assert.Contains($"@{domain}", (await MapAsync())["passwd"]);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/domains/{domain}")).StatusCode);
        Assert.DoesNotContain($"@{domain}", (await MapAsync())["passwd"]);
    }
}
