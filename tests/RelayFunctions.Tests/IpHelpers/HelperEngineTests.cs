using System.Net;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.IpHelpers;

/// <summary>
/// The helper end to end: the app's own timer and queue runners, real lookups against Knot DNS, records changed
/// with knsupdate while the test watches the domain's routing follow.
/// </summary>
public sealed class HelperEngineTests : IClassFixture<HelperApp>
{
    private readonly HelperApp _app;

    public HelperEngineTests(HelperApp app) => _app = app;

    [Fact]
    public async Task APublicAddressRedirectsToItOnTheHelpersPortAndTheTtlSetsTheNextCheck()
    {
        var (client, domain) = await _app.NewDomainAsync("public-a");
        var host = Knot.NewName("home");
        await Knot.SetAsync(host, 300, "1.2.3.4");
        await HelperApp.AttachAsync(client, domain, host, 2525);

        await HelperApp.RoutingAsync(client, domain, "redirect", "1.2.3.4", 2525);
        var helper = await HelperApp.HelperAsync(client, domain);
        var outcome = helper.LastOutcome!;
        Assert.Equal(OutcomeKind.Resolved, outcome.Kind);
        Assert.Equal(["1.2.3.4"], outcome.Addresses);
        Assert.Equal(300, outcome.Ttl);
        var last = helper.LastCheck!.Value;
        Assert.Equal(300, (helper.NextCheck - last).TotalSeconds, 1.0);
        Assert.Equal(DomainMode.Redirect, helper.Mode);
        Assert.Equal("SMTP Redirection to 1.2.3.4:2525", helper.Routing);
    }

    [Theory]
    [InlineData("10.20.30.40")]
    [InlineData("127.0.0.1")]
    [InlineData("192.168.1.20")]
    [InlineData("100.64.1.1")]
    public async Task APrivateOrLoopbackAddressHoldsTheDomain(string address)
    {
        var (client, domain) = await _app.NewDomainAsync("private-a");
        var host = Knot.NewName("home");
        await Knot.SetAsync(host, 60, "5.6.7.8");
        await HelperApp.AttachAsync(client, domain, host);
        await HelperApp.RoutingAsync(client, domain, "redirect", "5.6.7.8");

        await Knot.SetAsync(host, 60, address);
        (await client.PostAsync($"/api/domains/{domain}/ip-helper/check-now", null)).EnsureSuccessStatusCode();
        await HelperApp.RoutingAsync(client, domain, "hold");

        var outcome = (await HelperApp.HelperAsync(client, domain)).LastOutcome!;
        Assert.Equal(OutcomeKind.Invalid, outcome.Kind);
        Assert.Contains(address, outcome.Reason);
    }

    [Fact]
    public async Task NxdomainAndNodataHoldTheDomainAsInvalidForAnHour()
    {
        var (client, domain) = await _app.NewDomainAsync("gone-a");
        var host = Knot.NewName("home");
        await Knot.SetAsync(host, 60, "5.6.7.9");
        await HelperApp.AttachAsync(client, domain, host);
        await HelperApp.RoutingAsync(client, domain, "redirect", "5.6.7.9");

        await Knot.DeleteAsync(host);
        (await client.PostAsync($"/api/domains/{domain}/ip-helper/check-now", null)).EnsureSuccessStatusCode();
        await HelperApp.RoutingAsync(client, domain, "hold");
        var helper = await HelperApp.HelperAsync(client, domain);
        Assert.Equal(OutcomeKind.Invalid, helper.LastOutcome!.Kind);
        Assert.Contains("NXDOMAIN", helper.LastOutcome.Reason);
        Assert.Equal(3600, (helper.NextCheck - helper.LastCheck!.Value).TotalSeconds, 1.0);
        // Held mail keeps the last destination as its harmless next hop.
        Assert.Equal("5.6.7.9", (await HelperApp.DomainAsync(client, domain)).DestinationHost);

        await Knot.SetNoDataAsync(host);
        var before = helper.LastCheck;
        (await client.PostAsync($"/api/domains/{domain}/ip-helper/check-now", null)).EnsureSuccessStatusCode();
        var nodata = await Eventually.WaitAsync(() => HelperApp.HelperAsync(client, domain),
            h => h.LastCheck > before, TimeSpan.FromSeconds(20), "a second check");
        Assert.Contains("NODATA", nodata.LastOutcome!.Reason);
        Assert.Equal(DomainMode.Hold, (await HelperApp.DomainAsync(client, domain)).Mode);
    }

    [Fact]
    public async Task AShortTtlBringsTheNextCheckWithoutAskingAndANewAddressIsFollowed()
    {
        var (client, domain) = await _app.NewDomainAsync("ttl-a");
        var host = Knot.NewName("dyn");
        await Knot.SetAsync(host, 2, "11.22.33.44");
        await HelperApp.AttachAsync(client, domain, host, 587);
        await HelperApp.RoutingAsync(client, domain, "redirect", "11.22.33.44", 587);

        await Knot.SetAsync(host, 2, "11.22.33.45");
        await HelperApp.RoutingAsync(client, domain, "redirect", "11.22.33.45", 587);
    }

    [Fact]
    public async Task ACnameChainIsCheckedAgainAfterItsShortestTtl()
    {
        var (client, domain) = await _app.NewDomainAsync("cname-a");
        var alias = Knot.NewName("alias");
        var target = Knot.NewName("target");
        await Knot.SetAsync(target, 3600, "21.0.0.1");
        await Knot.UpdateAsync([$"update add {alias}. 120 CNAME {target}."]);
        await HelperApp.AttachAsync(client, domain, alias, 25);

        await HelperApp.RoutingAsync(client, domain, "redirect", "21.0.0.1", 25);
        var helper = await HelperApp.HelperAsync(client, domain);
        Assert.Equal(120, helper.LastOutcome!.Ttl);
        Assert.Equal(120, (helper.NextCheck - helper.LastCheck!.Value).TotalSeconds, 1.0);
    }

    [Fact]
    public async Task CheckNowIsPickedUpByTheNextTickWhileALongTtlWouldWait()
    {
        var (client, domain) = await _app.NewDomainAsync("now-a");
        var host = Knot.NewName("static");
        await Knot.SetAsync(host, 86400, "31.32.33.34");
        await HelperApp.AttachAsync(client, domain, host);
        await HelperApp.RoutingAsync(client, domain, "redirect", "31.32.33.34");

        await Knot.SetAsync(host, 86400, "31.32.33.35");
        await Task.Delay(3000);
        Assert.Equal("31.32.33.34", (await HelperApp.DomainAsync(client, domain)).DestinationHost);

        var accepted = await client.PostAsync($"/api/domains/{domain}/ip-helper/check-now", null);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.True((await accepted.ReadViewAsync<HelperView>()).CheckRequested);
        await HelperApp.RoutingAsync(client, domain, "redirect", "31.32.33.35");
        Assert.False((await HelperApp.HelperAsync(client, domain)).CheckRequested);
    }

    [Fact]
    public async Task SeveralAddressesGiveOneThatStaysWhileItIsOffered()
    {
        var (client, domain) = await _app.NewDomainAsync("multi-a");
        var host = Knot.NewName("multi");
        string[] offered = ["41.0.0.1", "41.0.0.2", "41.0.0.3"];
        await Knot.SetAsync(host, 1, offered);
        await HelperApp.AttachAsync(client, domain, host);
        var first = (await HelperApp.RoutingAsync(client, domain, "redirect")).DestinationHost!;
        Assert.Contains(first, offered);

        // Checks keep coming (TTL 1 s): the address in use stays while it is offered.
        var start = (await HelperApp.HelperAsync(client, domain)).LastCheck!.Value;
        await Eventually.WaitAsync(() => HelperApp.HelperAsync(client, domain),
            h => h.LastCheck > start.AddSeconds(3), TimeSpan.FromSeconds(20), "several more checks");
        Assert.Equal(first, (await HelperApp.DomainAsync(client, domain)).DestinationHost);

        // Withdrawn: another of the offered addresses takes over.
        await Knot.SetAsync(host, 1, offered.Where(a => a != first).ToArray());
        var second = (await Eventually.WaitAsync(() => HelperApp.DomainAsync(client, domain),
            d => d.DestinationHost != first, TimeSpan.FromSeconds(20), "a new address")).DestinationHost;
        Assert.Contains(second, offered);
    }

    [Fact]
    public async Task APublicIpv6AddressIsUsedOnlyWhenTheHelperAllowsIt()
    {
        var (client, domain) = await _app.NewDomainAsync("v6-a");
        var host = Knot.NewName("v6");
        await Knot.SetAsync(host, 60, "2606:4700::1111");
        await HelperApp.AttachAsync(client, domain, host, 25, allowIpv6: false);
        await Eventually.WaitAsync(() => HelperApp.HelperAsync(client, domain),
            h => h.LastOutcome is not null, TimeSpan.FromSeconds(20), "a check");
        Assert.Equal(DomainMode.Hold, (await HelperApp.DomainAsync(client, domain)).Mode);

        await HelperApp.AttachAsync(client, domain, host, 25, allowIpv6: true);
        await HelperApp.RoutingAsync(client, domain, "redirect", "2606:4700::1111", 25);
    }

    [Fact]
    public async Task EveryChangeIsInTheHistoryNewestFirstAndPaged()
    {
        var (client, domain) = await _app.NewDomainAsync("history-a");
        var host = Knot.NewName("hist");
        await Knot.SetAsync(host, 60, "51.0.0.1");
        await HelperApp.AttachAsync(client, domain, host);
        await HelperApp.RoutingAsync(client, domain, "redirect", "51.0.0.1");
        await Knot.DeleteAsync(host);
        (await client.PostAsync($"/api/domains/{domain}/ip-helper/check-now", null)).EnsureSuccessStatusCode();
        await HelperApp.RoutingAsync(client, domain, "hold");
        await Knot.SetAsync(host, 60, "51.0.0.2");
        (await client.PostAsync($"/api/domains/{domain}/ip-helper/check-now", null)).EnsureSuccessStatusCode();
        await HelperApp.RoutingAsync(client, domain, "redirect", "51.0.0.2");

        var page1 = await (await client.GetAsync($"/api/domains/{domain}/ip-helper/history?limit=2")).ReadViewAsync<HistoryPage>();
        var entries = page1.Entries;
        Assert.Equal(2, entries.Count);
        Assert.Equal(OutcomeKind.Resolved, entries[0].Outcome);
        Assert.Equal("Accept and Hold Messages → SMTP Redirection to 51.0.0.2:2525", entries[0].ModeChange);
        Assert.Equal(OutcomeKind.Invalid, entries[1].Outcome);
        Assert.True(entries[0].At > entries[1].At);

        var cursor = page1.NextCursor;
        var page2 = await (await client.GetAsync($"/api/domains/{domain}/ip-helper/history?limit=2&cursor={cursor}")).ReadViewAsync<HistoryPage>();
        var older = Assert.Single(page2.Entries);
        Assert.Equal("Accept and Hold Messages → SMTP Redirection to 51.0.0.1:2525", older.ModeChange);
        Assert.Null(page2.NextCursor);
    }
}
