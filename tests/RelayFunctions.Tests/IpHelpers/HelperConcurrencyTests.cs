using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;
using RelayFunctions.Scheduling;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.IpHelpers;

/// <summary>Checks race API edits and each other; duplicated and replayed messages are harmless.</summary>
public sealed class HelperConcurrencyTests : IClassFixture<HelperApp>
{
    private readonly HelperApp _app;

    public HelperConcurrencyTests(HelperApp app) => _app = app;

    [Fact]
    public async Task ChecksRacingDomainEditsLoseNeitherTheEditsNorTheRouting()
    {
        var (client, domain) = await _app.NewDomainAsync("racing");
        var host = Knot.NewName("race");
        await Knot.SetAsync(host, 1, "71.0.0.1");
        await HelperApp.AttachAsync(client, domain, host, 2525);
        await HelperApp.RoutingAsync(client, domain, "redirect", "71.0.0.1");

        var check = _app.Services.GetRequiredService<HelperCheck>();
        var store = _app.Services.GetRequiredService<HelperStore>();
        var name = DomainName.Parse(domain);
        var recipients = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            // Flip the address, fire checks directly (besides the engine's own) and edit the domain, all at once.
            await Knot.SetAsync(host, 1, i % 2 == 0 ? "71.0.0.2" : "71.0.0.1");
            recipients.Add($"user{i}@{domain}");
            var helper = (await store.FindAsync("racing", name, default))!;
            var request = new CheckRequest("racing", domain, helper.IndexBucket, helper.IndexNonce, Guid.NewGuid().ToString("N"));
            var edit = client.SendAsync(HttpMethod.Patch, $"/api/domains/{domain}", new { recipients, messageSizeLimit = 2_000_000 + i });
            await Task.WhenAll(check.RunAsync(request, default), check.RunAsync(request with { Token = Guid.NewGuid().ToString("N") }, default), edit);
            Assert.Equal(HttpStatusCode.OK, (await edit).StatusCode);
        }

        // However the races went, the helper still names an index entry that exists: it keeps being checked.
        await Knot.SetAsync(host, 1, "71.0.0.9");
        var final = await HelperApp.RoutingAsync(client, domain, "redirect", "71.0.0.9", 2525);
        Assert.Equal(recipients.Order(StringComparer.Ordinal), final.Recipients);
        Assert.Equal(2_000_011, final.MessageSizeLimit);
    }

    [Fact]
    public async Task AHelperEditRacingACheckIsKeptAndCheckedNext()
    {
        var (client, domain) = await _app.NewDomainAsync("edit-race");
        var oldHost = Knot.NewName("old");
        var newHost = Knot.NewName("new");
        await Knot.SetAsync(oldHost, 1, "72.0.0.1");
        await Knot.SetAsync(newHost, 1, "72.0.0.2");
        await HelperApp.AttachAsync(client, domain, oldHost, 25);
        await HelperApp.RoutingAsync(client, domain, "redirect", "72.0.0.1");

        var check = _app.Services.GetRequiredService<HelperCheck>();
        var helper = (await _app.Services.GetRequiredService<HelperStore>().FindAsync("edit-race", DomainName.Parse(domain), default))!;
        var request = new CheckRequest("edit-race", domain, helper.IndexBucket, helper.IndexNonce, Guid.NewGuid().ToString("N"));
        await Task.WhenAll(
            check.RunAsync(request, default),
            HelperApp.AttachAsync(client, domain, newHost, 587));

        var settings = await HelperApp.HelperAsync(client, domain);
        Assert.Equal(newHost, settings.DestinationHost);
        Assert.Equal(587, settings.DestinationPort);
        await HelperApp.RoutingAsync(client, domain, "redirect", "72.0.0.2", 587);
    }

    [Fact]
    public async Task StaleAndReplayedMessagesChangeNothing()
    {
        var (client, domain) = await _app.NewDomainAsync("replayed");
        var host = Knot.NewName("replay");
        await Knot.SetAsync(host, 3600, "73.0.0.1");
        await HelperApp.AttachAsync(client, domain, host, 25);
        await HelperApp.RoutingAsync(client, domain, "redirect", "73.0.0.1");
        var before = await client.GetAsync($"/api/domains/{domain}/ip-helper");
        var history = await (await client.GetAsync($"/api/domains/{domain}/ip-helper/history")).ReadViewAsync<HistoryPage>();

        var check = _app.Services.GetRequiredService<HelperCheck>();
        var stored = (await _app.Services.GetRequiredService<HelperStore>().FindAsync("replayed", DomainName.Parse(domain), default))!;
        await Knot.SetAsync(host, 3600, "73.0.0.2");
        // An old bucket: the helper has moved on since, so the message is stale.
        await check.RunAsync(new CheckRequest("replayed", domain, "20000101000000-00", "old", Guid.NewGuid().ToString("N")), default);
        // The token of the check already done: a replay re-applies that check's own decision only.
        await check.RunAsync(new CheckRequest("replayed", domain, stored.IndexBucket, stored.IndexNonce, stored.LastCheckToken!), default);
        await check.RunAsync(new CheckRequest("replayed", domain, stored.IndexBucket, stored.IndexNonce, stored.LastCheckToken!), default);
        // A helper that does not exist.
        await check.RunAsync(new CheckRequest("replayed", "nope.example", "20000101000000-00", "n", "t"), default);

        var after = await client.GetAsync($"/api/domains/{domain}/ip-helper");
        Assert.Equal(before.Headers.ETag, after.Headers.ETag);
        Assert.Equal("73.0.0.1", (await HelperApp.DomainAsync(client, domain)).DestinationHost);
        var historyAfter = await (await client.GetAsync($"/api/domains/{domain}/ip-helper/history")).ReadViewAsync<HistoryPage>();
        Assert.Equal(history.Entries.Count, historyAfter.Entries.Count);
    }
}
