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
}
