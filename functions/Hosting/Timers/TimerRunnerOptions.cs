namespace RelayFunctions.Hosting.Timers;

/// <summary>Standalone timer settings. The defaults are the Functions host's singleton settings (reference §3).</summary>
public sealed class TimerRunnerOptions
{
    public const string Section = "Hosting";

    /// <summary>Names the lock and status blobs; apps that share a storage account need distinct ids.</summary>
    public string HostId { get; set; } = "relayfunctions";

    /// <summary>The singleton lease; Blob storage allows 15 to 60 seconds. Renewed at half-time.</summary>
    public TimeSpan LockLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often an instance without the lock tries to take it.</summary>
    public TimeSpan LockRecoveryInterval { get; set; } = TimeSpan.FromMinutes(1);

    public static void Check(TimerRunnerOptions o, SettingErrors errors)
    {
        errors.Require(!string.IsNullOrWhiteSpace(o.HostId) && o.HostId.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') && o.HostId.Length <= 32,
            nameof(HostId), $"'{o.HostId}' must be 1–32 lowercase letters, digits or hyphens.");
        errors.Require(o.LockLease >= TimeSpan.FromSeconds(15) && o.LockLease <= TimeSpan.FromSeconds(60), nameof(LockLease),
            $"Blob storage leases last 15 to 60 seconds (is {o.LockLease}).");
        errors.Positive(o.LockRecoveryInterval, nameof(LockRecoveryInterval));
    }
}
