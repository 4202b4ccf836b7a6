using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Alerts;

namespace RelayFunctions.Tests.Alerts;

public sealed class AlertServicesTests
{
    [Fact]
    public void WithoutSettingsAlertsAreOnlyLogged() =>
        Assert.IsType<NoAlertSender>(Resolve([]));

    [Fact]
    public void SmtpWithAHostUsesTheSmtpSender() =>
        Assert.IsType<SmtpAlertSender>(Resolve([new("Alerts:Transport", "SMTP"), new("Alerts:Smtp:Host", "smtp.example")]));

    [Fact]
    public void AcsWithAnEndpointUsesTheAcsSender() =>
        Assert.IsType<AcsEmailAlertSender>(Resolve(
        [
            new("Alerts:Transport", "acs"),
            new("Alerts:Acs:Endpoint", "https://relay.communication.azure.com"),
            new("Alerts:Acs:AccessKey", Convert.ToBase64String(new byte[32])),
        ]));

    [Fact]
    public void SmtpWithoutAHostStopsStartup() =>
        Assert.Contains("Alerts:Smtp:Host", Assert.Throws<InvalidOperationException>(() => Resolve([new("Alerts:Transport", "smtp")])).Message);

    [Fact]
    public void AnUnknownSmtpSecurityStopsStartup() =>
        Assert.Contains("Alerts:Smtp:Security", Assert.Throws<InvalidOperationException>(() => Resolve(
            [new("Alerts:Transport", "smtp"), new("Alerts:Smtp:Host", "smtp.example"), new("Alerts:Smtp:Security", "ssl3")])).Message);

    [Fact]
    public void AcsWithoutAnEndpointStopsStartup() =>
        Assert.Contains("Alerts:Acs:Endpoint", Assert.Throws<InvalidOperationException>(() => Resolve([new("Alerts:Transport", "acs")])).Message);

    [Fact]
    public void AnAccessKeyThatIsNotBase64StopsStartup() =>
        Assert.Contains("Alerts:Acs:AccessKey", Assert.Throws<InvalidOperationException>(() => Resolve(
        [
            new("Alerts:Transport", "acs"),
            new("Alerts:Acs:Endpoint", "https://relay.communication.azure.com"),
            new("Alerts:Acs:AccessKey", "not base64!"),
        ])).Message);

    [Fact]
    public void AnUnknownTransportStopsStartupNamingIt() =>
        Assert.Contains("'sendgrid'", Assert.Throws<InvalidOperationException>(() => Resolve([new("Alerts:Transport", "sendgrid")])).Message);

    [Fact]
    public async Task TheNoneTransportLogsTheRecipientDomainButNotTheAddress()
    {
        var logger = new CapturingLogger<NoAlertSender>();

        await new NoAlertSender(logger).SendAsync(new("owner@acme.example", "Routing changed", "Body"), CancellationToken.None);

        var line = Assert.Single(logger.Lines);
        Assert.Contains("acme.example", line);
        Assert.DoesNotContain("owner@", line);
    }

    private static IAlertSender Resolve(KeyValuePair<string, string?>[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System);
        services.AddAlerts(configuration);
        return services.BuildServiceProvider().GetRequiredService<IAlertSender>();
    }
}
