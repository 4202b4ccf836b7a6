using RelayShared;

namespace RelayFunctions.Storage;

/// <summary>
/// The logical names of the app's tables, queues and containers (<see cref="StorageClients"/> adds the prefix). Queue
/// names are also written in the function.json files, which the Functions host reads as they are.
/// </summary>
public static class StorageNames
{
    public const string Accounts = "Accounts";
    public const string Domains = "Domains";
    public const string DomainFamilies = "DomainFamilies";
    public const string VerificationSchedule = "VerificationSchedule";
    public const string Helpers = "Helpers";
    public const string HelperSchedule = "HelperSchedule";
    public const string HelperHistory = "HelperHistory";
    public const string SentAlerts = "SentAlerts";
    public const string OutboundAccounts = "OutboundAccounts";
    public const string OutboundLogins = "OutboundLogins";
    public const string OutboundKeys = "OutboundKeys";

    /// <summary>Written by the relay agents, read here.</summary>
    public const string OutboundUsage = RelayStorageNames.OutboundUsageTable;

    public const string FilterSchedule = "FilterSchedule";
    public const string RelayMapState = "RelayMapState";

    /// <summary>Written by the relay agents, read here.</summary>
    public const string RelayReports = RelayStorageNames.RelayReportsTable;

    /// <summary>Written by the relay agents, read here.</summary>
    public const string RelayBlocks = RelayStorageNames.RelayBlocksTable;

    /// <summary>Every table, created at start-up (<see cref="StorageInitializer"/>).</summary>
    public static readonly IReadOnlyList<string> Tables =
    [
        Accounts, Domains, DomainFamilies, VerificationSchedule, Helpers, HelperSchedule, HelperHistory, SentAlerts,
        OutboundAccounts, OutboundLogins, OutboundKeys, OutboundUsage, FilterSchedule, RelayMapState, RelayReports, RelayBlocks,
    ];

    public const string HelperChecksQueue = "helper-checks";
    public const string DomainVerificationsQueue = "domain-verifications";
    public const string FilterLookupsQueue = "filter-lookups";
    public const string BccBouncesQueue = RelayStorageNames.BccBouncesQueue;
    public const string AlertRetriesQueue = "alert-retries";

    /// <summary>The timers' singleton locks and schedule status, where the Functions host keeps its own.</summary>
    public const string HostsContainer = "azure-webjobs-hosts";
}
