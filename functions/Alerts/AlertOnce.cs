using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.Storage;

namespace RelayFunctions.Alerts;

/// <summary>
/// Sends an alert once per event, and keeps trying while the mail service is down. A row keyed by the subject and the
/// event's token (the check message that caused it) is written before sending (<c>SentAlerts</c>), so a retried check
/// finds it and stays silent. Before the first try a retry is queued (<c>alert-retries</c>); while the service cannot
/// take the alert (no connection, a 4xx reply, 429/5xx) each retry tries again and queues the next one with a doubling
/// delay, for <c>Alerts__RetryFor</c>. A refusal for good (5xx for the recipient) is not retried, and an alert that may
/// have gone out is never sent again.
/// </summary>
public sealed partial class AlertOnce(
    StorageClients storage, IAlertSender sender, QueueWriter queues,
    IOptions<AlertOptions> options, TimeProvider time, ILogger<AlertOnce> logger)
{
    /// <summary>A row still "sending" after this long belongs to a try that never finished.</summary>
    private static readonly TimeSpan StuckAfter = TimeSpan.FromMinutes(10);

    private const string Sending = "sending", Retrying = "retrying", Sent = "sent", Uncertain = "uncertain", Refused = "refused", Abandoned = "abandoned";

    private TableClient Table => storage.Table(StorageNames.SentAlerts);

    /// <param name="subject">What the alert is about, e.g. <c>helper|acme|acme.example</c>.</param>
    /// <param name="token">The event, e.g. the check's token.</param>
    public async Task SendAsync(string subject, string token, AlertMessage message, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var retry = new AlertRetry(subject, token, message, 1, time.GetUtcNow());
        // Queued before the first try, so whatever becomes of that try (a mail server that is down, the app stopping),
        // the alert is tried again. A retry that finds the alert sent does nothing.
        await queues.SendAsync(StorageNames.AlertRetriesQueue, retry.ToJson(), o.FirstRetry, cancellationToken);
        var row = AlertEntity.Sending(subject, token);
        try
        {
            await Table.AddEntityAsync(row, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            Log.AlreadySent(logger, subject, token);
            return;
        }
        await TryAsync(row, retry, next: null, cancellationToken);
    }

    /// <summary>One try from the <c>alert-retries</c> queue; a copy of the message that comes twice sends nothing twice.</summary>
    public async Task RetryAsync(AlertRetry retry, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var found = await Table.GetEntityIfExistsAsync<AlertEntity>(retry.Subject, retry.Token, cancellationToken: cancellationToken);
        var row = found.HasValue ? found.Value! : AlertEntity.Sending(retry.Subject, retry.Token);
        if (!found.HasValue)
        {
            // The first try never got as far as its row: this one is the first.
            if (!await TryClaimAsync(() => Table.AddEntityAsync(row, cancellationToken)))
            {
                return;
            }
        }
        else
        {
            switch (row.State)
            {
                case Sending when time.GetUtcNow() - (row.Timestamp ?? time.GetUtcNow()) < StuckAfter:
                    // The first try is still under way: look again later.
                    await queues.SendAsync(StorageNames.AlertRetriesQueue, retry.ToJson(), o.FirstRetry, cancellationToken);
                    return;
                case Sending:
                    Log.Stuck(logger, retry.Subject);
                    row.State = Uncertain;
                    await Table.UpsertEntityAsync(row, TableUpdateMode.Replace, CancellationToken.None);
                    return;
                case Retrying:
                    row.State = Sending;
                    if (!await TryClaimAsync(() => Table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken)))
                    {
                        return;
                    }
                    break;
                default:
                    // Sent, refused for good, given up, or possibly delivered: nothing to do.
                    return;
            }
        }
        await TryAsync(row, retry, retry with { Attempt = retry.Attempt + 1 }, cancellationToken);
    }

    /// <summary>False when another copy of the retry took the row first.</summary>
    private static async Task<bool> TryClaimAsync(Func<Task> claim)
    {
        try
        {
            await claim();
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
        {
            return false;
        }
    }

    /// <param name="next">The retry to queue if this try fails for now; null when one is queued already.</param>
    private async Task TryAsync(AlertEntity row, AlertRetry retry, AlertRetry? next, CancellationToken cancellationToken)
    {
        var o = options.Value;
        string state;
        TimeSpan? delay = null;
        try
        {
            await sender.SendAsync(retry.Message, cancellationToken);
            state = Sent;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped before the transport took it: the queued retry sends it.
            row.State = Retrying;
            await Table.UpsertEntityAsync(row, TableUpdateMode.Replace, CancellationToken.None);
            throw;
        }
        catch (AlertDeliveryException e) when (e.Permanent)
        {
            Log.Refused(logger, e, retry.Subject);
            state = Refused;
        }
        catch (AlertDeliveryException e) when (!e.Definite)
        {
            // It may have gone out: sending again could alert twice, which the rule forbids.
            Log.Uncertain(logger, e, retry.Subject);
            state = Uncertain;
        }
        catch (Exception e)
        {
            // Not taken, for now (no connection, a 4xx reply, throttled): tried again later, up to the retry period.
            if (time.GetUtcNow() - retry.Since >= o.RetryFor)
            {
                Log.GaveUp(logger, e, retry.Subject, retry.Since, retry.Attempt);
                state = Abandoned;
            }
            else
            {
                delay = next is null ? o.FirstRetry : AlertRetry.Delay(next.Attempt, o.FirstRetry, o.MaximumRetry);
                Log.Postponed(logger, e, retry.Subject, retry.Attempt, delay.Value);
                state = Retrying;
            }
        }
        row.State = state;
        await Table.UpsertEntityAsync(row, TableUpdateMode.Replace, CancellationToken.None);
        if (state == Retrying && next is not null)
        {
            await queues.SendAsync(StorageNames.AlertRetriesQueue, next.ToJson(), delay, CancellationToken.None);
        }
    }

    /// <summary>A row of <c>SentAlerts</c>: subject / the event's token, and how far its alert got.</summary>
    private sealed class AlertEntity : StoredEntity
    {
        public string? State { get; set; }

        public static AlertEntity Sending(string subject, string token) => new() { PartitionKey = subject, RowKey = token, State = AlertOnce.Sending };
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "The alert about {Subject} for {Token} was already sent")]
        public static partial void AlreadySent(ILogger logger, string subject, string token);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The alert about {Subject} may or may not have been delivered; not sending it again")]
        public static partial void Uncertain(ILogger logger, Exception exception, string subject);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The alert about {Subject} was not taken on try {Attempt}; trying again in {Delay}")]
        public static partial void Postponed(ILogger logger, Exception exception, string subject, int attempt, TimeSpan delay);

        [LoggerMessage(Level = LogLevel.Error, Message = "The alert about {Subject} was refused for good; it is not sent")]
        public static partial void Refused(ILogger logger, Exception exception, string subject);

        [LoggerMessage(Level = LogLevel.Error, Message = "The alert about {Subject}, waiting since {Since}, was not taken in {Attempts} tries; giving up")]
        public static partial void GaveUp(ILogger logger, Exception exception, string subject, DateTimeOffset since, int attempts);

        [LoggerMessage(Level = LogLevel.Warning, Message = "A try to send the alert about {Subject} never finished; it may have gone out, so it is not sent again")]
        public static partial void Stuck(ILogger logger, string subject);
    }
}
