using Azure;

namespace RelayFunctions.Storage;

/// <summary>Creates the tables, queues and containers the app uses, once per process, on first use.</summary>
public sealed class StorageInitializer(StorageClients clients)
{
    private readonly Lazy<Task> _ready = new(() => CreateAsync(clients));

    public static readonly string[] TableNames = ["Accounts", "Domains", "DomainFamilies", "VerificationSchedule", "Helpers", "HelperSchedule", "HelperHistory", "SentAlerts", "OutboundAccounts", "OutboundLogins", "OutboundKeys", "OutboundUsage", "FilterSchedule", "RelayMapState", "RelayReports", "RelayBlocks"];

    public Task EnsureCreatedAsync() => _ready.Value;

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
