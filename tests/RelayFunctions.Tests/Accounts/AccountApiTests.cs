using System.Net;
using System.Net.Http.Json;
using RelayFunctions.Accounts;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Accounts;

public sealed class AccountApiTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public AccountApiTests(AppFactory app) => _app = app;

    [Fact]
    public async Task AnOperatorCreatesThenUpdatesAnAccount()
    {
        var ops = _app.Operator();
        var created = await ops.PutAsJsonAsync("/api/admin/accounts/Globex", new { serviceLevel = "Personal Plus", primaryEmail = "boss@globex.example" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadViewAsync<AccountView>();
        Assert.Equal("globex", body.Id);
        Assert.Equal(ServiceLevel.PersonalPlus, body.ServiceLevel);

        // The postmaster address becomes an envelope sender on the relays: only at one of the account's verified domains.
        await (await ops.SendAsync(HttpMethod.Put, "/api/admin/accounts/globex",
            new { serviceLevel = "enterprise", primaryEmail = "boss@globex.example", postmasterEmail = "postmaster@globex.example" },
            ifMatch: created.Headers.ETag!.ToString())).AssertFieldErrorsAsync("postmasterEmail");
        (await _app.ClientFor("globex").PostAsJsonAsync("/api/domains", new { name = "globex.example", mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("globex", "globex.example");
        var updated = await ops.SendAsync(HttpMethod.Put, "/api/admin/accounts/globex",
            new { serviceLevel = "enterprise", primaryEmail = "boss@globex.example", postmasterEmail = "postmaster@globex.example" },
            ifMatch: created.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(ServiceLevel.Enterprise, (await updated.ReadViewAsync<AccountView>()).ServiceLevel);

        await (await ops.SendAsync(HttpMethod.Put, "/api/admin/accounts/globex",
            new { serviceLevel = "personal", primaryEmail = "boss@globex.example" }, ifMatch: created.Headers.ETag!.ToString()))
            .AssertProblemAsync(HttpStatusCode.PreconditionFailed);

        var read = await (await ops.GetAsync("/api/admin/accounts/globex")).ReadViewAsync<AccountView>();
        Assert.Equal(ServiceLevel.Enterprise, read.ServiceLevel);
        Assert.Equal("postmaster@globex.example", read.PostmasterEmail);
    }

    [Fact]
    public async Task AccountSettingsAreValidatedPerField()
    {
        var ops = _app.Operator();
        await (await ops.PutAsJsonAsync("/api/admin/accounts/bad%20id", new { serviceLevel = "gold", primaryEmail = "nope", alertEmail = "a@b" }))
            .AssertFieldErrorsAsync("accountId", "serviceLevel", "primaryEmail", "alertEmail");
        var problem = await (await ops.PutAsJsonAsync("/api/admin/accounts/nobody", new { }))
            .AssertFieldErrorsAsync("serviceLevel", "primaryEmail");
        Assert.Equal("Required: one of personal, personal-plus, standard, professional, enterprise.", problem.GetProperty("errors").GetProperty("serviceLevel")[0].GetString());
        await (await ops.PutAsJsonAsync("/api/admin/accounts/nobody", new { serviceLevel = "gold", primaryEmail = "o@nobody.example" }))
            .AssertFieldErrorsAsync("serviceLevel");
        // A body that is no object: what the account needs is named all the same.
        await (await ops.SendAsync(HttpMethod.Put, "/api/admin/accounts/nobody", "[]")).AssertFieldErrorsAsync("body", "serviceLevel", "primaryEmail");
        await (await ops.GetAsync("/api/admin/accounts/nobody")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TheOwnerChangesItsPreferencesButNotItsServiceLevel()
    {
        var owner = await _app.NewAccountAsync("prefs", alertEmail: "old@prefs.example");
        (await owner.PostAsJsonAsync("/api/domains", new { name = "prefs.example", mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("prefs", "prefs.example");
        var read = await owner.GetAsync("/api/account");

        var changed = await owner.SendAsync(HttpMethod.Patch, "/api/account",
            new { postmasterEmail = "pm@prefs.example" }, ifMatch: read.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var body = await changed.ReadViewAsync<AccountView>();
        Assert.Equal("pm@prefs.example", body.PostmasterEmail);
        Assert.Equal("old@prefs.example", body.AlertEmail);

        var cleared = await (await owner.SendAsync(HttpMethod.Patch, "/api/account", new { alertEmail = (string?)null })).ReadViewAsync<AccountView>();
        Assert.Null(cleared.AlertEmail);

        await (await owner.SendAsync(HttpMethod.Patch, "/api/account", new { serviceLevel = "enterprise", alertEmail = "not-an-address" }))
            .AssertFieldErrorsAsync("serviceLevel", "alertEmail");
        await (await owner.SendAsync(HttpMethod.Patch, "/api/account", new { alertEmail = "x@prefs.example" }, ifMatch: read.Headers.ETag!.ToString()))
            .AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        Assert.Equal(ServiceLevel.Standard, (await (await owner.GetAsync("/api/account")).ReadViewAsync<AccountView>()).ServiceLevel);
    }

    [Fact]
    public async Task ThePostmasterAddressCannotNameADomainTheAccountHasNotVerified()
    {
        var victim = await _app.NewAccountAsync("pm-victim");
        (await victim.PostAsJsonAsync("/api/domains", new { name = "pm-victim.example", mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("pm-victim", "pm-victim.example");
        var mallory = await _app.NewAccountAsync("pm-mallory");
        (await mallory.PostAsJsonAsync("/api/domains", new { name = "pm-mallory.example", mode = "hold" })).EnsureSuccessStatusCode();
        (await mallory.PostAsJsonAsync("/api/domains", new { name = "pm-mallory-pending.example", mode = "hold" })).EnsureSuccessStatusCode();
        await _app.VerifyAsync("pm-mallory", "pm-mallory.example");

        // Another tenant's verified domain, a free-mail domain, one of its own still pending, a subdomain of its own, a look-alike.
        foreach (var address in new[] { "postmaster@pm-victim.example", "POSTMASTER@PM-VICTIM.EXAMPLE", "someone@gmail.com", "pm@pm-mallory-pending.example", "pm@pm-mallory.example.evil.example", "pm@xpm-mallory.example" })
        {
            var refused = await (await mallory.PatchAsJsonAsync("/api/account", new { postmasterEmail = address })).AssertFieldErrorsAsync("postmasterEmail");
            Assert.Contains("verified", refused.GetProperty("errors").GetProperty("postmasterEmail")[0].GetString(), StringComparison.Ordinal);
            await (await _app.Operator().PutAsJsonAsync("/api/admin/accounts/pm-mallory", new { serviceLevel = "standard", primaryEmail = "owner@pm-mallory.example", postmasterEmail = address }))
                .AssertFieldErrorsAsync("postmasterEmail");
        }
        Assert.Null((await (await mallory.GetAsync("/api/account")).ReadViewAsync<AccountView>()).PostmasterEmail);

        var own = await (await mallory.PatchAsJsonAsync("/api/account", new { postmasterEmail = "PM@pm-mallory.example" })).ReadViewAsync<AccountView>();
        Assert.Equal("PM@pm-mallory.example", own.PostmasterEmail);
        // Under a verified domain is the account's own too.
        var under = await (await mallory.PatchAsJsonAsync("/api/account", new { postmasterEmail = "bounces@mail.pm-mallory.example" })).ReadViewAsync<AccountView>();
        Assert.Equal("bounces@mail.pm-mallory.example", under.PostmasterEmail);
    }
}
