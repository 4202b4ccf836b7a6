using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Alerts;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Alerts;

/// <summary>
/// Alerts through a real SMTP server on loopback that is down, refuses for now (450) or for good (550): one e-mail per
/// event once the server is back, none for a refusal, and the standalone app's retry queue doing the waiting.
/// </summary>
public sealed class AlertRetryTests
{
    private static AppFactory App(int smtpPort, string retryFor = "2.00:00:00") => new(
    [
        new("Alerts:Transport", "smtp"),
        new("Alerts:From", "alerts@relay.example"),
        new("Alerts:Smtp:Host", "127.0.0.1"),
        new("Alerts:Smtp:Port", smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Alerts:Smtp:Security", "none"),
        new("Alerts:FirstRetry", "00:00:01"),
        new("Alerts:MaximumRetry", "00:00:03"),
        new("Alerts:RetryFor", retryFor),
        new("Hosting:HostId", "alerts-" + Guid.NewGuid().ToString("N")[..8]),
        new("AzureFunctionsJobHost:extensions:queues:maxPollingInterval", "00:00:00.500"),
    ]);

    private static AlertMessage Alert(string to, string domain) => new(to, $"IP Helper {domain}", $"Routing of {domain} changed\n");

    private static async Task<string?> StateAsync(AppFactory app, string subject, string token)
    {
        var row = await app.Services.GetRequiredService<StorageClients>().Table("SentAlerts").GetEntityIfExistsAsync<TableEntity>(subject, token);
        return row.HasValue ? row.Value!.GetString("State") : null;
    }

    [Fact]
    public async Task AlertsWaitOutAMailServerThatIsDownAndEachIsSentOnceWhenItIsBack()
    {
        var port = Azurite.FreePort();
        await using var app = App(port);
        var alerts = app.Services.GetRequiredService<AlertOnce>();

        // Two routing changes while nothing listens on the port: connections are refused.
        await alerts.SendAsync("helper|acme|one.example", "check-1", Alert("owner@one.example", "one.example"), default);
        await alerts.SendAsync("helper|acme|two.example", "check-2", Alert("owner@two.example", "two.example"), default);
        await Task.Delay(TimeSpan.FromSeconds(25));
        Assert.Equal("retrying", await StateAsync(app, "helper|acme|one.example", "check-1"));

        await using var sink = await SmtpSink.StartAsync(port);
        var received = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count >= 2, TimeSpan.FromSeconds(30), "both alerts");
        Assert.Equal(["[relay] IP Helper one.example", "[relay] IP Helper two.example"], received.Select(r => r.Message.Subject).Order());

        // The same event again (a replayed check) and the retries still queued send nothing more.
        await alerts.SendAsync("helper|acme|one.example", "check-1", Alert("owner@one.example", "one.example"), default);
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Equal(2, sink.Received().Count);
        Assert.Equal("sent", await StateAsync(app, "helper|acme|one.example", "check-1"));
        Assert.Equal("sent", await StateAsync(app, "helper|acme|two.example", "check-2"));
    }

    [Fact]
    public async Task ARefusalForGoodIsNotRetriedAndARefusalForNowIsRetriedUntilTheRetryPeriodEnds()
    {
        await using var sink = await SmtpSink.StartAsync("--refuse", "gone=550", "--refuse", "later=450");
        await using var app = App(sink.Port, retryFor: "00:00:06");
        var alerts = app.Services.GetRequiredService<AlertOnce>();

        await alerts.SendAsync("helper|acme|gone.example", "check-1", Alert("gone@gone.example", "gone.example"), default);
        Assert.Equal("refused", await StateAsync(app, "helper|acme|gone.example", "check-1"));

        await alerts.SendAsync("helper|acme|later.example", "check-1", Alert("later@later.example", "later.example"), default);
        Assert.Equal("retrying", await StateAsync(app, "helper|acme|later.example", "check-1"));
        await Eventually.WaitAsync(() => StateAsync(app, "helper|acme|later.example", "check-1"), s => s == "abandoned", TimeSpan.FromSeconds(30), "giving up");
        Assert.Equal("refused", await StateAsync(app, "helper|acme|gone.example", "check-1"));
        Assert.Empty(sink.Received());
    }
}
