using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Alerts;
using RelayFunctions.Hosting;

namespace RelayFunctions.Tests.Alerts;

[Trait("Category", "Fast")]
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
        Assert.Contains("Alerts__Smtp__Host", Problems([new("Alerts:Transport", "smtp")]));

    [Fact]
    public void AnUnknownSmtpSecurityStopsStartup() =>
        Assert.Contains("Alerts__Smtp__Security", Problems(
            [new("Alerts:Transport", "smtp"), new("Alerts:Smtp:Host", "smtp.example"), new("Alerts:Smtp:Security", "ssl3")]));

    [Fact]
    public void AcsWithoutAnEndpointStopsStartup() =>
        Assert.Contains("Alerts__Acs__Endpoint", Problems([new("Alerts:Transport", "acs")]));

    [Fact]
    public void AnAccessKeyThatIsNotBase64StopsStartup() =>
        Assert.Contains("Alerts__Acs__AccessKey", Problems(
        [
            new("Alerts:Transport", "acs"),
            new("Alerts:Acs:Endpoint", "https://relay.communication.azure.com"),
            new("Alerts:Acs:AccessKey", "not base64!"),
        ]));

    [Fact]
    public void AnUnknownTransportStopsStartupNamingIt() =>
        Assert.Contains("Alerts__Transport: 'sendgrid'", Problems([new("Alerts:Transport", "sendgrid")]));

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
        var services = Services(settings);
        Assert.True(Settings.AreValid(services, TextWriter.Null));
        return services.GetRequiredService<IAlertSender>();
    }

    /// <summary>What the start-time check prints for these settings; it must refuse them.</summary>
    private static string Problems(KeyValuePair<string, string?>[] settings)
    {
        var output = new StringWriter();
        Assert.False(Settings.AreValid(Services(settings), output));
        return output.ToString();
    }

    private static ServiceProvider Services(KeyValuePair<string, string?>[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System);
        services.AddAlerts(configuration);
        return services.BuildServiceProvider();
    }
}
