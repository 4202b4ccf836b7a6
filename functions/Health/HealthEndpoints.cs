using Azure;
using RelayFunctions.Storage;

namespace RelayFunctions.Health;

/// <summary><c>GET /api/health</c>, anonymous: can the app reach each storage service?</summary>
public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/health", CheckAsync).AllowAnonymous().WithName("Health")
            .Produces<HealthReport>().Produces<HealthReport>(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> CheckAsync(StorageClients storage, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var checks = await Task.WhenAll(
            Probe("tables", async t => { await foreach (var _ in storage.Tables.QueryAsync(maxPerPage: 1, cancellationToken: t).AsPages()) { break; } }, timeout.Token),
            Probe("queues", async t => { await foreach (var _ in storage.Queues.GetQueuesAsync(cancellationToken: t).AsPages(pageSizeHint: 1)) { break; } }, timeout.Token),
            Probe("blobs", async t => { await foreach (var _ in storage.Blobs.GetBlobContainersAsync(cancellationToken: t).AsPages(pageSizeHint: 1)) { break; } }, timeout.Token));
        var healthy = checks.All(c => c.Reachable);
        var report = new HealthReport(healthy ? "healthy" : "unhealthy", checks.ToDictionary(c => c.Service, c => c));
        return healthy ? TypedResults.Ok(report) : TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<ServiceCheck> Probe(string service, Func<CancellationToken, Task> probe, CancellationToken cancellationToken)
    {
        try
        {
            await probe(cancellationToken);
            return new ServiceCheck(service, true, null);
        }
        catch (Exception e) when (e is RequestFailedException or OperationCanceledException or HttpRequestException or AggregateException)
        {
            return new ServiceCheck(service, false, e is OperationCanceledException ? "timed out" : e.GetType().Name);
        }
    }

    public sealed record ServiceCheck(string Service, bool Reachable, string? Error);

    public sealed record HealthReport(string Status, IReadOnlyDictionary<string, ServiceCheck> Storage);
}
