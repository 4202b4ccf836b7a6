using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RelayAgent;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>The relay agent wired as its host wires it, against the test Azurite and the app's storage prefix.</summary>
internal static class TestAgent
{
    /// <param name="storage">Added to the blob and table clients' pipelines (to count or watch requests).</param>
    public static (AgentWorker Worker, MapApplier Applier) Create(
        AgentOptions options, HttpPipelinePolicy? storage = null, TimeProvider? time = null, ILoggerFactory? logs = null)
    {
        options.ConnectionString = Azurite.ConnectionString;
        time ??= TimeProvider.System;
        logs ??= NullLoggerFactory.Instance;
        var blobOptions = new BlobClientOptions();
        var tableOptions = new TableClientOptions();
        if (storage is not null)
        {
            blobOptions.AddPolicy(storage, HttpPipelinePosition.PerRetry);
            tableOptions.AddPolicy(storage, HttpPipelinePosition.PerRetry);
        }
        var telemetry = new AgentTelemetry(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var applier = new MapApplier(options, new Commands(options), telemetry, time, logs.CreateLogger<MapApplier>());
        var reporter = new RelayReporter(new TableClient(Azurite.ConnectionString, options.Prefix + "RelayReports", tableOptions), options, time, logs.CreateLogger<RelayReporter>());
        var worker = new AgentWorker(
            new MapSource(new BlobContainerClient(Azurite.ConnectionString, $"{options.Prefix}-relay-map", blobOptions), logs.CreateLogger<MapSource>()),
            applier, reporter, telemetry, options, time, logs.CreateLogger<AgentWorker>());
        return (worker, applier);
    }

    /// <summary>The domains the live transport table routes to hold (subdomain entries aside), as the policy service asks it.</summary>
    public static IReadOnlyList<string> Held(string mapDirectory)
    {
        var transport = Path.Combine(mapDirectory, "transport");
        return File.Exists(transport + ".lmdb")
            ? [.. LmdbTable.Entries(transport).Where(e => SourceTable.IsHold(e.Value) && !e.Key.StartsWith('.')).Select(e => e.Key)]
            : [];
    }

    public static TableClient Reports(string prefix) => new(Azurite.ConnectionString, prefix + "RelayReports");
}
