using Azure;
using Azure.Storage.Queues;

namespace RelayAgent.Submission;

/// <summary>
/// Hands the BCC bounces the relaybounce service spooled (<see cref="BounceCommand"/>) to the control plane's
/// <c>bcc-bounces</c> queue, which removes the BCC recipient; a file is deleted only once its message is queued.
/// </summary>
public sealed partial class BounceForwarder(QueueClient queue, AgentOptions options, TimeProvider time, ILogger<BounceForwarder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await ForwardAsync(stoppingToken);
                await Task.Delay(options.PollInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Queues every spooled bounce; returns how many.</summary>
    public async Task<int> ForwardAsync(CancellationToken ct)
    {
        if (!Directory.Exists(options.BounceSpool))
        {
            return 0;
        }
        var sent = 0;
        foreach (var file in Directory.EnumerateFiles(options.BounceSpool, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                var body = await File.ReadAllTextAsync(file, ct);
                try
                {
                    await queue.SendMessageAsync(body, ct);
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    // The function app creates its queues; locally the agent may come first. (In Azure the relay may only send.)
                    await queue.CreateIfNotExistsAsync(cancellationToken: ct);
                    await queue.SendMessageAsync(body, ct);
                }
                File.Delete(file);
                sent++;
            }
            catch (Exception e) when (e is RequestFailedException or IOException or HttpRequestException)
            {
                Log.Failed(logger, e, file);
                break;
            }
        }
        return sent;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Handing the BCC bounce {File} to the control plane failed; will retry")]
        public static partial void Failed(ILogger logger, Exception exception, string file);
    }
}
