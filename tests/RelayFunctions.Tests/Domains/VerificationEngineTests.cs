using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.IpHelpers;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Alerts;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Domains;

/// <summary>
/// Proof of domain control end to end: the app's own timer and queue runners check real DNS (Knot), records are changed
/// with knsupdate, and the relay map follows. Short test settings stand in for the real intervals (an hour becomes a
/// second; the grace period three seconds).
/// </summary>
public sealed class VerificationEngineTests
{
    private const string RelayHost = "mx1.relay-service.test";

    private static HelperApp App(params KeyValuePair<string, string?>[] extra) => new(
    [
        new("Verification:FirstRetry", "00:00:01"),
        new("Verification:MaximumRetry", "00:00:01"),
        new("Verification:FailedRetry", "00:00:01"),
        new("Verification:GracePeriod", "00:00:03"),
        new("Verification:RelayHosts:0", RelayHost),
        .. extra,
    ]);

    private static async Task<VerificationView> VerificationAsync(HttpClient client, string domain) =>
        (await (await client.GetAsync($"/api/domains/{domain}")).ReadViewAsync<DomainView>()).Verification;

    private static Task<VerificationView> StateAsync(HttpClient client, string domain, VerificationState state, int seconds = 20) =>
        Eventually.WaitAsync(() => VerificationAsync(client, domain), v => v.State == state,
            TimeSpan.FromSeconds(seconds), $"{domain} to be {state}");

    private static async Task<string> MapAsync(HelperApp app)
    {
        var (files, _) = await app.Services.GetRequiredService<RelayMapBuilder>().BuildAsync(default);
        return string.Join('\n', files.Select(f => System.Text.Encoding.UTF8.GetString(f.Content)));
    }

    [Fact]
    public async Task ATxtRecordAddedWithKnsupdateVerifiesTheDomainAndItsLossWithdrawsItAfterTheGracePeriod()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var app = App(sink.AlertSettings());
        var client = await app.NewAccountAsync("txt-owner", alertEmail: "alerts@txt-owner.example");
        var domain = Knot.NewName("txt");
        var created = await (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "redirect", destinationHost = "192.0.32.10", destinationPort = 2525 })).ReadViewAsync<DomainView>();
        var verification = created.Verification;
        Assert.Equal(VerificationState.Pending, verification.State);
        Assert.Equal($"_relay-challenge.{domain}", verification.RecordName);
        var record = verification.RecordValue;
        Assert.StartsWith("relay-verification=", record);

        // The first check finds nothing, and says so.
        var pending = await Eventually.WaitAsync(() => VerificationAsync(client, domain), v => v.LastCheck is not null,
            TimeSpan.FromSeconds(20), "the first check");
        Assert.Equal(VerificationState.Pending, pending.State);
        Assert.Contains("No TXT record", pending.Reason);
        Assert.DoesNotContain(domain, await MapAsync(app));

        await Knot.UpdateAsync([$"update add _relay-challenge.{domain}. 60 TXT \"{record}\""]);
        (await client.PostAsync($"/api/domains/{domain}/verify", null)).EnsureSuccessStatusCode();
        var verified = await StateAsync(client, domain, VerificationState.Verified);
        Assert.Equal("txt", verified.Method);
        Assert.Contains($"{domain} smtp:[192.0.32.10]:2525", await MapAsync(app));

        // The record goes: the domain lapses, stays in service through the grace period with an alert, then leaves it.
        await Knot.UpdateAsync([$"update delete _relay-challenge.{domain}. TXT"]);
        (await client.PostAsync($"/api/domains/{domain}/verify", null)).EnsureSuccessStatusCode();
        var lapsing = await StateAsync(client, domain, VerificationState.Lapsing);
        Assert.NotNull(lapsing.WithdrawnAfter);
        Assert.Contains(domain, await MapAsync(app));
        var alerts = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count >= 1, TimeSpan.FromSeconds(10), "the lapse alert");
        Assert.Contains("proof of control lost", alerts[0].Message.Subject!);
        Assert.Contains(record, alerts[0].Message.TextBody);

        var withdrawn = await StateAsync(client, domain, VerificationState.Pending);
        Assert.StartsWith("Withdrawn from service", withdrawn.Reason);
        Assert.DoesNotContain(domain, await MapAsync(app));
        await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Any(m => m.Message.Subject!.Contains("withdrawn", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the withdrawal alert");
        Assert.Equal(2, sink.Received().Count);
    }

    [Fact]
    public async Task AnMxPointingAtTheRelaysVerifiesTheDomain()
    {
        await using var app = App();
        var client = await app.NewAccountAsync("mx-owner");
        var domain = Knot.NewName("mx");
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "backup-mx" })).EnsureSuccessStatusCode();
        await Knot.UpdateAsync([$"update add {domain}. 60 MX 10 {RelayHost}."]);
        (await client.PostAsync($"/api/domains/{domain}/verify", null)).EnsureSuccessStatusCode();
        var verified = await StateAsync(client, domain, VerificationState.Verified);
        Assert.Equal("mx", verified.Method);
        Assert.Contains($"{domain} relay:", await MapAsync(app));
    }

    [Fact]
    public async Task AnotherAccountsTxtRecordProvesNothing()
    {
        await using var app = App();
        var owner = await app.NewAccountAsync("token-owner");
        var other = await app.NewAccountAsync("token-copier");
        var domain = Knot.NewName("copied");
        var ownerToken = (await (await owner.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).ReadViewAsync<DomainView>())
            .Verification.RecordValue;
        (await other.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await Knot.UpdateAsync([$"update add _relay-challenge.{domain}. 60 TXT \"{ownerToken}\""]);

        await StateAsync(owner, domain, VerificationState.Verified);
        (await other.PostAsync($"/api/domains/{domain}/verify", null)).EnsureSuccessStatusCode();
        var refused = await Eventually.WaitAsync(() => VerificationAsync(other, domain),
            v => v.Reason!.Contains("No TXT record", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the copier's check");
        Assert.Equal(VerificationState.Pending, refused.State);
    }

    [Fact]
    public async Task ARedirectToAHostNameIsHeldUntilItsHelperResolvesItToAPublicAddress()
    {
        await using var app = App();
        var client = await app.NewAccountAsync("by-name");
        var domain = Knot.NewName("named");
        var host = Knot.NewName("server");
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "redirect", destinationHost = host, destinationPort = 2525 })).EnsureSuccessStatusCode();
        await app.VerifyAsync("by-name", domain);

        // Not resolvable yet: the helper made for it holds the domain; the map never names the host.
        var helper = await (await client.GetAsync($"/api/domains/{domain}/ip-helper")).ReadViewAsync<HelperView>();
        Assert.Equal(host, helper.DestinationHost);
        await HelperApp.RoutingAsync(client, domain, "hold");
        Assert.Contains($"{domain} hold:[127.0.0.1]:9", await MapAsync(app));
        Assert.DoesNotContain(host, await MapAsync(app));

        // A private address is refused as ever; a public one is where the mail goes.
        await Knot.SetAsync(host, 1, "127.0.0.1");
        (await client.PostAsync($"/api/domains/{domain}/ip-helper/check-now", null)).EnsureSuccessStatusCode();
        await Eventually.WaitAsync(() => HelperApp.HelperAsync(client, domain), h => h.LastOutcome is { Kind: OutcomeKind.Invalid }, TimeSpan.FromSeconds(20), "the private address refused");
        Assert.DoesNotContain("127.0.0.1]:2525", await MapAsync(app));

        await Knot.SetAsync(host, 1, "62.0.0.7");
        (await client.PostAsync($"/api/domains/{domain}/ip-helper/check-now", null)).EnsureSuccessStatusCode();
        await HelperApp.RoutingAsync(client, domain, "redirect", "62.0.0.7", 2525);
        Assert.Contains($"{domain} smtp:[62.0.0.7]:2525", await MapAsync(app));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/domains/{domain}")).StatusCode);
    }
}
