using RelayFunctions.Hosting;

namespace RelayFunctions.IpHelpers;

/// <summary>Scheduling of IP address helper checks. Defaults follow the seed: ~1 min ticks, 5 min after a failure, 60 min after an invalid result.</summary>
public sealed class HelperOptions
{
    public const string Section = "Helpers";

    /// <summary>NCRONTAB schedule of the <c>ScheduleChecks</c> timer.</summary>
    public string Schedule { get; set; } = "0 * * * * *";

    /// <summary>Granularity of the due-time index; a check runs in the first tick after its bucket has passed.</summary>
    public TimeSpan BucketSize { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A resolved check is repeated after the record's TTL, but never sooner than this…</summary>
    public TimeSpan MinimumInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>…and never later than this.</summary>
    public TimeSpan MaximumInterval { get; set; } = TimeSpan.FromDays(1);

    public TimeSpan FailedRetry { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan InvalidRetry { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>A due helper enqueued this long ago without being checked is enqueued again (lost or poisoned message).</summary>
    public TimeSpan EnqueueLease { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>At most this many helpers are enqueued by one tick; the rest wait for the next.</summary>
    public int MaxPerTick { get; set; } = 50_000;

    /// <summary>How many enqueues a tick has in flight at once.</summary>
    public int EnqueueConcurrency { get; set; } = 32;

    /// <summary>How many due helpers of one bucket one queue message carries (one index transaction and one message for them all).</summary>
    public int CheckBatchSize { get; set; } = 32;

    public static void Check(HelperOptions o, SettingErrors errors)
    {
        errors.Schedule(o.Schedule, nameof(Schedule));
        errors.Require(o.BucketSize >= TimeSpan.FromSeconds(1) && TimeSpan.FromDays(1).Ticks % o.BucketSize.Ticks == 0, nameof(BucketSize),
            $"must be at least one second and divide a day evenly, such as 00:01:00 (is {o.BucketSize}).");
        errors.Positive(o.MinimumInterval, nameof(MinimumInterval));
        errors.Require(o.MaximumInterval >= o.MinimumInterval, nameof(MaximumInterval), $"must not be shorter than Helpers__MinimumInterval ({o.MinimumInterval}).");
        errors.Positive(o.FailedRetry, nameof(FailedRetry));
        errors.Positive(o.InvalidRetry, nameof(InvalidRetry));
        errors.Positive(o.EnqueueLease, nameof(EnqueueLease));
        errors.Require(o.MaxPerTick >= 1, nameof(MaxPerTick), $"must be at least 1 (is {o.MaxPerTick}).");
        errors.Require(o.CheckBatchSize is >= 1 and <= Scheduling.CheckBatch.MaxItems, nameof(CheckBatchSize),
            $"must be from 1 to {Scheduling.CheckBatch.MaxItems} (is {o.CheckBatchSize}).");
        errors.Require(o.EnqueueConcurrency is >= 1 and <= 1000, nameof(EnqueueConcurrency), $"must be from 1 to 1000 (is {o.EnqueueConcurrency}).");
    }
}
