using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.IpHelpers;

/// <summary>
/// No helper is ever forgotten: however checks race each other, the index entry the helper names exists. Driven by
/// hand against Azurite and Knot (no runner of the app's own: it runs as under the Functions host).
/// </summary>
public sealed class HelperIndexTests
{
    [Fact]
    public async Task RacingChecksOfOneHelperNeverLeaveItWithoutItsIndexEntry()
    {
        await using var app = AppFactory.UnderFunctionsHost([.. HelperApp.FastEngine(), new("Helpers:BucketSize", "00:01:00")]);
        var client = await app.NewAccountAsync("indexed");
        var domain = $"indexed-{Guid.NewGuid().ToString("N")[..8]}.example";
        await client.SendAsync(HttpMethod.Post, "/api/domains", new { name = domain, mode = "hold" });
        var host = Knot.NewName("idx");
        await Knot.SetAsync(host, 1, "81.0.0.1");
        await HelperApp.AttachAsync(client, domain, host, 25);

        var store = app.Services.GetRequiredService<HelperStore>();
        var check = app.Services.GetRequiredService<HelperCheck>();
        var table = app.Services.GetRequiredService<StorageClients>().Table("HelperSchedule");
        var name = DomainName.Parse(domain);
        for (var i = 0; i < 15; i++)
        {
            var helper = (await store.FindAsync("indexed", name, default))!;
            // Three deliveries of checks for the same entry at once; with one-minute buckets they pick the same next bucket.
            await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
                check.RunAsync(new CheckRequest("indexed", domain, helper.IndexBucket, helper.IndexNonce, Guid.NewGuid().ToString("N")), default)));

            var after = (await store.FindAsync("indexed", name, default))!;
            var entry = await table.GetEntityIfExistsAsync<TableEntity>(after.IndexBucket, $"indexed|{domain}|{after.IndexNonce}");
            Assert.True(entry.HasValue, $"iteration {i}: the helper names {after.IndexBucket}/{after.IndexNonce}, which is not in the index");
            var entries = table.QueryAsync<TableEntity>(e => e.RowKey.CompareTo($"indexed|{domain}|") > 0 && e.RowKey.CompareTo($"indexed|{domain}|~") < 0);
            Assert.Equal(1, await entries.CountAsync());
        }
    }
}
