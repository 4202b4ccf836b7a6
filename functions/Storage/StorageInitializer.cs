using Azure;

namespace RelayFunctions.Storage;

/// <summary>Creates the tables, queues and containers the app uses, once per process, on first use.</summary>
public sealed class StorageInitializer(StorageClients clients)
{
    private readonly Lock _gate = new();
    private Task? _ready;

    public static readonly string[] TableNames = ["Accounts", "Domains", "DomainFamilies", "VerificationSchedule", "Helpers", "HelperSchedule", "HelperHistory", "SentAlerts", "OutboundAccounts", "OutboundLogins", "OutboundKeys", "OutboundUsage", "FilterSchedule", "RelayMapState", "RelayReports", "RelayBlocks"];

    /// <summary>Done once; a try that failed (storage was away or hung) is made again by the next caller, not kept.</summary>
    public Task EnsureCreatedAsync()
    {
        lock (_gate)
        {
            if (_ready is null || _ready.IsFaulted || _ready.IsCanceled)
            {
                _ready = CreateAsync(clients);
            }
            return _ready;
        }
    }

    private static async Task CreateAsync(StorageClients clients)
    {
        foreach (var name in TableNames)
        {
            await IgnoreConflict(() => clients.Table(name).CreateIfNotExistsAsync());
        }
    }

    // Two instances may race to create the same table; the loser's 409 is harmless.
    private static async Task IgnoreConflict(Func<Task> create)
    {
        try
        {
            await create();
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
        }
    }
}
