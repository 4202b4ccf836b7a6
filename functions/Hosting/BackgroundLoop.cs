namespace RelayFunctions.Hosting;

/// <summary>
/// Keeps a background loop of the standalone app alive: a loop that fails is logged and started again after a pause,
/// so no failure (storage above all) ends the host, which stops on a background service's unhandled exception.
/// </summary>
public static partial class BackgroundLoop
{
    public static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(5);

    public static async Task RunAsync(string name, Func<CancellationToken, Task> loop, ILogger logger, TimeProvider time, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await loop(stopping);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.Restarting(logger, e, name, RestartDelay);
            }
            try
            {
                await Task.Delay(RestartDelay, time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "The background loop of {Name} failed; starting it again in {Delay}")]
        public static partial void Restarting(ILogger logger, Exception exception, string name, TimeSpan delay);
    }
}
