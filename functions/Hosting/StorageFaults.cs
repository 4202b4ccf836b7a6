using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using RelayFunctions.Storage;

namespace RelayFunctions.Hosting;

/// <summary>
/// Every API request answers within <c>Storage__RequestTimeout</c>: a request still waiting for storage then is cut
/// off, and one that failed because storage is away or hangs is answered the same way, with a 503 problem and
/// <c>Retry-After</c> rather than a 500 or no answer at all. A caller that hung up is not answered (499, as before).
/// </summary>
public static class StorageFaults
{
    /// <summary>Seconds a caller is asked to wait before trying again.</summary>
    public const int RetryAfterSeconds = 10;

    public static IServiceCollection AddStorageFaults(this IServiceCollection services)
    {
        services.AddExceptionHandler<StorageUnavailableHandler>();
        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<StorageOptions>>((o, storage) =>
            o.DefaultPolicy = new RequestTimeoutPolicy
            {
                Timeout = storage.Value.RequestTimeout,
                TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
                WriteTimeoutResponse = WriteAsync,
            });
        return services;
    }

    public static Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The service is unavailable",
                Detail = $"The request did not complete in time (the service's storage is slow or away). A change may or may not have been made: read the resource, or repeat the request (with If-Match where it takes one), in {RetryAfterSeconds} seconds.",
            },
        }).AsTask();
    }

    /// <summary>Storage that is away, or whose retries all failed, is a 503 like a timeout, not a 500.</summary>
    private sealed class StorageUnavailableHandler : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (context.RequestAborted.IsCancellationRequested || context.Response.HasStarted || !StorageFailure.IsUnavailable(exception))
            {
                return false;
            }
            await WriteAsync(context);
            return true;
        }
    }
}
