using Azure;

namespace RelayFunctions.Storage;

/// <summary>
/// Creates the app's tables (<see cref="StorageNames.Tables"/>) once, at start-up, before the runners and the first
/// request: the stores take them as given. Storage that is away then does not stop the app (its health says so); the
/// tables are made as soon as it answers.
/// </summary>
public sealed partial class StorageInitializer(StorageClients clients, ILogger<StorageInitializer>? logger = null) : IHostedService
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(5);
    // Never disposed: it has no timer nor wait handle, and the host may stop a service after the container disposed it.
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task? _ready;
    private Task? _retrying;

    /// <summary>Done once; a try that failed (storage was away or hung) is made again by the next call, not kept.</summary>
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

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await EnsureCreatedAsync().WaitAsync(cancellationToken);
        }
        catch (Exception e) when (StorageFailure.IsUnavailable(e) && !cancellationToken.IsCancellationRequested)
        {
            if (logger is not null)
            {
                Log.NotCreated(logger, e, RetryEvery);
            }
            _retrying = RetryAsync(_stopping.Token);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_retrying is { } retrying)
        {
            await retrying.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RetryAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RetryEvery, stopping);
                await EnsureCreatedAsync().WaitAsync(stopping);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (StorageFailure.IsUnavailable(e))
            {
                // Still away: the warning was logged once.
            }
        }
    }

    // All at once: one round trip's wait at start-up, not one a table.
    private static Task CreateAsync(StorageClients clients) =>
        Task.WhenAll(StorageNames.Tables.Select(name => IgnoreConflict(() => clients.Table(name).CreateIfNotExistsAsync())));

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

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "The tables could not be created at start-up (storage is away); trying again every {Interval}")]
        public static partial void NotCreated(ILogger logger, Exception exception, TimeSpan interval);
    }
}
