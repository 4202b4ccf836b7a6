using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RelayFunctions.Domains;
using RelayFunctions.Outbound;
using RelayFunctions.Tests.Alerts;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;
using Xunit.Abstractions;
using static RelayFunctions.Tests.Infrastructure.EndToEndRelay;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// Outbound accounts end to end: created through the API, published in the relay map, applied by the relay agent to the
/// private Postfix + Dovecot, and used by a real mail client (MailKit) on 587 (STARTTLS) and 465 (implicit TLS). Each
/// client address is used by one login only where AUTH is meant to fail, because Dovecot slows every AUTH from an
/// address that failed recently (its auth penalty).
/// </summary>
[Collection(PostfixRelay.Collection)]
public sealed partial class OutboundEndToEndTests(ITestOutputHelper output)
{
    private const string Outside = "someone@outside.example";
    private const string Refused = "535 5.7.8 Error: authentication failed: (reason unavailable)";

    [Fact]
    public async Task AccountsMadeThroughTheApiAreWhatTheRelayEnforces()
    {
        var appLogs = new AppLogs();
        await using var sink = await SmtpSink.StartAsync();
        await using var app = App(s => s.AddSingleton<ILoggerProvider>(appLogs));
        var agentLogs = new CapturingLogs();
        await WithAgentAsync("outbound-e2e", app, output, () => RunAsync(app, sink, appLogs, agentLogs), agentLogs);
    }

    private async Task RunAsync(HelperApp app, SmtpSink sink, AppLogs appLogs, CapturingLogs agentLogs)
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        string cust = $"cust-{id}.example", parent = $"parent-{id}.example", other = $"other-{id}.example";
        await app.NewAccountAsync("sender");
        var recorder = new Recorder();
        var api = app.CreateDefaultClient(recorder);
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.For("sender"));
        // cust's inbound mail goes to the customer's server (the sink); parent only sends.
        await SucceededAsync<DomainView>(api.PostAsJsonAsync("/api/domains", new { name = cust, mode = "redirect", destinationHost = "127.0.0.1", destinationPort = sink.Port }));
        await SucceededAsync<DomainView>(api.PostAsJsonAsync("/api/domains", new { name = parent, mode = "hold" }));
        await app.VerifyAsync("sender", cust);
        await app.VerifyAsync("sender", parent);

        var filter = Knot.NewName("office");
        await Knot.SetAsync(filter, 1, "127.0.0.21");
        string alice = $"alice@{cust}", ident = $"ident@{cust}", off = $"off@{cust}", dyn = $"dyn@{cust}", alt = $"alt@{cust}";
        var accounts = new (object Body, string Login)[]
        {
            (new { type = "single-address", address = alice, password = "alice's secret" }, alice),
            (new { type = "single-address", address = ident, password = "ident's secret", allowIdentities = true }, ident),
            (new { type = "any-address", domain = parent, password = "parent's secret", allowSubdomains = true }, $"@{parent}"),
            (new { type = "single-address", address = off, password = "off's secret" }, off),
            (new { type = "single-address", address = dyn, password = "dyn's secret", ipv4Filter = filter }, dyn),
            (new { type = "single-address", address = alt, password = "alt's secret", ipv4Filter = "127.0.0.31", alternateIpv4Filter = "127.0.0.32/32" }, alt),
            (new { type = "mail-server", domain = cust, name = "gateway", password = "gateway's secret", ipv4Filter = "127.0.0.41" }, $"gateway@{cust}"),
        };
        var watch = Stopwatch.StartNew();
        foreach (var (body, login) in accounts)
        {
            var created = await SucceededAsync<OutboundAccountView>(api.PostAsJsonAsync("/api/outbound-accounts", body));
            Assert.Equal(login, created.Login);
        }
        var etag = (await api.GetAsync($"/api/outbound-accounts/{off}")).Headers.ETag!.Tag;
        Assert.True((await api.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/{off}", new { enabled = false }, etag)).IsSuccessStatusCode);

        // A new account: from the API call to the relay accepting its AUTH (each try from an address of its own).
        var firstAuth = await UntilAuthAsync(alice, "alice's secret", Relay.SubmissionPort, SecureSocketOptions.StartTls);
        output.WriteLine($"7 accounts created through the API -> first successful AUTH of the first: {watch.Elapsed.TotalSeconds:F1} s ({firstAuth} tries)");
        await Eventually.WaitAsync(() => Task.FromResult(Map("passwd")), p => p.Contains("allow_nets=127.0.0.21/32", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "dyn's filter to be published");

        // 1. Single address on 587 (STARTTLS): itself, not another sender.
        await using (var client = await LoggedInAsync(alice, "alice's secret"))
        {
            Assert.StartsWith(Queued, await client.SendAsync(alice, Outside));
            Assert.Equal($"553 5.7.1 <bob@{cust}>: Sender address rejected: not owned by user {alice}", await client.SendAsync($"bob@{cust}", Outside));
            Assert.Equal($"553 5.7.1 <alice@{other}>: Sender address rejected: not owned by user {alice}", await client.SendAsync($"alice@{other}", Outside));
            Show(client);
        }
        // ... and on 465 (implicit TLS).
        await using (var client = await LoggedInAsync(alice, "alice's secret", Relay.SmtpsPort, SecureSocketOptions.SslOnConnect))
        {
            Assert.StartsWith(Queued, await client.SendAsync(alice, Outside));
            Assert.Equal($"553 5.7.1 <carol@{cust}>: Sender address rejected: not owned by user {alice}", await client.SendAsync($"carol@{cust}", Outside));
            Show(client);
        }
        // 2. Identities: any address of its domain, no other domain.
        await using (var client = await LoggedInAsync(ident, "ident's secret"))
        {
            Assert.StartsWith(Queued, await client.SendAsync($"sales@{cust}", Outside));
            Assert.StartsWith(Queued, await client.SendAsync(ident, Outside));
            Assert.Equal($"553 5.7.1 <ident@{other}>: Sender address rejected: not owned by user {ident}", await client.SendAsync($"ident@{other}", Outside));
            Show(client);
        }
        // 3. Any address with subdomains: the domain and every subdomain, no look-alike.
        await using (var client = await LoggedInAsync($"@{parent}", "parent's secret", Relay.SmtpsPort, SecureSocketOptions.SslOnConnect))
        {
            Assert.StartsWith(Queued, await client.SendAsync($"x@{parent}", Outside));
            Assert.StartsWith(Queued, await client.SendAsync($"x@lists.{parent}", Outside));
            Assert.Equal($"553 5.7.1 <x@not{parent}>: Sender address rejected: not owned by user @{parent}", await client.SendAsync($"x@not{parent}", Outside));
            Assert.Equal($"553 5.7.1 <x@{cust}>: Sender address rejected: not owned by user @{parent}", await client.SendAsync($"x@{cust}", Outside));
            Show(client);
        }
        // 4. A wrong password, and a disabled account with its reason.
        await using (var client = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.11"))
        {
            Assert.Equal(Refused, await client.AuthenticateAsync(alice, "not alice's secret"));
            Show(client);
        }
        await using (var client = await LoggedInAsync(off, "off's secret"))
        {
            Assert.Equal($"554 5.7.1 <{off}>: SASL login name rejected: Account disabled", await client.SendAsync(off, Outside));
            Show(client);
        }
        // 5. A host-name filter: refused from outside it, accepted once knsupdate moves the name to the client.
        await using (var client = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.22"))
        {
            Assert.Equal(Refused, await client.AuthenticateAsync(dyn, "dyn's secret"));
            Show(client);
        }
        await using (var client = await LoggedInAsync(dyn, "dyn's secret", from: "127.0.0.21"))
        {
            Assert.StartsWith(Queued, await client.SendAsync(dyn, Outside));
        }
        var moved = Stopwatch.StartNew();
        await Knot.SetAsync(filter, 1, "127.0.0.23");
        await Eventually.WaitAsync(() => Task.FromResult(Map("passwd")), p => p.Contains("allow_nets=127.0.0.23/32", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "dyn's filter to follow its name");
        var tries = await UntilAuthAsync(dyn, "dyn's secret", Relay.SubmissionPort, SecureSocketOptions.StartTls, from: "127.0.0.23", fresh: false);
        output.WriteLine($"knsupdate of the filter's name -> AUTH accepted from the new address: {moved.Elapsed.TotalSeconds:F1} s ({tries} tries)");
        await using (var client = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.21"))
        {
            Assert.Equal(Refused, await client.AuthenticateAsync(dyn, "dyn's secret"));
            Show(client);
        }
        // 6. The alternate filter: either filter lets in, nothing else does.
        foreach (var from in new[] { "127.0.0.31", "127.0.0.32" })
        {
            await using var client = await LoggedInAsync(alt, "alt's secret", from: from);
            Assert.StartsWith(Queued, await client.SendAsync(alt, Outside));
        }
        await using (var client = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.33"))
        {
            Assert.Equal(Refused, await client.AuthenticateAsync(alt, "alt's secret"));
            Show(client);
        }
        // 7. A mail server: any sender from its network, nothing from elsewhere.
        await using (var client = await LoggedInAsync($"gateway@{cust}", "gateway's secret", from: "127.0.0.41"))
        {
            Assert.StartsWith(Queued, await client.SendAsync("anyone@elsewhere.example", Outside));
            Assert.StartsWith(Queued, await client.SendAsync($"bob@{cust}", Outside));
            Show(client);
        }
        await using (var client = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.42"))
        {
            Assert.Equal(Refused, await client.AuthenticateAsync($"gateway@{cust}", "gateway's secret"));
            Show(client);
        }
        // 8. No AUTH, no relaying: not on 25, not on 587.
        await using (var client = await Submission.ConnectAsync(Relay.Port, SecureSocketOptions.StartTls))
        {
            Assert.Equal($"554 5.7.1 <{Outside}>: Relay access denied", await client.SendAsync(alice, Outside));
            Show(client);
        }
        await using (var client = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls))
        {
            Assert.Equal($"554 5.7.1 <{Outside}>: Recipient address rejected: Access denied", await client.SendAsync(alice, Outside));
        }
        // 9. Inbound mail for the customer's domain still follows its routing (redirect to its server).
        await using (var client = await Submission.ConnectAsync(Relay.Port, SecureSocketOptions.None))
        {
            Assert.StartsWith(Queued, await client.SendAsync(Outside, $"alice@{cust}"));
            Show(client);
        }
        var delivered = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count == 1, TimeSpan.FromSeconds(30), "inbound mail at the customer's server");
        Assert.Equal($"alice@{cust}", To(delivered[0]));

        // 10. A new password: from the API call to the relay accepting it; the old one refused after.
        etag = (await api.GetAsync($"/api/outbound-accounts/{alice}")).Headers.ETag!.Tag;
        var changed = Stopwatch.StartNew();
        Assert.True((await api.SendAsync(HttpMethod.Put, $"/api/outbound-accounts/{alice}/password", new { password = "alice's new secret" }, etag)).IsSuccessStatusCode);
        tries = await UntilAuthAsync(alice, "alice's new secret", Relay.SmtpsPort, SecureSocketOptions.SslOnConnect);
        output.WriteLine($"password changed through the API -> first successful AUTH with it: {changed.Elapsed.TotalSeconds:F1} s ({tries} tries)");
        await using (var client = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.12"))
        {
            Assert.Equal(Refused, await client.AuthenticateAsync(alice, "alice's secret"));
        }

        // 11. The hashes (and the passwords) are in the relay's passwd-file only: in no API response and no log.
        var hashes = BlfCrypt().Matches(Map("passwd")).Select(m => m.Groups[1].Value).ToList();
        Assert.True(hashes.Count >= accounts.Length, $"the passwd-file has {hashes.Count} hashes");
        string[] passwords = ["alice's secret", "ident's secret", "parent's secret", "off's secret", "dyn's secret", "alt's secret", "gateway's secret", "alice's new secret"];
        var secrets = hashes.Concat(passwords).ToList();
        var logs = string.Join('\n', appLogs.Lines.Concat(agentLogs.Lines).Append(await OutboundAccountsTests.DovecotLogAsync()).Append(PostfixLog()));
        var responses = string.Join('\n', recorder.Bodies);
        Assert.True(recorder.Bodies.Count > 10 && logs.Length > 1000, $"{recorder.Bodies.Count} responses, {logs.Length} characters of logs recorded");
        foreach (var secret in secrets)
        {
            Assert.False(responses.Contains(secret, StringComparison.Ordinal), $"an API response contains '{secret}'");
            Assert.False(logs.Contains(secret, StringComparison.Ordinal), $"a log contains '{secret}'");
        }
        output.WriteLine($"{secrets.Count} hashes and passwords looked for in {recorder.Bodies.Count} API responses and {logs.Length} characters of app, agent, Dovecot and Postfix logs: none found");
    }

    private void Show(Submission client) => output.WriteLine(client.Transcript);

    private static string PostfixLog()
    {
        var log = Path.Combine(RepoRoot.Path, ".artifacts", $"postfix-{Path.GetFileName(Relay.ConfigDirectory)}.log");
        return File.Exists(log) ? File.ReadAllText(log) : "";
    }

    [GeneratedRegex(@"\{BLF-CRYPT\}(\$2[aby]?\$[0-9]{2}\$[./A-Za-z0-9]{53})")]
    private static partial Regex BlfCrypt();

    /// <summary>Keeps the body of every API response.</summary>
    private sealed class Recorder : DelegatingHandler
    {
        public ConcurrentQueue<string> Bodies { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            Bodies.Enqueue($"{(int)response.StatusCode} {response.Headers} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            return response;
        }
    }

    /// <summary>Every line the app logs, at every level.</summary>
    private sealed class AppLogs : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");

        public void Dispose()
        {
        }
    }
}
