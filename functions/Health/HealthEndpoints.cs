using Azure;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RelayFunctions.Storage;

namespace RelayFunctions.Health;

/// <summary>
/// <c>GET /api/health</c>, anonymous: the ASP.NET Core health checks, one per storage service the app needs. 200 with
/// <c>{"status":"healthy",…}</c> when each answers within five seconds, 503 with the failing one named otherwise.
/// </summary>
public static class HealthEndpoints
{
    public static IServiceCollection AddStorageHealthChecks(this IServiceCollection services)
    {
        var timeout = TimeSpan.FromSeconds(5);
        services.AddHealthChecks()
            .AddCheck<StorageServiceCheck.Tables>("tables", timeout: timeout)
            .AddCheck<StorageServiceCheck.Queues>("queues", timeout: timeout)
            .AddCheck<StorageServiceCheck.Blobs>("blobs", timeout: timeout);
        return services;
    }

    public static void MapHealthEndpoints(this RouteGroupBuilder api)
    {
        // For monitors and load balancers, not for clients of the API: not in the OpenAPI document.
        api.MapGet("/health", CheckAsync).AllowAnonymous().ExcludeFromDescription();
    }

    private static async Task<IResult> CheckAsync(HealthCheckService health, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(cancellationToken);
        var view = new HealthView(
            Name(report.Status),
            report.Entries.ToDictionary(e => e.Key, e => new HealthCheckView(Name(e.Value.Status), e.Value.Description)));
        return TypedResults.Json(view, statusCode: report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

    private static string Name(HealthStatus status) => status.ToString().ToLowerInvariant();

    /// <summary><c>healthy</c>, <c>degraded</c> or <c>unhealthy</c>, and each check's status and error.</summary>
    public sealed record HealthView(string Status, IReadOnlyDictionary<string, HealthCheckView> Checks);

    public sealed record HealthCheckView(string Status, string? Error);
}

/// <summary>Can the app reach one storage service? The cheapest call that needs the service: list one item.</summary>
public abstract class StorageServiceCheck(Func<CancellationToken, Task> probe) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await probe(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is RequestFailedException or OperationCanceledException or HttpRequestException or AggregateException)
        {
            return HealthCheckResult.Unhealthy(e is OperationCanceledException ? "timed out" : e.GetType().Name);
        }
    }

    public sealed class Tables(StorageClients storage) : StorageServiceCheck(async t =>
    {
        await foreach (var _ in storage.Tables.QueryAsync(maxPerPage: 1, cancellationToken: t).AsPages())
        {
            break;
        }
    });

    public sealed class Queues(StorageClients storage) : StorageServiceCheck(async t =>
    {
        await foreach (var _ in storage.Queues.GetQueuesAsync(cancellationToken: t).AsPages(pageSizeHint: 1))
        {
            break;
        }
    });

    public sealed class Blobs(StorageClients storage) : StorageServiceCheck(async t =>
    {
        await foreach (var _ in storage.Blobs.GetBlobContainersAsync(cancellationToken: t).AsPages(pageSizeHint: 1))
        {
            break;
        }
    });
}
