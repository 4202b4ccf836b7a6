using Microsoft.Extensions.Options;
using RelayFunctions.Hosting;

namespace RelayFunctions.RelayMap;

/// <summary>
/// Publishes a new generation when a routing change marked the map dirty since the current one, or when the current
/// one is older than the safety interval; otherwise does nothing. Both publishing triggers run this.
/// </summary>
public sealed class RelayMapPublication(RelayMapPublisher publisher, MapChanges changes, TimeProvider time, IOptions<RelayMapOptions> options)
{
    /// <param name="rebuild">An operator asked for a snapshot read from the <c>Domains</c> table: always published.</param>
    public async Task RunAsync(CancellationToken cancellationToken, bool rebuild = false)
    {
        // The request is claimed and the marker's version read before the build, so a change made during the build
        // asks for (and, through the safety timer at the latest, gets) another publication.
        var version = await changes.ClaimAsync(cancellationToken);
        var current = await publisher.CurrentAsync(cancellationToken);
        // Rows in the change log with no request for them: a writer stopped between recording a change and asking.
        var fresh = current is not null && current.SourceVersion == version
            && time.GetUtcNow() - current.PublishedAt < options.Value.SafetyInterval
            && (await changes.PendingAsync(cancellationToken)).Count == 0;
        if (!fresh || rebuild)
        {
            await publisher.PublishAsync(version, cancellationToken, rebuild: rebuild);
        }
    }
}

/// <summary>
/// Queue trigger: the first routing change after a publication sends one message (<see cref="MapChanges"/>), so a
/// change is published within moments while an idle map costs no invocations at all.
/// </summary>
public sealed class RelayMapChangedFunction(RelayMapPublication publication) : IQueueFunction
{
    public const string FunctionName = "RelayMapChanged";

    public string Name => FunctionName;

    public string QueueName => MapChanges.Queue;

    public Task RunAsync(QueueMessage message, CancellationToken cancellationToken) =>
        publication.RunAsync(cancellationToken, rebuild: message.Body.Contains(MapChanges.RebuildRequest, StringComparison.Ordinal));
}

/// <summary>
/// Timer trigger, the safety net: republishes at least every safety interval (relays that missed a generation catch up,
/// and the pointer's age shows the publisher is alive), and publishes a change whose message was lost.
/// </summary>
public sealed class PublishRelayMapFunction(RelayMapPublication publication, IOptions<RelayMapOptions> options) : ITimerFunction
{
    public const string FunctionName = "PublishRelayMap";

    public string Name => FunctionName;

    public string Schedule => options.Value.Schedule;

    public Task RunAsync(TimerInfo timer, CancellationToken cancellationToken) => publication.RunAsync(cancellationToken);
}
