using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Domains;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Domains;

/// <summary>
/// How big a domain may grow: by what the storage SDK sends (escapes included), with room left for what the system
/// writes on the domain later. Against Azurite, which refuses an entity whose request body passes 1 MiB.
/// </summary>
public sealed class DomainSizeTests(AppFactory app) : IClassFixture<AppFactory>
{
    private static string Unique(string stem) => $"{stem}-{Guid.NewGuid().ToString("N")[..8]}.example";

    /// <summary>64 characters of local part, nearly all '&amp;', which the SDK sends as six bytes each (<c>\u0026</c>).</summary>
    private static string[] Ampersands(int count, string domain) =>
        [.. Enumerable.Range(0, count).Select(i => new string('&', 64 - i.ToString().Length) + i + "@" + domain)];

    [Fact]
    public async Task RecipientsThatGrowSixfoldOnTheWireAreRefusedNamingTheField()
    {
        var client = await app.NewAccountAsync("amp-list");
        var name = Unique("amp");
        (await client.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).EnsureSuccessStatusCode();

        var patched = await client.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { recipients = Ampersands(5000, name) });
        var problem = await patched.AssertFieldErrorsAsync("recipients");
        Assert.Contains("bytes", problem.GetProperty("errors").GetProperty("recipients")[0].GetString());
        var other = Unique("amp-new");
        await (await client.PostAsJsonAsync("/api/domains", new { name = other, mode = "hold", recipients = Ampersands(5000, other) }))
            .AssertFieldErrorsAsync("recipients");
    }

    [Fact]
    public async Task ADomainAsLargeAsACallerMayMakeItStillTakesTheVerificationFieldsWrittenLater()
    {
        const string account = "amp-headroom";
        var client = await app.NewAccountAsync(account);
        var name = Unique("room");
        (await client.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).EnsureSuccessStatusCode();

        // The longest list accepted, to the entry.
        int low = 1, high = 5000;
        while (low < high)
        {
            var count = (low + high + 1) / 2;
            var patched = await client.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { recipients = Ampersands(count, name) });
            if (patched.StatusCode == HttpStatusCode.OK)
            {
                low = count;
            }
            else
            {
                Assert.True(patched.StatusCode == HttpStatusCode.BadRequest, $"{count} recipients: {(int)patched.StatusCode} {await patched.Content.ReadAsStringAsync()}");
                high = count - 1;
            }
        }
        Assert.True(low > 100, $"only {low} recipients fit");

        var store = app.Services.GetRequiredService<DomainStore>();
        var written = await store.UpdateVerificationAsync(account, DomainName.Parse(name), d => d.Verification with
        {
            Method = "dns-txt",
            Reason = new string('r', 4000),
            LastCheck = DateTimeOffset.UtcNow,
            LastCheckToken = Guid.NewGuid().ToString("N"),
        }, default);
        Assert.IsType<RelayFunctions.Api.Outcome<MailDomain>.Ok>(written);
        Assert.Equal(low, (await store.FindAsync(account, DomainName.Parse(name), default))!.Settings.Recipients.Count);
    }

    [Fact]
    public async Task ADomainStoredPastTheLimitBeforeItWasLoweredCanStillBeChangedButNotGrown()
    {
        const string account = "amp-legacy";
        var client = await app.NewAccountAsync(account);
        var name = Unique("legacy");
        (await client.PostAsJsonAsync("/api/domains", new { name, mode = "hold" })).EnsureSuccessStatusCode();

        // Written straight to the table, as an earlier version allowed: past 90% of an entity, under 100%.
        var store = app.Services.GetRequiredService<DomainStore>();
        var stored = (await store.FindAsync(account, DomainName.Parse(name), default))!;
        var large = stored with { Settings = stored.Settings with { Recipients = Ampersands(2430, name) } };
        var entity = DomainStore.ToEntity(large);
        var size = RelayFunctions.Storage.EntityText.SizeOf(entity);
        Assert.InRange(size, RelayFunctions.Storage.EntityText.MaxWrittenBytes + 1, RelayFunctions.Storage.EntityText.MaxEntityBytes - 20_000);
        var table = app.Services.GetRequiredService<RelayFunctions.Storage.StorageClients>().Table("Domains");
        await table.UpdateEntityAsync(entity, Azure.ETag.All, Azure.Data.Tables.TableUpdateMode.Replace);

        // A change that does not grow it is taken; one that grows it is refused, naming the list.
        var changed = await client.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { messageSizeLimit = 2097152 });
        Assert.True(changed.StatusCode == HttpStatusCode.OK, await changed.Content.ReadAsStringAsync());
        await (await client.SendAsync(HttpMethod.Patch, $"/api/domains/{name}", new { recipients = Ampersands(2431, name) }))
            .AssertFieldErrorsAsync("recipients");
        Assert.Equal(2430, (await store.FindAsync(account, DomainName.Parse(name), default))!.Settings.Recipients.Count);
    }
}
