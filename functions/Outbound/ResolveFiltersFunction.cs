using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.Outbound;

/// <summary>Queue trigger: looks up the host-name source filters of one outbound account.</summary>
public sealed class ResolveFiltersFunction(FilterLookup lookup) : IQueueFunction
{
    public const string FunctionName = "ResolveFilters";
    public const string Queue = StorageNames.FilterLookupsQueue;

    public string Name => FunctionName;

    public string QueueName => Queue;

    public Task RunAsync(QueueMessage message, CancellationToken cancellationToken) =>
        lookup.RunAsync(CheckRequest.Parse(message.Body), cancellationToken);
}
