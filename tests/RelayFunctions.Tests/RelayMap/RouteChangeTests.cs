using System.Diagnostics;
using System.Net.Http.Json;
using MailKit.Security;
using RelayAgent;
using RelayFunctions.Tests.Alerts;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.Outbound;
using Xunit.Abstractions;
using static RelayFunctions.Tests.Infrastructure.EndToEndRelay;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// Mail follows a routing change at once: mail deferred for a redirect whose destination does not answer is retried
/// at the new destination as soon as the relay applies the change, not at its next backoff.
/// </summary>
[Collection(PostfixRelay.Collection)]
public sealed class RouteChangeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task MailDeferredForAnOldPortIsDeliveredToTheNewOneWhenTheRouteChanges()
    {
        await using var app = App();
        var (worker, _) = Agent("route-change", app.Prefix);
        var domain = $"moved-{Guid.NewGuid():N}"[..20] + ".example";
        var api = await app.NewAccountAsync("mover");
        var dead = Azurite.FreePort(); // nothing listens there
        var created = await api.PostAsJsonAsync("/api/domains", new { name = domain, mode = "redirect", destinationHost = "127.0.0.1", destinationPort = dead });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        await app.VerifyAsync("mover", domain);
        await Eventually.WaitAsync(async () => await worker.PollOnceAsync(default), r => r is not null && Map().Contains(domain, StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the domain on the relay");

        // Mail for it is accepted, tried at the dead port and deferred.
        await Eventually.WaitAsync(
            async () =>
            {
                await using var client = await Submission.ConnectAsync(Relay.Port, SecureSocketOptions.None);
                return await client.SendAsync("sender@outside.example", $"alice@{domain}");
            },
            reply => reply.StartsWith("250 ", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the relay to accept mail for the domain");
        await Eventually.WaitAsync(Relay.QueueAsync, q => q.Contains("Connection refused", StringComparison.Ordinal) && q.Contains($"alice@{domain}", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the message to be deferred");

        // The customer's server answers on another port: the route changes, and the deferred message goes there now.
        await using var sink = await SmtpSink.StartAsync();
        var etag = (await api.GetAsync($"/api/domains/{domain}")).Headers.ETag!.Tag;
        var watch = Stopwatch.StartNew();
        Assert.True((await api.SendAsync(HttpMethod.Patch, $"/api/domains/{domain}", new { destinationPort = sink.Port }, etag)).IsSuccessStatusCode);
        var applied = await Eventually.WaitAsync(async () => await worker.PollOnceAsync(default), r => r is not null && r.Released.Contains(domain), TimeSpan.FromSeconds(30), "the new route applied");
        output.WriteLine($"generation {applied!.Generation} released {string.Join(", ", applied.Released)}");
        var received = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count == 1, TimeSpan.FromSeconds(30), "the deferred message at the new port");
        output.WriteLine($"PATCH of the port -> deferred message delivered there: {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Equal($"alice@{domain}", To(received[0]));
        // A generation that changes nothing for it releases nothing.
        Assert.DoesNotContain(domain, (await worker.PollOnceAsync(default))?.Released ?? []);
    }

    /// <summary>The live lmdb table as "key value" lines (deltas change it in place; its source file is the last snapshot's).</summary>
    private static string Map()
    {
        var path = Path.Combine(Relay.MapDirectory, "transport");
        return File.Exists(path + ".lmdb") ? string.Join('\n', LmdbTable.Entries(path).Select(e => $"{e.Key} {e.Value}")) : "";
    }
}
