namespace RelayFunctions.Alerts;

/// <summary>Transport <c>none</c>: alerts are only logged, so a deployment without mail still runs.</summary>
public sealed partial class NoAlertSender(ILogger<NoAlertSender> logger) : IAlertSender
{
    public Task SendAsync(AlertMessage message, CancellationToken cancellationToken)
    {
        Log.NotSent(logger, message.Subject, message.RecipientDomain);
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Alert \"{Subject}\" to a recipient at {RecipientDomain} not sent: Alerts:Transport is none")]
        public static partial void NotSent(ILogger logger, string subject, string recipientDomain);
    }
}
