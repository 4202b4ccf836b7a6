using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;

namespace RelayFunctions.Alerts;

/// <summary>Sends alerts through an SMTP server (a smarthost or the relay's own Postfix), one connection per alert.</summary>
public sealed partial class SmtpAlertSender(IOptions<AlertOptions> options, TimeProvider time, ILogger<SmtpAlertSender> logger)
    : IAlertSender
{
    private readonly AlertOptions _options = options.Value;
    private readonly string _host = string.IsNullOrWhiteSpace(options.Value.Smtp.Host)
        ? throw new InvalidOperationException("Alerts:Smtp:Host is not set.")
        : options.Value.Smtp.Host;

    public async Task SendAsync(AlertMessage message, CancellationToken cancellationToken)
    {
        var smtp = _options.Smtp;
        var mime = Compose(message);
        var content = new ContentProgress();
        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        string reply;
        try
        {
            TryParseSecurity(smtp.Security, out var security);
            await client.ConnectAsync(_host, smtp.Port, security, cancellationToken);
            if (!string.IsNullOrEmpty(smtp.Username))
            {
                await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", cancellationToken);
            }
            reply = await client.SendAsync(mime, cancellationToken, content);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !content.Started)
        {
            // Stopped before the content went out: nothing was delivered, and the queued retry sends it.
            throw;
        }
        catch (SmtpCommandException e)
        {
            // The server answered with an error code, so whatever the stage it did not take the message; a 4xx code
            // asks to try again later, a 5xx one refuses for good.
            throw new AlertDeliveryException(
                $"The SMTP server {_host}:{smtp.Port} refused the alert ({(int)e.StatusCode} {e.ErrorCode}): {e.Message}", definite: true, e,
                permanent: (int)e.StatusCode >= 500);
        }
        catch (Exception e)
        {
            // Once the content has gone out, a lost connection (or a stop) may have lost only the server's final reply.
            throw new AlertDeliveryException(
                $"Sending the alert through {_host}:{smtp.Port} failed: {e.Message}", definite: !content.Started, e);
        }
        Log.Sent(logger, message.Subject, message.RecipientDomain, _host, reply);
        await QuitAsync(client);
    }

    /// <summary>Maps the <c>Alerts:Smtp:Security</c> setting to MailKit's choice; false for an unknown value.</summary>
    public static bool TryParseSecurity(string? value, out SecureSocketOptions security)
    {
        SecureSocketOptions? parsed = value?.Trim().ToLowerInvariant() switch
        {
            "auto" or "" or null => SecureSocketOptions.Auto,
            "starttls" => SecureSocketOptions.StartTls,
            "tls" => SecureSocketOptions.SslOnConnect,
            "none" => SecureSocketOptions.None,
            _ => null,
        };
        security = parsed ?? SecureSocketOptions.Auto;
        return parsed is not null;
    }

    private MimeMessage Compose(AlertMessage message)
    {
        if (!MailboxAddress.TryParse(_options.From, out var from) || !MailboxAddress.TryParse(message.To, out var to))
        {
            throw new AlertDeliveryException("The alert's sender or recipient is not a valid e-mail address.", definite: true, permanent: true);
        }
        var mime = new MimeMessage
        {
            Subject = _options.TaggedSubject(message.Subject),
            Date = time.GetUtcNow(),
            MessageId = MimeUtils.GenerateMessageId(from.Domain is { Length: > 0 } domain ? domain : "localhost"),
            Body = new TextPart("plain") { Text = message.Body },
        };
        mime.From.Add(from);
        mime.To.Add(to);
        return mime;
    }

    private async Task QuitAsync(SmtpClient client)
    {
        try
        {
            await client.DisconnectAsync(quit: true, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or ProtocolException or OperationCanceledException)
        {
            // The server already accepted the message; a failed QUIT changes nothing for the alert.
            Log.QuitFailed(logger, e);
        }
    }

    /// <summary>Notes whether any of the message content was written, which happens only after DATA was answered.</summary>
    private sealed class ContentProgress : ITransferProgress
    {
        public bool Started { get; private set; }

        public void Report(long bytesTransferred, long totalSize) => Report(bytesTransferred);

        public void Report(long bytesTransferred) => Started |= bytesTransferred > 0;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Alert \"{Subject}\" to a recipient at {RecipientDomain} accepted by {SmtpHost}: {Reply}")]
        public static partial void Sent(ILogger logger, string subject, string recipientDomain, string smtpHost, string reply);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Closing the SMTP session after an accepted alert failed")]
        public static partial void QuitFailed(ILogger logger, Exception exception);
    }
}
