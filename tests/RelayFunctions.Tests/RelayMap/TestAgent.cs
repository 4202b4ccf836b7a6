using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RelayAgent;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>The relay agent wired as its host wires it, against the test Azurite and the app's storage prefix.</summary>
internal static class TestAgent
{
    public static (AgentWorker Worker, MapApplier Applier) Create(AgentOptions options)
    {
        options.ConnectionString = Azurite.ConnectionString;
        var applier = new MapApplier(options, new Commands(options), NullLogger<MapApplier>.Instance);
        var worker = new AgentWorker(
            new MapSource(new BlobContainerClient(Azurite.ConnectionString, $"{options.Prefix}-relay-map")),
            applier, Reports(options.Prefix), Options.Create(options), TimeProvider.System, NullLogger<AgentWorker>.Instance);
        return (worker, applier);
    }

    public static TableClient Reports(string prefix) => new(Azurite.ConnectionString, prefix + "RelayReports");
}
