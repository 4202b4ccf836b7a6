using RelayFunctions.Hosting;
using RelayFunctions.Storage;

namespace RelayFunctions.Alerts;

/// <summary>Queue trigger: tries an alert again that the mail service could not take earlier.</summary>
public sealed class RetryAlertsFunction(AlertOnce alerts) : QueueFunction<AlertRetry>(FunctionName, StorageNames.AlertRetriesQueue, AlertRetry.Parse)
{
    public const string FunctionName = "RetryAlerts";

    protected override Task RunAsync(AlertRetry message, CancellationToken cancellationToken) => alerts.RetryAsync(message, cancellationToken);
}
