using MailKit.Security;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// Outbound accounts on the real relay: Postfix's listeners from relay-agent/deploy/postfix, AUTH through the Dovecot
/// of relay-agent/deploy/dovecot, and the account tables of a hand-written generation applied by the relay agent.
/// A mail client (MailKit) submits; each test asserts the relay's exact replies and prints the conversation.
/// </summary>
[Collection(PostfixRelay.Collection)]
public sealed class OutboundAccountsTests(OutboundRelay relay, ITestOutputHelper output) : IClassFixture<OutboundRelay>
{
    private const string Queued = "250 2.0.0 Ok: queued as ";
    private const string Outside = "someone@outside.example";

    [Fact]
    public async Task Port587OffersAuthOnlyAfterStartTls()
    {
        await using (var clear = await ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.None))
        {
            Assert.False(clear.AdvertisesAuth);
            Assert.True(clear.Client.Capabilities.HasFlag(MailKit.Net.Smtp.SmtpCapabilities.StartTLS));
            Assert.Equal("530 5.7.0 Must issue a STARTTLS command first", await clear.CommandAsync("AUTH PLAIN"));
            Assert.Equal("530 5.7.0 Must issue a STARTTLS command first", await clear.CommandAsync($"MAIL FROM:<{relay.Alice}>"));
            Show(clear);
        }
        await using var tls = await ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls);
        Assert.True(tls.AdvertisesAuth);
        Assert.Equal("235 2.7.0 Authentication successful", await tls.AuthenticateAsync(relay.Alice, OutboundRelay.Password(relay.Alice)));
        Assert.StartsWith(Queued, await tls.SendAsync(relay.Alice, Outside));
        Show(tls);
    }

    [Fact]
    public async Task Port465AuthenticatesOverImplicitTls()
    {
        await using var tls = await ConnectAsync(Relay.SmtpsPort, SecureSocketOptions.SslOnConnect);
        Assert.True(tls.Client.IsSecure);
        Assert.True(tls.AdvertisesAuth);
        Assert.Equal("235 2.7.0 Authentication successful", await tls.AuthenticateAsync(relay.Alice, OutboundRelay.Password(relay.Alice)));
        Assert.StartsWith(Queued, await tls.SendAsync(relay.Alice, Outside));
        Show(tls);
    }

    [Theory]
    [InlineData("smtp")]
    [InlineData("2525")]
    [InlineData("11923")]
    [InlineData("61235")]
    [InlineData("80")]
    public async Task Port25AndItsStandInsOfferAuthOnlyAfterStartTls(string listener)
    {
        await using (var clear = await ConnectAsync(Relay.Ports[listener], SecureSocketOptions.None))
        {
            Assert.False(clear.AdvertisesAuth);
            Assert.True(clear.Client.Capabilities.HasFlag(MailKit.Net.Smtp.SmtpCapabilities.StartTLS));
            Assert.Equal("503 5.5.1 Error: authentication not enabled", await clear.CommandAsync("AUTH PLAIN"));
            Show(clear);
        }
        await using var tls = await ConnectAsync(Relay.Ports[listener], SecureSocketOptions.StartTls);
        Assert.True(tls.AdvertisesAuth);
        Assert.Equal("235 2.7.0 Authentication successful", await tls.AuthenticateAsync(relay.Alice, OutboundRelay.Password(relay.Alice)));
        Assert.StartsWith(Queued, await tls.SendAsync(relay.Alice, Outside));
        Show(tls);
    }

    [Fact]
    public async Task ASingleAddressLoginSendsAsItselfAndNoOtherAddress()
    {
        await using var client = await LoggedInAsync(relay.Alice);
        Assert.StartsWith(Queued, await client.SendAsync(relay.Alice, Outside));
        Assert.Equal($"553 5.7.1 <bob@{relay.Cust}>: Sender address rejected: not owned by user {relay.Alice}", await client.SendAsync($"bob@{relay.Cust}", Outside));
        Show(client);
    }

    [Fact]
    public async Task AnAnyAddressLoginSendsAsAnyAddressOfItsDomainAndNoOtherDomain()
    {
        await using var client = await LoggedInAsync(relay.AnyAddress);
        Assert.StartsWith(Queued, await client.SendAsync($"bob@{relay.Cust}", Outside));
        Assert.StartsWith(Queued, await client.SendAsync(relay.Alice, Outside));
        Assert.Equal($"553 5.7.1 <bob@{relay.Other}>: Sender address rejected: not owned by user {relay.AnyAddress}", await client.SendAsync($"bob@{relay.Other}", Outside));
        Assert.Equal($"553 5.7.1 <bob@sub.{relay.Cust}>: Sender address rejected: not owned by user {relay.AnyAddress}", await client.SendAsync($"bob@sub.{relay.Cust}", Outside));
        Show(client);
    }

    [Fact]
    public async Task ASubdomainRuleCoversTheDomainAndEverySubdomainButNoLookAlike()
    {
        await using var client = await LoggedInAsync(relay.Subdomains);
        Assert.StartsWith(Queued, await client.SendAsync($"x@{relay.Parent}", Outside));
        Assert.StartsWith(Queued, await client.SendAsync($"x@a.b.{relay.Parent}", Outside));
        Assert.Equal($"553 5.7.1 <x@not{relay.Parent}>: Sender address rejected: not owned by user {relay.Subdomains}", await client.SendAsync($"x@not{relay.Parent}", Outside));
        Assert.Equal($"553 5.7.1 <x@{relay.Other}>: Sender address rejected: not owned by user {relay.Subdomains}", await client.SendAsync($"x@{relay.Other}", Outside));
        Show(client);
    }

    [Fact]
    public async Task AWrongPasswordIsRefusedWith535()
    {
        await using var client = await ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls);
        Assert.Equal("535 5.7.8 Error: authentication failed: (reason unavailable)", await client.AuthenticateAsync(relay.Alice, "not the password"));
        Assert.Equal("535 5.7.8 Error: authentication failed: (reason unavailable)", await client.AuthenticateAsync($"nobody@{relay.Cust}", "whatever"));
        Show(client);
    }

    [Fact]
    public async Task ADisabledLoginIsRefusedWithTheReadableReason()
    {
        await using var client = await LoggedInAsync(relay.Disabled);
        Assert.Equal($"554 5.7.1 <{relay.Disabled}>: SASL login name rejected: Account disabled", await client.SendAsync(relay.Disabled, Outside));
        Show(client);
    }

    [Fact]
    public async Task AllowNetsDecidesWhereALoginMayConnectFrom()
    {
        await using (var fromDotOne = await ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.1"))
        {
            Assert.Equal("535 5.7.8 Error: authentication failed: (reason unavailable)", await fromDotOne.AuthenticateAsync(relay.NetLimited, OutboundRelay.Password(relay.NetLimited)));
            Assert.Equal("535 5.7.8 Error: authentication failed: (reason unavailable)", await fromDotOne.AuthenticateAsync(relay.Nowhere, OutboundRelay.Password(relay.Nowhere)));
            Show(fromDotOne);
        }
        await using var fromDotTwo = await ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.2");
        Assert.Equal("535 5.7.8 Error: authentication failed: (reason unavailable)", await fromDotTwo.AuthenticateAsync(relay.Nowhere, OutboundRelay.Password(relay.Nowhere)));
        Assert.Equal("235 2.7.0 Authentication successful", await fromDotTwo.AuthenticateAsync(relay.NetLimited, OutboundRelay.Password(relay.NetLimited)));
        Assert.StartsWith(Queued, await fromDotTwo.SendAsync(relay.NetLimited, Outside));
        Show(fromDotTwo);
        Assert.Contains($"passwd-file({relay.NetLimited},127.0.0.1): allow_nets check failed: IP 127.0.0.1 not in allowed networks", await DovecotLogAsync());
    }

    [Fact]
    public async Task AMailServerLoginSendsWithAnySender()
    {
        await using var client = await LoggedInAsync(relay.MailServer);
        Assert.StartsWith(Queued, await client.SendAsync("anyone@elsewhere.example", Outside));
        Assert.StartsWith(Queued, await client.SendAsync($"bob@{relay.Other}", Outside));
        Assert.StartsWith(Queued, await client.SendAsync("", Outside));
        Show(client);
    }

    [Fact]
    public async Task WithoutAuthNothingIsRelayedToOtherDomains()
    {
        await using (var clear = await ConnectAsync(Relay.Port, SecureSocketOptions.None))
        {
            Assert.Equal($"554 5.7.1 <{Outside}>: Relay access denied", await clear.SendAsync(relay.Alice, Outside));
            Show(clear);
        }
        await using (var tls = await ConnectAsync(Relay.Port, SecureSocketOptions.StartTls))
        {
            Assert.Equal($"554 5.7.1 <{Outside}>: Relay access denied", await tls.SendAsync(relay.Alice, Outside));
            Show(tls);
        }
        // Submission ports take nothing without AUTH, not even mail for a relayed domain.
        await using var submission = await ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls);
        Assert.Equal($"554 5.7.1 <alice@{relay.Inbound}>: Recipient address rejected: Access denied", await submission.SendAsync(Outside, $"alice@{relay.Inbound}"));
        Show(submission);
    }

    [Fact]
    public async Task MailForARelayedDomainIsAcceptedWithoutAuthOnPort25()
    {
        await using var clear = await ConnectAsync(Relay.Port, SecureSocketOptions.None);
        Assert.StartsWith(Queued, await clear.SendAsync(Outside, $"alice@{relay.Inbound}"));
        // The MX role cannot know who may use an address: only authenticated clients are held to the sender tables.
        Assert.StartsWith(Queued, await clear.SendAsync(relay.Alice, $"alice@{relay.Inbound}"));
        Show(clear);
    }

    [Fact]
    public async Task WithoutThePolicyServiceASubmissionIsDeferredNeverAcceptedUnchecked()
    {
        await Relay.Policy.StopAsync();
        try
        {
            await using var client = await LoggedInAsync(relay.Alice);
            Assert.Equal($"451 4.3.5 <{relay.Alice}>: SASL login name rejected: Submission checks unavailable, try again later", await client.SendAsync(relay.Alice, Outside));
            output.WriteLine(client.Transcript);
        }
        finally
        {
            await Relay.Policy.UseAsync(null);
        }
        await using var again = await LoggedInAsync(relay.Alice);
        Assert.StartsWith(Queued, await again.SendAsync(relay.Alice, Outside));
    }

    private static Task<Submission> ConnectAsync(int port, SecureSocketOptions tls, string from = "127.0.0.1") => Submission.ConnectAsync(port, tls, from);

    private async Task<Submission> LoggedInAsync(string login)
    {
        var client = await ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls);
        Assert.Equal("235 2.7.0 Authentication successful", await client.AuthenticateAsync(login, OutboundRelay.Password(login)));
        return client;
    }

    private void Show(Submission client) => output.WriteLine(client.Transcript);

    internal static async Task<string> DovecotLogAsync()
    {
        var name = Path.GetFileName(Relay.ConfigDirectory);
        var log = Path.Combine(RepoRoot.Path, ".artifacts", $"dovecot-{name}.log");
        return File.Exists(log) ? await File.ReadAllTextAsync(log) : "";
    }
}
