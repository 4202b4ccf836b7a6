using Microsoft.Extensions.Options;
using RelayFunctions.Hosting;

namespace RelayFunctions.RelayMap;

/// <summary>
/// Timer trigger: publishes a new generation when a routing change marked the map dirty since the current one
/// (a burst of changes between two ticks becomes one generation), and at least every safety interval.
/// </summary>
public sealed class PublishRelayMapFunction(
    RelayMapPublisher publisher, MapChanges changes, TimeProvider time, IOptions<RelayMapOptions> options) : ITimerFunction
{
    public const string FunctionName = "PublishRelayMap";

    public string Name => FunctionName;

    public string Schedule => options.Value.Schedule;

    public async Task RunAsync(TimerInfo timer, CancellationToken cancellationToken)
    {
        // The marker's version is read before the build, so a change made during the build makes the next tick publish again.
        var version = (await changes.VersionAsync(cancellationToken))?.ToString();
        var current = await publisher.CurrentAsync(cancellationToken);
        var fresh = current is not null && current.SourceVersion == version
            && time.GetUtcNow() - current.PublishedAt < options.Value.SafetyInterval;
        if (!fresh)
        {
            await publisher.PublishAsync(version, cancellationToken);
        }
    }
}
