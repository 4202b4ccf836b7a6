using Azure;
using Azure.Data.Tables;
using RelayFunctions.Storage;

namespace RelayFunctions.Alerts;

/// <summary>
/// Sends an alert at most once per event. A row keyed by the subject and the event's token (the check message that
/// caused it) is written before sending (<c>SentAlerts</c>), so a retried message finds it and stays silent. Only a
/// definite refusal by the mail service removes the row again, so that the retry may send.
/// </summary>
public sealed partial class AlertOnce(StorageClients storage, StorageInitializer initializer, IAlertSender sender, ILogger<AlertOnce> logger)
{
    private TableClient Table => storage.Table("SentAlerts");

    /// <param name="subject">What the alert is about, e.g. <c>helper|acme|acme.example</c>.</param>
    /// <param name="token">The event, e.g. the check's token.</param>
    public async Task SendAsync(string subject, string token, AlertMessage message, CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        var key = new TableEntity(subject, token) { ["State"] = "sending" };
        try
        {
            await Table.AddEntityAsync(key, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            Log.AlreadySent(logger, subject, token);
            return;
        }

        try
        {
            await sender.SendAsync(message, cancellationToken);
            key["State"] = "sent";
        }
        catch (Exception e) when (e is OperationCanceledException || e is AlertDeliveryException { Definite: true })
        {
            await Table.DeleteEntityAsync(key.PartitionKey, key.RowKey, ETag.All, CancellationToken.None);
            throw;
        }
        catch (AlertDeliveryException e)
        {
            // It may have gone out: sending again could alert twice, which the rule forbids.
            Log.Uncertain(logger, e, subject);
            key["State"] = "uncertain";
        }
        await Table.UpsertEntityAsync(key, TableUpdateMode.Replace, CancellationToken.None);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "The alert about {Subject} for {Token} was already sent")]
        public static partial void AlreadySent(ILogger logger, string subject, string token);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The alert about {Subject} may or may not have been delivered; not sending it again")]
        public static partial void Uncertain(ILogger logger, Exception exception, string subject);
    }
}
