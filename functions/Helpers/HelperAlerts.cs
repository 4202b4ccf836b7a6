using Azure;
using Azure.Data.Tables;
using RelayFunctions.Accounts;
using RelayFunctions.Alerts;
using RelayFunctions.Storage;

namespace RelayFunctions.Helpers;

/// <summary>
/// The alert a helper sends when it changes a domain's routing, worded as the seed's sample. Sent at most once per
/// change: a row keyed by the check's token is written before sending (<c>HelperAlerts</c>), so a retried message
/// finds it and stays silent. Only a definite refusal removes the row again, so that the retry may send.
/// </summary>
public sealed partial class HelperAlerts(
    StorageClients storage, StorageInitializer initializer, IAlertSender sender, ILogger<HelperAlerts> logger)
{
    private TableClient Table => storage.Table("HelperAlerts");

    /// <summary>The seed's sample; the sender puts the service tag in front of the subject ("[relay] IP Helper example.com").</summary>
    public static AlertMessage Compose(IpHelper helper, Account account, PendingChange change) => new(
        account.AlertEmail!.ToString(),
        $"IP Helper {helper.Domain}",
        $"{change.To.Describe()}\n--\nHelper alert: '{account.AlertEmail}' account '{account.Id}'.\nThis is an automated message.\n");

    public async Task SendOnceAsync(IpHelper helper, Account account, CancellationToken cancellationToken)
    {
        if (helper.Change is not { } change || !helper.Settings.AlertOnChange || account.AlertEmail is null || helper.LastCheckToken is null)
        {
            return;
        }
        await initializer.EnsureCreatedAsync();
        var key = new TableEntity(helper.AccountId + "|" + helper.Domain.Value, helper.LastCheckToken) { ["State"] = "sending" };
        try
        {
            await Table.AddEntityAsync(key, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            Log.AlreadySent(logger, helper.Domain.Value, helper.LastCheckToken);
            return;
        }

        var message = Compose(helper, account, change);
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
            Log.Uncertain(logger, e, helper.Domain.Value);
            key["State"] = "uncertain";
        }
        await Table.UpsertEntityAsync(key, TableUpdateMode.Replace, CancellationToken.None);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "The alert for {Domain}'s change {Token} was already sent")]
        public static partial void AlreadySent(ILogger logger, string domain, string token);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The alert for {Domain} may or may not have been delivered; not sending it again")]
        public static partial void Uncertain(ILogger logger, Exception exception, string domain);
    }
}
