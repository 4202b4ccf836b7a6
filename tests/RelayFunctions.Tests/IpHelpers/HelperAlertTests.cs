using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;
using RelayFunctions.Scheduling;
using RelayFunctions.Tests.Alerts;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.IpHelpers;

/// <summary>Alerts go to a real SMTP server on loopback: one per routing change, worded as the seed's sample, never twice.</summary>
public sealed class HelperAlertTests
{
    [Fact]
    public async Task AModeChangeSendsOneAlertEvenWhenItsCheckIsReplayed()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var app = new HelperApp(sink.AlertSettings());
        var (client, domain) = await app.NewDomainAsync("alerted", alertEmail: "owner-alerts@alerted.example");
        var host = Knot.NewName("alert");
        await Knot.SetAsync(host, 1, "61.0.0.1");
        await HelperApp.AttachAsync(client, domain, host, 2525, alertOnChange: true);
        await HelperApp.RoutingAsync(client, domain, "redirect", "61.0.0.1", 2525);

        var first = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count >= 1, TimeSpan.FromSeconds(10), "the alert");
        var (message, envelope) = Assert.Single(first);
        Assert.Equal($"[relay] IP Helper {domain}", message.Subject);
        var body = message.TextBody!.Replace("\r\n", "\n");
        Assert.StartsWith("SMTP Redirection to 61.0.0.1:2525\n--\n", body);
        Assert.Contains("Helper alert: 'owner-alerts@alerted.example' account 'alerted'.", body);
        Assert.Contains("This is an automated message.", body);
        Assert.Equal("owner-alerts@alerted.example", envelope.GetProperty("to")[0].GetString());

        // Checks keep running (TTL 1 s) with nothing changing: no further alert.
        await Task.Delay(3000);
        Assert.Single(sink.Received());

        // The same check message delivered again re-applies its decision and sends nothing.
        var stored = await app.Services.GetRequiredService<HelperStore>().FindAsync("alerted", DomainName.Parse(domain), default);
        await app.Services.GetRequiredService<HelperCheck>().RunAsync(
            new CheckRequest("alerted", domain, "19700101000000-00", "old", stored!.LastCheckToken!), default);
        Assert.Single(sink.Received());

        // The next real change alerts again, once.
        await Knot.DeleteAsync(host);
        await HelperApp.RoutingAsync(client, domain, "hold");
        var second = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count >= 2, TimeSpan.FromSeconds(10), "the second alert");
        Assert.StartsWith("Accept and Hold Messages\n", second[1].Message.TextBody!.Replace("\r\n", "\n"));
        await Task.Delay(2000);
        Assert.Equal(2, sink.Received().Count);
    }

    [Fact]
    public async Task NoAlertIsSentWhenTheHelperDoesNotAskOrTheAccountHasNoAlertAddress()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var app = new HelperApp(sink.AlertSettings());
        var (quiet, quietDomain) = await app.NewDomainAsync("quiet", alertEmail: "q@quiet.example");
        var (noAddress, noAddressDomain) = await app.NewDomainAsync("no-address");
        var host = Knot.NewName("quiet");
        await Knot.SetAsync(host, 60, "62.0.0.1");
        await HelperApp.AttachAsync(quiet, quietDomain, host, 25, alertOnChange: false);
        await HelperApp.AttachAsync(noAddress, noAddressDomain, host, 25, alertOnChange: true);

        await HelperApp.RoutingAsync(quiet, quietDomain, "redirect", "62.0.0.1");
        await HelperApp.RoutingAsync(noAddress, noAddressDomain, "redirect", "62.0.0.1");
        await Task.Delay(1500);
        Assert.Empty(sink.Received());
    }
}
