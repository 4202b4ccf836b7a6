using System.Diagnostics;
using MailKit.Security;
using RelayAgent;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// A changed password and a new login, published in a new generation, are honoured once the agent has applied it:
/// Dovecot re-reads the passwd-file by itself (same master process, no reload). It looks at the file at most once a
/// second, so an AUTH within the second of the previous one may still meet the old file. The client connects from
/// 127.0.0.3, which no other test fails from: Dovecot delays every AUTH from an address that recently failed (its
/// auth penalty), which would be measured instead.
/// </summary>
[Collection(PostfixRelay.Collection)]
public sealed class PasswordChangeTests(ITestOutputHelper output)
{
    private const string From = "127.0.0.3";

    [Fact]
    public async Task ANewPasswordAndANewLoginWorkAtTheNextAuthAfterTheApplyWithoutRestartingDovecot()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var domain = $"pw-{id}.example";
        string alice = $"alice@{domain}", carol = $"carol@{domain}";
        var map = new HandWrittenMap("pw" + id);
        var logs = new CapturingLogs();
        File.Delete(Path.Combine(Relay.MapDirectory, "applied.json"));
        var (worker, _) = TestAgent.Create(new AgentOptions
        {
            RelayId = "password-change",
            Prefix = "pw" + id,
            MapDirectory = Relay.MapDirectory,
            PostfixConfigDirectory = Relay.ConfigDirectory,
        }, logs: logs);

        await map.PublishAsync(Accounts((alice, "first password")));
        Assert.True(await worker.PollOnceAsync(default) is not null, string.Join('\n', logs.Lines));
        // A test just before may have made Dovecot read its passwd-file within this second: the first generation is in
        // use once its password is taken (what is measured is the second one).
        await Eventually.WaitAsync(
            async () =>
            {
                await using var client = await Submission.ConnectAsync(Relay.SmtpsPort, SecureSocketOptions.SslOnConnect, From);
                return await client.AuthenticateAsync(alice, "first password");
            },
            reply => reply.StartsWith("235", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the first password to be taken");
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        await using (var before = await LoggedInAsync(alice, "first password", "235 2.7.0 Authentication successful"))
        {
            output.WriteLine(before.Transcript);
        }
        var dovecot = DovecotPid();

        await map.PublishAsync(Accounts((alice, "second password"), (carol, "carol's password")));
        var poll = Stopwatch.StartNew();
        Assert.True(await worker.PollOnceAsync(default) is not null, string.Join('\n', logs.Lines));
        var applied = poll.Elapsed;
        var watch = Stopwatch.StartNew();
        var attempts = 0;
        await Eventually.WaitAsync(
            async () =>
            {
                attempts++;
                await using var client = await Submission.ConnectAsync(Relay.SmtpsPort, SecureSocketOptions.SslOnConnect, From);
                return await client.AuthenticateAsync(carol, "carol's password");
            },
            reply => reply.StartsWith("235", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30),
            "the new login to authenticate");
        output.WriteLine($"poll and apply: {applied.TotalMilliseconds:F0} ms; apply to the first successful AUTH of the new login: {watch.Elapsed.TotalMilliseconds:F0} ms ({attempts} attempt(s))");

        await using (var after = await LoggedInAsync(alice, "second password", "235 2.7.0 Authentication successful"))
        {
            Assert.StartsWith("250 2.0.0 Ok: queued as ", await after.SendAsync(alice, "someone@outside.example"));
            output.WriteLine(after.Transcript);
        }
        await using (var old = await LoggedInAsync(alice, "first password", "535 5.7.8 Error: authentication failed: (reason unavailable)"))
        {
            output.WriteLine(old.Transcript);
        }
        Assert.Equal(dovecot, DovecotPid());
    }

    private static Dictionary<string, string> Accounts(params (string Login, string Password)[] accounts) => new()
    {
        ["passwd"] = string.Concat(accounts.Select(a => HandWrittenMap.PasswdLine(a.Login, a.Password) + "\n")),
        ["sender_logins"] = string.Concat(accounts.Select(a => $"{a.Login} {a.Login}\n")),
    };

    private static async Task<Submission> LoggedInAsync(string login, string password, string expected)
    {
        var client = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, From);
        Assert.Equal(expected, await client.AuthenticateAsync(login, password));
        return client;
    }

    private static string DovecotPid() => File.ReadAllText(Path.Combine(Relay.ConfigDirectory, "dovecot", "run", "master.pid")).Trim();
}
