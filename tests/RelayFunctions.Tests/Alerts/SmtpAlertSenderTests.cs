using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RelayFunctions.Alerts;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Alerts;

/// <summary>The SMTP transport against a real SMTP server on loopback (scripts/smtp-sink.mjs).</summary>
public sealed class SmtpAlertSenderTests
{
    private const string Password = "S3cret-pa55word";
    private static readonly DateTimeOffset Now = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);
    private static readonly AlertMessage Alert = new("owner@acme.example", "Routing changed for acme.example", "acme.example now redirects to mail.acme.example:2525.");

    private readonly CapturingLogger<SmtpAlertSender> _logger = new();

    [Fact]
    public async Task AnAlertArrivesWithTheTaggedSubjectTheBodyAndTheEnvelope()
    {
        await using var sink = await SmtpSink.StartAsync();

        await Sender(sink.Port, security: "auto").SendAsync(Alert, CancellationToken.None);

        var (message, envelope) = Assert.Single(sink.Received());
        Assert.Equal("[relay] Routing changed for acme.example", message.Subject);
        Assert.Equal(Alert.Body, message.TextBody?.TrimEnd());
        Assert.Equal("alerts@relay.example", Assert.Single(message.From.Mailboxes).Address);
        Assert.Equal("owner@acme.example", Assert.Single(message.To.Mailboxes).Address);
        Assert.Equal(Now, message.Date);
        Assert.Equal("alerts@relay.example", envelope.GetProperty("from").GetString());
        Assert.Equal(["owner@acme.example"], envelope.GetProperty("to").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, envelope.GetProperty("user").ValueKind);
    }

    [Fact]
    public async Task AConfiguredUsernameAuthenticatesAndThePasswordNeverReachesTheLogs()
    {
        await using var sink = await SmtpSink.StartAsync("--auth", $"alerts:{Password}");

        await Sender(sink.Port, username: "alerts", password: Password).SendAsync(Alert, CancellationToken.None);

        var (_, envelope) = Assert.Single(sink.Received());
        Assert.Equal("alerts", envelope.GetProperty("user").GetString());
        Assert.NotEmpty(_logger.Lines);
        Assert.DoesNotContain(Password, _logger.All);
    }

    [Fact]
    public async Task AWrongPasswordIsADefiniteFailureThatDoesNotRevealThePassword()
    {
        await using var sink = await SmtpSink.StartAsync("--auth", "alerts:other");

        var failure = await Assert.ThrowsAsync<AlertDeliveryException>(
            () => Sender(sink.Port, username: "alerts", password: Password).SendAsync(Alert, CancellationToken.None));

        Assert.True(failure.Definite);
        Assert.DoesNotContain(Password, failure.ToString());
        Assert.DoesNotContain(Password, _logger.All);
        Assert.Empty(sink.Received());
    }

    [Fact]
    public async Task ARecipientRefusedWith550IsADefiniteFailure()
    {
        await using var sink = await SmtpSink.StartAsync("--fail-rcpt");

        var failure = await Assert.ThrowsAsync<AlertDeliveryException>(() => Sender(sink.Port).SendAsync(Alert, CancellationToken.None));

        Assert.True(failure.Definite);
        Assert.Contains("550", failure.Message);
        Assert.Empty(sink.Received());
    }

    [Fact]
    public async Task NoAnswerAfterTheContentWentOutIsNotADefiniteFailure()
    {
        await using var sink = await SmtpSink.StartAsync("--silent-after-data");

        var failure = await Assert.ThrowsAsync<AlertDeliveryException>(
            () => Sender(sink.Port, timeout: TimeSpan.FromSeconds(1)).SendAsync(Alert, CancellationToken.None));

        Assert.False(failure.Definite);
        Assert.Single(sink.Received());
    }

    [Fact]
    public async Task ARefusedConnectionIsADefiniteFailure()
    {
        var nobodyListens = Azurite.FreePort();

        var failure = await Assert.ThrowsAsync<AlertDeliveryException>(() => Sender(nobodyListens).SendAsync(Alert, CancellationToken.None));

        Assert.True(failure.Definite);
    }

    private SmtpAlertSender Sender(
        int port, string security = "none", string? username = null, string? password = null, TimeSpan? timeout = null) =>
        new(Options.Create(new AlertOptions
        {
            Transport = "smtp",
            From = "alerts@relay.example",
            Smtp = new() { Host = "127.0.0.1", Port = port, Security = security, Username = username, Password = password, Timeout = timeout ?? TimeSpan.FromSeconds(10) },
        }), new FakeTimeProvider(Now), _logger);
}
