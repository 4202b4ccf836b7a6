namespace RelayShared;

/// <summary>
/// The queues and tables the relays write and the app reads (logical names: the app's <c>Storage__Prefix</c> and the
/// agent's <c>Agent__Prefix</c> are put before them the same way).
/// </summary>
public static class RelayStorageNames
{
    /// <summary>The queue of BCC copies that bounced (<see cref="BccBounce"/>).</summary>
    public const string BccBouncesQueue = "bcc-bounces";

    /// <summary>Each relay's report: the generation it applied, when, its last error, when it last wrote.</summary>
    public const string RelayReportsTable = "RelayReports";

    /// <summary>The client addresses each relay blocks after repeated failed authentications.</summary>
    public const string RelayBlocksTable = "RelayBlocks";

    /// <summary>What each login submitted through each relay, per day.</summary>
    public const string OutboundUsageTable = "OutboundUsage";
}
