using System.Diagnostics;
using System.Net;
using Azure.Data.Tables;
using DnsClient;

namespace RelayFunctions.Bench;

/// <summary>The floors the end-to-end rate is compared with, on the same machine, in the same run.</summary>
public static class Floors
{
    /// <summary>Raw DnsClient A lookups per second at <paramref name="concurrency"/>, uncached, against the same Knot.</summary>
    public static async Task<double> DnsLookupsPerSecondAsync(IPEndPoint server, string zone, int names, int count, int concurrency)
    {
        var client = new LookupClient(new LookupClientOptions(server) { UseCache = false, Timeout = TimeSpan.FromSeconds(3), Retries = 1 });
        var failures = 0;
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, ct) =>
        {
            var response = await client.QueryAsync($"h{i % names}.{zone}.", QueryType.A, cancellationToken: ct);
            if (response.HasError || !response.Answers.ARecords().Any())
            {
                Interlocked.Increment(ref failures);
            }
        });
        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} of {count} floor lookups failed: is the bench zone loaded?");
        }
        return count / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Raw single-entity Table upserts per second at <paramref name="concurrency"/>, each in its own partition.</summary>
    public static async Task<double> TableUpsertsPerSecondAsync(TableClient table, int count, int concurrency)
    {
        await table.CreateIfNotExistsAsync();
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, ct) =>
            await table.UpsertEntityAsync(new TableEntity($"p{i}", "r") { ["Value"] = i, ["Text"] = "floor" }, TableUpdateMode.Replace, ct));
        return count / watch.Elapsed.TotalSeconds;
    }
}
