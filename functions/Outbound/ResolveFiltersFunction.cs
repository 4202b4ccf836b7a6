using RelayFunctions.Hosting;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

namespace RelayFunctions.Outbound;

/// <summary>Queue trigger: looks up the host-name source filters of one outbound account.</summary>
public sealed class ResolveFiltersFunction(FilterLookup lookup) : QueueFunction<CheckRequest>(FunctionName, StorageNames.FilterLookupsQueue, CheckRequest.Parse)
{
    public const string FunctionName = "ResolveFilters";

    protected override Task RunAsync(CheckRequest message, CancellationToken cancellationToken) => lookup.RunAsync(message, cancellationToken);
}
