using System.Net;
using System.Net.Http.Json;
using RelayFunctions.Accounts;
using RelayFunctions.Domains;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Api;

/// <summary>Every account route is scoped to the caller: another account's domain is invisible and untouched.</summary>
public sealed class TenancyTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public TenancyTests(AppFactory app) => _app = app;

    public static TheoryData<string, string, string?> RoutesOnAnotherAccountsDomain => new()
    {
        { "GET", "/api/domains/{name}", null },
        { "PATCH", "/api/domains/{name}", """{"mode":"backup-mx"}""" },
        { "DELETE", "/api/domains/{name}", null },
    };

    [Theory]
    [MemberData(nameof(RoutesOnAnotherAccountsDomain))]
    public async Task AnotherAccountsDomainAnswers404AndIsNeverChanged(string method, string route, string? body)
    {
        var owner = await _app.NewAccountAsync("owner");
        var intruder = await _app.NewAccountAsync("intruder");
        var name = $"private-{Guid.NewGuid():N}.example"[..40] + ".example";
        var created = await owner.PostAsJsonAsync("/api/domains", new { name, mode = "redirect", destinationHost = "mx.owner.example", destinationPort = 25 });
        var etag = created.Headers.ETag!.ToString();

        var uri = route.Replace("{name}", name);
        await (await intruder.SendAsync(new HttpMethod(method), uri, body)).AssertProblemAsync(HttpStatusCode.NotFound);
        // Even with the owner's valid ETag in hand.
        await (await intruder.SendAsync(new HttpMethod(method), uri, body, ifMatch: etag)).AssertProblemAsync(HttpStatusCode.NotFound);

        var list = await (await intruder.GetAsync("/api/domains")).ReadViewAsync<DomainList>();
        Assert.DoesNotContain(list.Domains, d => d.Name == name);

        var after = await owner.GetAsync($"/api/domains/{name}");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(etag, after.Headers.ETag!.ToString());
        Assert.Equal(DomainMode.Redirect, (await after.ReadViewAsync<DomainView>()).Mode);
    }

    [Fact]
    public async Task TheAccountRouteShowsOnlyTheCallersOwnAccount()
    {
        await _app.NewAccountAsync("self-a", alertEmail: "alerts@self-a.example");
        var b = await _app.NewAccountAsync("self-b");
        var me = await (await b.GetAsync("/api/account")).ReadViewAsync<AccountView>();
        Assert.Equal("self-b", me.Id);

        await b.SendAsync(HttpMethod.Patch, "/api/account", new { alertEmail = "b@self-b.example" });
        var a = await (await _app.Operator().GetAsync("/api/admin/accounts/self-a")).ReadViewAsync<AccountView>();
        Assert.Equal("alerts@self-a.example", a.AlertEmail);
    }

    [Fact]
    public async Task CallersWithoutAValidTokenOrAccountAreTurnedAway()
    {
        var anonymous = _app.CreateClient();
        await (await anonymous.GetAsync("/api/domains")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await anonymous.GetAsync("/api/account")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        var forged = _app.CreateClient();
        forged.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Forged("acme"));
        await (await forged.GetAsync("/api/domains")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        var noClaim = _app.ClientFor(null);
        var problem = await (await noClaim.GetAsync("/api/domains")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("account", problem.GetProperty("detail").GetString());

        var unregistered = _app.ClientFor("never-registered");
        await (await unregistered.PostAsJsonAsync("/api/domains", new { name = "ghost.example", mode = "hold" })).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task OnlyOperatorsReachTheAdminRoutes()
    {
        var customer = await _app.NewAccountAsync("not-an-operator");
        await (await customer.PutAsJsonAsync("/api/admin/accounts/not-an-operator", new { serviceLevel = "enterprise", primaryEmail = "x@example.com" }))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await customer.GetAsync("/api/admin/accounts/not-an-operator")).AssertProblemAsync(HttpStatusCode.Forbidden);
        var account = await (await customer.GetAsync("/api/account")).ReadViewAsync<AccountView>();
        Assert.Equal(ServiceLevel.Standard, account.ServiceLevel);
    }
}
