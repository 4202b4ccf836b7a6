namespace RelayFunctions.Hosting.Queues;

/// <summary>
/// The queue trigger's settings, read from host.json's <c>extensions.queues</c> (configuration section
/// <c>AzureFunctionsJobHost:extensions:queues</c>), so the standalone runner and the Functions host agree.
/// Defaults are the host's own (reference §3).
/// </summary>
public sealed class QueueRunnerOptions
{
    public const string Section = "AzureFunctionsJobHost:extensions:queues";

    public int BatchSize { get; set; } = 16;

    /// <summary>Fetch a new batch when this many or fewer messages are in flight; default batchSize/2 × cores.</summary>
    public int? NewBatchThreshold { get; set; }

    public int MaxDequeueCount { get; set; } = 5;

    /// <summary>How long a failed message stays invisible before its next try.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.Zero;

    public TimeSpan MaxPollingInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Invisibility while a message runs; renewed at half-time. The host uses 10 minutes.</summary>
    public TimeSpan MessageLease { get; set; } = TimeSpan.FromMinutes(10);

    public int EffectiveNewBatchThreshold => NewBatchThreshold ?? BatchSize / 2 * Environment.ProcessorCount;

    public static void Check(QueueRunnerOptions o, SettingErrors errors)
    {
        errors.Require(o.BatchSize is >= 1 and <= 32, "batchSize", $"must be from 1 to 32 (is {o.BatchSize}).");
        errors.Require(o.NewBatchThreshold is null or >= 0, "newBatchThreshold", $"must not be negative (is {o.NewBatchThreshold}).");
        errors.Require(o.MaxDequeueCount >= 1, "maxDequeueCount", $"must be at least 1 (is {o.MaxDequeueCount}).");
        errors.Require(o.VisibilityTimeout >= TimeSpan.Zero, "visibilityTimeout", $"must not be negative (is {o.VisibilityTimeout}).");
        errors.Require(o.MaxPollingInterval >= TimeSpan.FromMilliseconds(100), "maxPollingInterval", $"must be at least 00:00:00.1 (is {o.MaxPollingInterval}).");
        errors.Require(o.MessageLease >= TimeSpan.FromSeconds(2) && o.MessageLease <= TimeSpan.FromDays(7), "messageLease", $"must be from 2 seconds to 7 days (is {o.MessageLease}).");
    }
}
