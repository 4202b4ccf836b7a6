using Azure;

namespace RelayFunctions.Storage;

/// <summary>Tells a storage outage (no answer, no connection, a server error) from an answer the code must handle.</summary>
public static class StorageFailure
{
    /// <summary>
    /// True when storage did not answer in time or could not be reached, or answered with a server error: what a
    /// retry later may cure. The SDK reports retries that all failed as one <see cref="AggregateException"/>.
    /// </summary>
    public static bool IsUnavailable(Exception e) => e switch
    {
        RequestFailedException r => r.Status is 0 or 408 or 500 or 502 or 503 or 504,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsUnavailable),
        HttpRequestException or TimeoutException or IOException => true,
        // The clients' network timeout, not a caller's cancellation: the caller checks its own token first.
        OperationCanceledException => true,
        _ => false,
    };
}
