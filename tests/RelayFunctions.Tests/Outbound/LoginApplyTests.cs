using MailKit.Security;
using RelayAgent;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// A disabled login and a new one are honoured by the very next session once the agent's apply returns: no further poll,
/// and no session served by an smtpd process that still holds the replaced sasl_access or sender_logins open. Idle smtpd
/// processes are made first (sessions closed before the apply), as a busy relay always has them. The AUTHs come from
/// addresses of their own (Dovecot's penalty), and the apply comes over a second after the last AUTH (Dovecot looks at
/// the passwd-file at most once a second).
/// </summary>
[Collection(PostfixRelay.Collection)]
public sealed class LoginApplyTests(ITestOutputHelper output)
{
    private const string Outside = "someone@outside.example";
    private const string Ok = "235 2.7.0 Authentication successful";

    [Fact]
    public async Task ADisabledLoginAndANewLoginAreHonouredByEverySessionAfterOneApply()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var domain = $"apply-{id}.example";
        string bob = $"bob@{domain}", carol = $"carol@{domain}";
        var map = new HandWrittenMap("ap" + id);
        var logs = new CapturingLogs();
        File.Delete(Path.Combine(Relay.MapDirectory, "applied.json"));
        var (worker, _) = TestAgent.Create(new AgentOptions
        {
            RelayId = "login-apply",
            Prefix = "ap" + id,
            MapDirectory = Relay.MapDirectory,
            PostfixConfigDirectory = Relay.ConfigDirectory,
        }, logs: logs);

        await map.PublishAsync(Tables(disabled: false, withCarol: false));
        Assert.True(await worker.PollOnceAsync(default) is not null, string.Join('\n', logs.Lines));
        // The first generation may meet a Dovecot that read its passwd-file within the second (a test just before):
        // ready once bob's AUTH is taken. What is measured is the second generation, over a second after the last AUTH.
        await Eventually.WaitAsync(
            async () =>
            {
                var n = Interlocked.Increment(ref NextAddress);
                await using var client = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, $"127.2.{n / 250 % 250}.{n % 250 + 1}");
                return await client.AuthenticateAsync(bob, "bob's secret");
            },
            reply => reply == Ok, TimeSpan.FromSeconds(30), "the relay to accept bob's password");
        await IdleProcessesAsync(bob);

        await map.PublishAsync(Tables(disabled: true, withCarol: true));
        Assert.True(await worker.PollOnceAsync(default) is not null, string.Join('\n', logs.Lines));
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal($"554 5.7.1 <{bob}>: SASL login name rejected: Account disabled", await SendAsync(bob, Relay.SubmissionPort, SecureSocketOptions.StartTls));
            Assert.Equal($"554 5.7.1 <{bob}>: SASL login name rejected: Account disabled", await SendAsync(bob, Relay.SmtpsPort, SecureSocketOptions.SslOnConnect));
        }
        for (var i = 0; i < 4; i++)
        {
            Assert.StartsWith("250 2.0.0 Ok: queued as ", await SendAsync(carol, Relay.SubmissionPort, SecureSocketOptions.StartTls));
            Assert.StartsWith("250 2.0.0 Ok: queued as ", await SendAsync(carol, Relay.SmtpsPort, SecureSocketOptions.SslOnConnect));
        }
        output.WriteLine(string.Join('\n', logs.Lines));

        Dictionary<string, string> Tables(bool disabled, bool withCarol) => new()
        {
            ["passwd"] = HandWrittenMap.PasswdLine(bob, "bob's secret") + "\n" + (withCarol ? HandWrittenMap.PasswdLine(carol, "carol's secret") + "\n" : ""),
            ["sender_logins"] = $"{bob} {bob}\n" + (withCarol ? $"{carol} {carol}\n" : ""),
            ["sasl_access"] = disabled ? $"{bob} REJECT 5.7.1 Account disabled\n" : "",
        };
    }

    /// <summary>Sessions that send, several at once on both ports, closed: idle smtpd processes that opened the tables as they were.</summary>
    private static async Task IdleProcessesAsync(string login)
    {
        var sessions = await Task.WhenAll(Enumerable.Range(0, 4).SelectMany(_ => new[]
        {
            SessionAsync(login, Relay.SubmissionPort, SecureSocketOptions.StartTls),
            SessionAsync(login, Relay.SmtpsPort, SecureSocketOptions.SslOnConnect),
        }));
        foreach (var session in sessions)
        {
            Assert.StartsWith("250 2.0.0 Ok: queued as ", await session.SendAsync(login, Outside));
            await session.DisposeAsync();
        }
        await Task.Delay(TimeSpan.FromSeconds(1.2));
    }

    private static int NextAddress;

    private static async Task<Submission> SessionAsync(string login, int port, SecureSocketOptions tls)
    {
        var n = Interlocked.Increment(ref NextAddress);
        var client = await Submission.ConnectAsync(port, tls, $"127.2.{n / 250 % 250}.{n % 250 + 1}");
        Assert.Equal(Ok, await client.AuthenticateAsync(login, login[..login.IndexOf('@')] + "'s secret"));
        return client;
    }

    private static async Task<string> SendAsync(string login, int port, SecureSocketOptions tls)
    {
        await using var client = await SessionAsync(login, port, tls);
        return await client.SendAsync(login, Outside);
    }
}
