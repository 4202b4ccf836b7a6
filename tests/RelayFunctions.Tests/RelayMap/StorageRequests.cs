using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>Records each storage request a client sends, retries included, as "METHOD path status".</summary>
internal sealed class StorageRequests : HttpPipelinePolicy
{
    private readonly ConcurrentQueue<string> _seen = new();

    public IReadOnlyList<string> Seen => [.. _seen];

    public void Clear() => _seen.Clear();

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        Record(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        Record(message);
    }

    private void Record(HttpMessage message)
    {
        var path = message.Request.Uri.ToUri().AbsolutePath;
        _seen.Enqueue($"{message.Request.Method} {path[(path.LastIndexOf('/') + 1)..]} {(message.HasResponse ? message.Response.Status : 0)}");
    }
}
