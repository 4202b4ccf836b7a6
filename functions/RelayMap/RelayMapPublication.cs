using Microsoft.Extensions.Options;

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
