using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// The hostile run found, now and then, a verified domain in the relay map whose name no account held: another account
/// could then register and verify the same name, and both were published. This sends the two writers of a claim at
/// each other sixty times: the verification check of a pending domain (its proof in DNS) and an operator vouching
/// for the same domain.
/// </summary>
public sealed class ClaimRaceTests(ITestOutputHelper output)
{
    private const int Races = 60;

    /// <summary>Every domain proves itself by its MX.</summary>
    private sealed class ProvenByMx : IHostResolver
    {
        public Task<IReadOnlyList<Lookup>> ResolveAsync(DomainName host, bool includeIpv6, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<Lookup>>([new Lookup("A", [], LookupError.NameDoesNotExist)]);

        public Task<Lookup> LookupAddressesAsync(DomainName host, bool ipv6, CancellationToken cancellationToken) =>
            Task.FromResult(new Lookup(ipv6 ? "AAAA" : "A", [], LookupError.NameDoesNotExist));

        public Task<TextLookup> LookupTextAsync(string name, TextRecord type, CancellationToken cancellationToken) =>
            Task.FromResult(type == TextRecord.Mx ? new TextLookup("MX", [FakeResolver.RelayHost], LookupError.None) : new TextLookup("TXT", [], LookupError.NameDoesNotExist));
    }

    [Fact]
    public async Task AVerificationCheckRacingAnOperatorNeverLeavesAPublishedNameUnheld()
    {
        using var app = new AppFactory([new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999"), new("Verification:RelayHosts:0", FakeResolver.RelayHost)],
            s => s.AddSingleton<IHostResolver, ProvenByMx>());
        var owner = await app.NewAccountAsync("owner");
        var host = app.CreateClient();
        var storage = app.Services.GetRequiredService<StorageClients>();
        for (var i = 0; i < Races; i++)
        {
            (await owner.PostAsJsonAsync("/api/domains", new { name = $"race{i}.owner-race.example", mode = "hold" })).EnsureSuccessStatusCode();
        }
        (await host.PostAsync("/ScheduleChecks", new StringContent("""{"Data":{"timer":{}}}"""))).EnsureSuccessStatusCode();
        var queue = storage.Queue(StorageNames.DomainVerificationsQueue);
        // One tick, one check per domain: the queue is this app's own (see AppFactory.HostQueueNames), and nothing else
        // ticks under the host.
        var checks = new List<string>();
        var until = DateTime.UtcNow.AddSeconds(20);
        while (checks.Count < Races && DateTime.UtcNow < until)
        {
            var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value;
            checks.AddRange(batch.Select(m => m.Body.ToString()));
            if (batch.Length == 0)
            {
                await Task.Delay(100);
            }
        }
        Assert.Equal(
            Enumerable.Range(0, Races).Select(i => $"race{i}.owner-race.example").Order(),
            checks.Select(c => JsonDocument.Parse(c).RootElement.GetProperty("d").GetString()).Order());

        var ops = app.Operator();
        await Task.WhenAll(checks.Select(async (message, i) =>
        {
            var name = JsonDocument.Parse(message).RootElement.GetProperty("d").GetString();
            var check = host.PostAsync("/VerifyDomains", new StringContent(Json.Object(("Data", Json.Object(("message", Json.Of(message))))).ToText()));
            await Task.Delay(i % 15);
            var vouch = ops.PostAsync($"/api/admin/accounts/owner/domains/{name}/verify", null);
            Assert.True((await check).IsSuccessStatusCode && (await vouch).IsSuccessStatusCode, $"{name}: the check or the operator failed");
        }));

        var unheld = (await StorageAudit.RunAsync(storage)).Invalid.Where(i => i.Contains("not held", StringComparison.Ordinal)).ToList();
        foreach (var line in unheld)
        {
            output.WriteLine(line);
        }
        Assert.True(unheld.Count == 0, $"{unheld.Count} of {Races} domains are verified and published, but their names are free for any other account to take; see the output");
    }
}
