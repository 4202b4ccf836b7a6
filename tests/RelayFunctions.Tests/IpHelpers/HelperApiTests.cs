using System.Net;
using System.Net.Http.Json;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.IpHelpers;

/// <summary>The helper routes' rules; the app here runs no checks of its own (no ticks), so state only changes through the API.</summary>
public sealed class HelperApiTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public HelperApiTests(AppFactory app) => _app = app;

    private async Task<(HttpClient, string)> DomainAsync(string account, string mode = "hold")
    {
        var client = await _app.NewAccountAsync(account);
        var domain = $"{account}-{Guid.NewGuid().ToString("N")[..8]}.example";
        object body = mode == "redirect" ? new { name = domain, mode, destinationHost = "mx.example.net", destinationPort = 25 } : new { name = domain, mode };
        (await client.PostAsJsonAsync("/api/domains", body)).EnsureSuccessStatusCode();
        return (client, domain);
    }

    [Fact]
    public async Task AHelperIsCreatedReplacedReadListedAndRemoved()
    {
        var (client, domain) = await DomainAsync("helper-crud");
        var created = await client.PutAsJsonAsync($"/api/domains/{domain}/ip-helper", new { destinationHost = "Home.DynDNS.example", destinationPort = 2525, alertOnChange = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadViewAsync<HelperView>();
        Assert.Equal("home.dyndns.example", body.DestinationHost);
        Assert.True(body.AlertOnChange);
        Assert.False(body.AllowIpv6);
        Assert.True(body.CheckRequested);
        Assert.Null(body.LastOutcome);
        Assert.Equal(DomainMode.Hold, body.Mode);

        var replaced = await client.SendAsync(HttpMethod.Put, $"/api/domains/{domain}/ip-helper",
            new { destinationHost = "other.dyndns.example", destinationPort = 25 }, ifMatch: created.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        await (await client.SendAsync(HttpMethod.Put, $"/api/domains/{domain}/ip-helper",
            new { destinationHost = "third.dyndns.example", destinationPort = 25 }, ifMatch: created.Headers.ETag!.ToString()))
            .AssertProblemAsync(HttpStatusCode.PreconditionFailed);

        var list = await (await client.GetAsync("/api/ip-helpers")).ReadViewAsync<HelperList>();
        var listed = Assert.Single(list.Helpers);
        Assert.Equal("other.dyndns.example", listed.DestinationHost);
        Assert.Equal(domain, listed.Domain);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/domains/{domain}/ip-helper")).StatusCode);
        await (await client.GetAsync($"/api/domains/{domain}/ip-helper")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(DomainMode.Hold, (await HelperApp.DomainAsync(client, domain)).Mode);
    }

    [Fact]
    public async Task OnlyRedirectAndHoldDomainsTakeAHelper()
    {
        var (client, domain) = await DomainAsync("helper-backup", "backup-mx");
        var problem = await (await client.PutAsJsonAsync($"/api/domains/{domain}/ip-helper", new { destinationHost = "home.example.net", destinationPort = 25 }))
            .AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("redirect or hold", problem.GetProperty("detail").GetString());
        await (await client.PutAsJsonAsync("/api/domains/missing.example/ip-helper", new { destinationHost = "home.example.net", destinationPort = 25 }))
            .AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("backup-mx")]
    public async Task MovingTheDomainToAnotherModeRemovesItsHelper(string mode)
    {
        var (client, domain) = await DomainAsync("helper-move", "redirect");
        (await client.PutAsJsonAsync($"/api/domains/{domain}/ip-helper", new { destinationHost = "home.example.net", destinationPort = 25 })).EnsureSuccessStatusCode();
        (await client.SendAsync(HttpMethod.Patch, $"/api/domains/{domain}", new { mode = "hold" })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/domains/{domain}/ip-helper")).StatusCode);

        (await client.SendAsync(HttpMethod.Patch, $"/api/domains/{domain}", new { mode })).EnsureSuccessStatusCode();
        await (await client.GetAsync($"/api/domains/{domain}/ip-helper")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletingTheDomainRemovesItsHelper()
    {
        var (client, domain) = await DomainAsync("helper-delete");
        (await client.PutAsJsonAsync($"/api/domains/{domain}/ip-helper", new { destinationHost = "home.example.net", destinationPort = 25 })).EnsureSuccessStatusCode();
        (await client.DeleteAsync($"/api/domains/{domain}")).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await (await client.GetAsync($"/api/domains/{domain}/ip-helper")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty((await (await client.GetAsync("/api/ip-helpers")).ReadViewAsync<HelperList>()).Helpers);
    }

    [Fact]
    public async Task HelperSettingsAreValidatedPerField()
    {
        var (client, domain) = await DomainAsync("helper-valid");
        var uri = $"/api/domains/{domain}/ip-helper";
        await (await client.PutAsJsonAsync(uri, new { })).AssertFieldErrorsAsync("destinationHost", "destinationPort");
        await (await client.PutAsJsonAsync(uri, new { destinationHost = "1.2.3.4", destinationPort = 0 })).AssertFieldErrorsAsync("destinationHost", "destinationPort");
        await (await client.PutAsJsonAsync(uri, new { destinationHost = "localhost", destinationPort = 25 })).AssertFieldErrorsAsync("destinationHost");
        await (await client.PutAsJsonAsync(uri, new { destinationHost = "home.example.net", destinationPort = 25, alertOnChange = "yes", extra = 1 }))
            .AssertFieldErrorsAsync("alertOnChange", "extra");
        await (await client.GetAsync($"{uri}/history?limit=0&cursor=abc")).AssertFieldErrorsAsync("limit", "cursor");
        await (await client.GetAsync(uri)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AnotherAccountsHelperIsInvisibleOnEveryRoute()
    {
        var (owner, domain) = await DomainAsync("helper-owner");
        var created = await owner.PutAsJsonAsync($"/api/domains/{domain}/ip-helper", new { destinationHost = "home.example.net", destinationPort = 25 });
        var etag = created.Headers.ETag!.ToString();
        var intruder = await _app.NewAccountAsync("helper-intruder");
        var uri = $"/api/domains/{domain}/ip-helper";

        await (await intruder.GetAsync(uri)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await intruder.SendAsync(HttpMethod.Put, uri, new { destinationHost = "evil.example.net", destinationPort = 25 }, ifMatch: etag))
            .AssertProblemAsync(HttpStatusCode.NotFound);
        await (await intruder.SendAsync(HttpMethod.Delete, uri, ifMatch: etag)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await intruder.PostAsync($"{uri}/check-now", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await intruder.GetAsync($"{uri}/history")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty((await (await intruder.GetAsync("/api/ip-helpers")).ReadViewAsync<HelperList>()).Helpers);

        var after = await owner.GetAsync(uri);
        Assert.Equal(etag, after.Headers.ETag!.ToString());
        Assert.Equal("home.example.net", (await after.ReadViewAsync<HelperView>()).DestinationHost);
    }
}
