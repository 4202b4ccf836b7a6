using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// A mail client (MailKit) talking to the test relay, from 127.0.0.1 or another loopback address, trusting only the
/// relay's own self-signed certificate. Every line of the conversation is kept (AUTH secrets redacted by MailKit), so
/// a test can assert the exact replies and show them.
/// </summary>
internal sealed partial class Submission : IAsyncDisposable
{
    private static readonly Lazy<X509Certificate2> RelayCertificate = new(() => X509Certificate2.CreateFromPem(File.ReadAllText(Relay.CertificateFile)));
    private readonly MemoryStream _log = new();
    private readonly RawClient _client;
    private int _mark;

    private Submission(string from)
    {
        _client = new RawClient(new ProtocolLogger(_log, leaveOpen: true))
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Parse(from), 0),
            CheckCertificateRevocation = false,
            ServerCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == RelayCertificate.Value.Thumbprint,
        };
    }

    public SmtpClient Client => _client;

    /// <summary>The whole conversation so far, as MailKit logged it ("C: …", "S: …").</summary>
    public string Transcript => Encoding.UTF8.GetString(_log.ToArray());

    /// <summary>Connects to one of the relay's listeners; <paramref name="tls"/> None stays in clear, StartTls upgrades, SslOnConnect is port 465's implicit TLS.</summary>
    public static async Task<Submission> ConnectAsync(int port, SecureSocketOptions tls, string from = "127.0.0.1")
    {
        var submission = new Submission(from);
        await submission._client.ConnectAsync("127.0.0.1", port, tls);
        return submission;
    }

    public bool AdvertisesAuth => _client.Capabilities.HasFlag(SmtpCapabilities.Authentication);

    /// <summary>AUTH PLAIN; returns the server's reply ("235 2.7.0 …" or "535 5.7.8 …").</summary>
    public async Task<string> AuthenticateAsync(string login, string password)
    {
        Mark();
        try
        {
            await _client.AuthenticateAsync(new SaslMechanismPlain(login, password));
        }
        catch (AuthenticationException)
        {
            // The reply is in the transcript.
        }
        return LastReplies().Last();
    }

    /// <summary>Sends a small message; returns the first refusal (MAIL, RCPT or DATA), or the final "250 2.0.0 Ok: queued as …".</summary>
    public async Task<string> SendAsync(string sender, string recipient)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(sender.Length == 0 ? "postmaster@relay.test" : sender));
        message.To.Add(MailboxAddress.Parse(recipient));
        message.Subject = "Outbound test";
        message.Body = new TextPart("plain") { Text = "Hello.\n" };
        Mark();
        try
        {
            await _client.SendAsync(message, new MailboxAddress("", sender), [MailboxAddress.Parse(recipient)]);
        }
        catch (SmtpCommandException)
        {
            // The reply is in the transcript; the client resets the transaction itself.
        }
        var replies = LastReplies();
        return replies.FirstOrDefault(r => r[0] is '4' or '5') ?? replies.Last();
    }

    /// <summary>Sends raw commands (after EHLO, in whatever state the connection is) and returns the reply to the last.</summary>
    public async Task<string> CommandAsync(string command)
    {
        Mark();
        try
        {
            await _client.CommandAsync(command);
        }
        catch (SmtpCommandException)
        {
            // A 4xx/5xx reply is data here, not an error: it is in the transcript.
        }
        return LastReplies().Last();
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync(true);
        }
        _client.Dispose();
        await _log.DisposeAsync();
    }

    private void Mark() => _mark = (int)_log.Length;

    /// <summary>The final line of each server reply since the mark ("S: 250-…" continuation lines dropped).</summary>
    private List<string> LastReplies() =>
        [.. Encoding.UTF8.GetString(_log.ToArray(), _mark, (int)_log.Length - _mark)
            .Split('\n')
            .Select(l => l.TrimEnd('\r'))
            .Where(l => FinalReply().IsMatch(l))
            .Select(l => l[3..])];

    /// <summary>MailKit's client with its custom-command hook opened (one command line, one reply).</summary>
    private sealed class RawClient(IProtocolLogger logger) : SmtpClient(logger)
    {
        public Task<SmtpResponse> CommandAsync(string command) => SendCommandAsync(command);
    }

    [GeneratedRegex(@"^S: [2-5][0-9][0-9]( |$)")]
    private static partial Regex FinalReply();
}
