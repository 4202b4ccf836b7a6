using Azure;

namespace RelayFunctions.Storage;

/// <summary>Optimistic concurrency: a lost race is answered by reading again and re-applying the change.</summary>
public static class Retry
{
    public const int Attempts = 5;

    public static bool IsConflict(RequestFailedException e) => e.Status is 409 or 412;

    /// <summary>Runs <paramref name="attempt"/> until it returns a value (not null) or the attempts are used up.</summary>
    public static async Task<T> OnStaleAsync<T>(Func<Task<T?>> attempt, Func<T> exhausted)
        where T : class
    {
        for (var i = 0; i < Attempts; i++)
        {
            if (await attempt() is { } result)
            {
                return result;
            }
        }
        return exhausted();
    }
}
