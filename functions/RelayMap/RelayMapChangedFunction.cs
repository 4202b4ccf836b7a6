using RelayFunctions.Hosting;

namespace RelayFunctions.RelayMap;

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
