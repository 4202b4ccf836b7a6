using RelayFunctions.Hosting;
using RelayFunctions.Storage;

namespace RelayFunctions.Alerts;

/// <summary>Queue trigger: tries an alert again that the mail service could not take earlier.</summary>
public sealed class RetryAlertsFunction(AlertOnce alerts) : IQueueFunction
{
    public const string FunctionName = "RetryAlerts";
    public const string Queue = StorageNames.AlertRetriesQueue;

    public string Name => FunctionName;

    public string QueueName => Queue;

    public Task RunAsync(QueueMessage message, CancellationToken cancellationToken) =>
        alerts.RetryAsync(AlertRetry.Parse(message.Body), cancellationToken);
}
