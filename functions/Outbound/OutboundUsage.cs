using System.Globalization;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using RelayFunctions.Accounts;
using RelayFunctions.Api;
using RelayFunctions.Storage;
using RelayShared;

namespace RelayFunctions.Outbound;

/// <summary>
/// What each account submitted through the relays, per day (UTC): the relays count every accepted submission and the
/// copies made of it, each relay in a row of its own (<c>OutboundUsage</c>: <c>account|yyyyMMdd</c> / <c>login|relay</c>),
/// which they rewrite as they go; here the rows are added up. The Resource Access page of the seed.
/// </summary>
public sealed class OutboundUsage(StorageClients storage, TimeProvider time)
{
    public const string Table = RelayStorageNames.OutboundUsageTable;

    public async Task<UsageView> ReadAsync(Account account, int days, CancellationToken cancellationToken)
    {
        var today = time.GetUtcNow().UtcDateTime.Date;
        var result = new List<UsageDay>();
        for (var i = days - 1; i >= 0; i--)
        {
            var day = today.AddDays(-i);
            var partition = $"{account.Id}|{day:yyyyMMdd}";
            var byLogin = new Dictionary<string, UsageCounts>(StringComparer.Ordinal);
            await foreach (var e in storage.Table(Table).QueryAsync<TableEntity>(x => x.PartitionKey == partition, cancellationToken: cancellationToken))
            {
                var login = e.RowKey[..e.RowKey.LastIndexOf('|')];
                byLogin[login] = byLogin.GetValueOrDefault(login, UsageCounts.Zero) + UsageCounts.From(e);
            }
            var total = byLogin.Values.Aggregate(UsageCounts.Zero, (a, b) => a + b);
            result.Add(new UsageDay(day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), total,
                byLogin.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new LoginUsage(kv.Key, kv.Value)).ToList()));
        }
        var limits = ServiceLimits.For(account.ServiceLevel);
        return new UsageView(account.ServiceLevel, limits.DailyMessages, limits.BccRecipients, limits.Mirrors, result);
    }
}

/// <summary>
/// Counts of a day: submitted <see cref="Messages"/>, their <see cref="Recipients"/> and <see cref="Bytes"/>; the BCC and
/// mirror <see cref="Copies"/> made of them and their bytes (extra usage); and submissions <see cref="Refused"/> for the quota.
/// </summary>
public sealed record UsageCounts(long Messages, long Recipients, long Bytes, long Copies, long CopyBytes, long Refused)
{
    public static readonly UsageCounts Zero = new(0, 0, 0, 0, 0, 0);

    /// <summary>What counts against the daily quota: messages and the copies made of them.</summary>
    public long Counted => Messages + Copies;

    public static UsageCounts From(TableEntity e) => new(
        e.GetInt64("Messages") ?? 0, e.GetInt64("Recipients") ?? 0, e.GetInt64("Bytes") ?? 0,
        e.GetInt64("Copies") ?? 0, e.GetInt64("CopyBytes") ?? 0, e.GetInt64("Refused") ?? 0);

    public static UsageCounts operator +(UsageCounts a, UsageCounts b) => new(
        a.Messages + b.Messages, a.Recipients + b.Recipients, a.Bytes + b.Bytes, a.Copies + b.Copies, a.CopyBytes + b.CopyBytes, a.Refused + b.Refused);
}

public sealed record LoginUsage(string Login, UsageCounts Usage);

public sealed record UsageDay(string Date, UsageCounts Total, IReadOnlyList<LoginUsage> Logins);

/// <summary>The account's usage and limits: the daily quota (messages and copies), how many BCC recipients and mirrors an outbound account may have.</summary>
public sealed record UsageView(ServiceLevel ServiceLevel, int DailyQuota, int BccRecipientsPerAccount, int MirrorsPerAccount, IReadOnlyList<UsageDay> Days);

public static class UsageEndpoints
{
    public static void MapUsageEndpoints(this RouteGroupBuilder scoped)
    {
        scoped.MapGet("/account/usage", async Task<Results<Ok<UsageView>, ValidationProblem>> (string? days, Caller caller, OutboundUsage usage, CancellationToken ct) =>
        {
            var count = 7;
            if (days is not null && (!int.TryParse(days, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > 31))
            {
                var errors = new FieldErrors();
                errors.Add("days", "A whole number of days from 1 to 31.");
                return TypedResults.ValidationProblem(errors.ToDictionary());
            }
            return TypedResults.Ok(await usage.ReadAsync(caller.Account, count, ct));
        }).WithName("GetUsage").WithTags("Account")
            .WithSummary("What the account submitted through the relays, per day (UTC), newest last, and its limits.");
    }
}
