using Azure.Data.Tables;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.IpHelpers;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.Bench;

/// <summary>
/// Writes helpers, their domains (in hold) and their index entries straight into the tables, in batch
/// transactions of one partition each, with the app's own entity layout; far faster than the API, which the
/// tests already cover. Helper i resolves h{i}.{zone} (the bench script puts those names in Knot).
/// </summary>
public sealed class Seeder(StorageClients storage, ScheduleIndex index, string zone)
{
    public const int DomainsPerAccount = 1000;

    public async Task SeedAsync(int from, int to, int due, DateTimeOffset now)
    {
        await Task.WhenAll(new[] { "Domains", "Helpers", "HelperSchedule" }.Select(t => storage.Table(t).CreateIfNotExistsAsync()));
        var random = new Random(from);
        var verified = VerificationRules.ByOperator(DomainVerification.New(now), now);
        var domains = new List<TableEntity>();
        var helpers = new List<TableEntity>();
        var entries = new List<TableEntity>();
        for (var i = from; i < to; i++)
        {
            var account = $"bench{i / DomainsPerAccount:D4}";
            var name = DomainName.Parse($"d{i}.bench-customers.example");
            // The last `due` of this range are due now; the rest spread over a day starting in a year, so that
            // advancing the clock by hours brings no others due.
            var next = to - i <= due ? now.AddMinutes(-5) : now.AddDays(365).AddSeconds(random.Next(86_400));
            var bucket = index.BucketFor(next, account, name);
            var nonce = ScheduleIndex.NewNonce();
            domains.Add(DomainStore.ToEntity(account, name, new DomainSettings(DomainMode.Hold, null, [], DomainSettings.DefaultMessageSizeLimit), verified, now));
            helpers.Add(HelperStore.ToEntity(new IpHelper(
                account, name, new HelperSettings(DomainName.Parse($"h{i}.{zone}"), 2525, false, false), HelperStatus.NeverChecked,
                next, false, bucket, nonce, null, false, null, now, now, default)));
            entries.Add(new TableEntity(bucket, $"{account}|{name.Value}|{nonce}"));
        }
        await Task.WhenAll(
            WriteAsync(storage.Table("Domains"), domains),
            WriteAsync(storage.Table("Helpers"), helpers),
            WriteAsync(storage.Table("HelperSchedule"), entries));
    }

    private static async Task WriteAsync(TableClient table, List<TableEntity> entities)
    {
        var batches = entities.GroupBy(e => e.PartitionKey).SelectMany(g => g.Chunk(100)).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, ct) =>
            await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct));
    }
}
