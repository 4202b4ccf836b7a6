namespace RelayFunctions.Alerts;

/// <summary>The mail transport for alerts (SMTP, Azure Communication Services, or none).</summary>
public interface IAlertSender
{
    /// <summary>
    /// Returns once the transport has accepted the message. Throws <see cref="AlertDeliveryException"/> when it
    /// did not; cancellation through <paramref name="cancellationToken"/> surfaces as usual.
    /// </summary>
    Task SendAsync(AlertMessage message, CancellationToken cancellationToken);
}

/// <summary>An alert the transport did not accept.</summary>
public sealed class AlertDeliveryException(string message, bool definite, Exception? innerException = null, bool permanent = false)
    : Exception(message, innerException)
{
    /// <summary>
    /// True when the message was certainly not delivered (refused before the transport took it), so sending it
    /// again cannot produce a duplicate. False when it may have been delivered, e.g. the connection was lost
    /// after the message content went out, or an HTTP request timed out.
    /// </summary>
    public bool Definite { get; } = definite;

    /// <summary>
    /// True when the transport refused the message for good (an SMTP 5xx reply, an HTTP error other than 408, 429 and
    /// 5xx), so trying again cannot help. False for what may pass (no connection, a 4xx SMTP reply, throttling).
    /// </summary>
    public bool Permanent { get; } = permanent && definite;
}
