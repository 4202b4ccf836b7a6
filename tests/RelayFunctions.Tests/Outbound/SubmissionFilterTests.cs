using System.Net;
using System.Text;
using MimeKit;
using RelayAgent.Submission;
using RelayShared;

namespace RelayFunctions.Tests.Outbound;

/// <summary>The submission filter's and policy service's pure logic; the end-to-end behaviour is SubmissionEndToEndTests'.</summary>
[Trait("Category", "Fast")]
public sealed class SubmissionFilterTests
{
    private static readonly SubmissionAccount Alice = new(
        "alice@cust.example", "key123456789", "acct", "postmaster@cust.example", ["cust.example"],
        [new("bcc00001", "archive@else.example"), new("bcc00002", "audit@else.example")], ["sent@cust.example"], "tok", "automatic", 200);

    [Fact]
    public void AMessageGoesOutAsItCameWithOneCopyPerBccRecipientAndMirror()
    {
        var plan = SubmissionFilter.Plan(Alice, "relay.example", "alice@cust.example", ["a@x.example", "b@y.example"]);
        Assert.Equal("alice@cust.example", plan.Main.Sender);
        Assert.Null(plan.Main.Header);
        Assert.Equal(["a@x.example", "b@y.example"], plan.Main.Recipients);
        Assert.Equal(
            [
                ("bcc-bounce+key123456789.bcc00001@relay.example", "archive@else.example", "X-Relay-BCC: alice@cust.example"),
                ("bcc-bounce+key123456789.bcc00002@relay.example", "audit@else.example", "X-Relay-BCC: alice@cust.example"),
                ("alice@cust.example", "sent@cust.example", "X-Relay-AuthMirror: tok"),
            ],
            plan.Copies.Select(c => (c.Sender, c.Recipients.Single(), c.Header)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("someone@elsewhere.example")]
    [InlineData("x@notcust.example")]
    public void ANullOrForeignSenderIsReplacedByThePostmasterAndANullOneIsNotCopied(string sender)
    {
        var plan = SubmissionFilter.Plan(Alice, "relay.example", sender, ["a@x.example"]);
        Assert.Equal("postmaster@cust.example", plan.Main.Sender);
        Assert.Equal(sender.Length == 0 ? 0 : 3, plan.Copies.Count);
    }

    [Theory]
    [InlineData("bob@cust.example", true)]
    [InlineData("bob@lists.cust.example", true)]
    [InlineData("bob@CUST.Example.", true)]
    [InlineData("bob@xcust.example", false)]
    [InlineData("bob", false)]
    public void OwnDomainsAreTheAccountsDomainsAndTheirSubdomains(string sender, bool owned) => Assert.Equal(owned, Alice.Owns(sender));

    [Fact]
    public void AnUnknownLoginsMessagePassesUnchanged()
    {
        var plan = SubmissionFilter.Plan(null, "relay.example", "", ["a@x.example"]);
        Assert.Equal("", plan.Main.Sender);
        Assert.Empty(plan.Copies);
    }

    [Theory]
    [InlineData("127.0.0.2", "2.0.0.127")]
    [InlineData("2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2")]
    public void BlockListNamesReverseTheAddress(string address, string reversed) =>
        Assert.Equal(reversed, SubmissionPolicy.Reversed(IPAddress.Parse(address)));

    [Fact]
    public void ABounceReportNamesTheFailedRecipientAndADelayNoticeNothing()
    {
        static MimeMessage Report(string action) => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes($"""
            From: MAILER-DAEMON@relay.example
            To: bcc-bounce+key.id@relay.example
            Subject: Undelivered Mail
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="b"

            --b
            Content-Type: text/plain

            Sorry.
            --b
            Content-Type: message/delivery-status

            Reporting-MTA: dns; relay.example

            Final-Recipient: rfc822; gone@else.example
            Action: {action}
            Status: 5.1.1
            Diagnostic-Code: smtp; 550 5.1.1 No such user

            --b--
            """.Replace("\n", "\r\n", StringComparison.Ordinal))));
        Assert.Equal(("gone@else.example", "5.1.1", "550 5.1.1 No such user"), BounceCommand.Failure(Report("failed")));
        Assert.Null(BounceCommand.Failure(Report("delayed")));
    }

    [Fact]
    public async Task TheFilterDefersWhenItCannotReinject()
    {
        var log = new StringWriter();
        var code = await SubmissionFilter.RunAsync(
            ["--maps", Path.GetTempPath(), "--reinject", "127.0.0.1:1", "relay.example", "alice@cust.example", "alice@cust.example", "a@x.example"],
            new MemoryStream("Subject: x\n\nbody\n"u8.ToArray()), log, default);
        Assert.Equal(SubmissionFilter.TempFail, code);
        Assert.Contains("deferred", log.ToString(), StringComparison.Ordinal);
    }
}
