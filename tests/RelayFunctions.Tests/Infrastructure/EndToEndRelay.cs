using System.Text.Json;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using RelayAgent;
using RelayFunctions.Tests.Outbound;
using RelayFunctions.Tests.RelayMap;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>
/// What the end-to-end tests on the test relay share: the app publishing its relay map every second (and routing mail
/// to loopback, where the customer's server, an SMTP sink, listens), a relay agent applying the map to the relay's
/// Postfix from a fresh start, and the replies and envelopes they check.
/// </summary>
internal static class EndToEndRelay
{
    public const string AuthOk = "235 2.7.0 Authentication successful";
    public const string Queued = "250 2.0.0 Ok: queued as ";

    /// <summary>The app with its own runners, publishing the relay map every second, mail to 127.0.0.0/8 allowed.</summary>
    public static HelperApp App(Action<IServiceCollection>? services = null) =>
        new([new("RelayMap:Schedule", "* * * * * *"), new("Destinations:AllowedRanges:0", "127.0.0.0/8")], services);

    /// <summary>An agent for the test relay that has applied nothing yet (the last test's applied.json is gone).</summary>
    public static (AgentWorker Worker, MapApplier Applier) Agent(
        string relayId, string prefix, TimeSpan? pollInterval = null, string? postfix = null, ILoggerFactory? logs = null)
    {
        File.Delete(Path.Combine(Relay.MapDirectory, "applied.json"));
        var options = new AgentOptions
        {
            RelayId = relayId,
            Prefix = prefix,
            MapDirectory = Relay.MapDirectory,
            PostfixConfigDirectory = Relay.ConfigDirectory,
        };
        options.PollInterval = pollInterval ?? options.PollInterval;
        options.Postfix = postfix ?? options.Postfix;
        return TestAgent.Create(options, logs: logs);
    }

    /// <summary>Runs <paramref name="test"/> while an agent polls the app's map every second; then stops it and shows the policy service's log.</summary>
    public static async Task WithAgentAsync(string relayId, HelperApp app, ITestOutputHelper output, Func<Task> test, ILoggerFactory? logs = null)
    {
        var (worker, _) = Agent(relayId, app.Prefix, TimeSpan.FromSeconds(1), logs: logs);
        await worker.StartAsync(default);
        try
        {
            await test();
        }
        finally
        {
            await worker.StopAsync(default);
            output.WriteLine("The policy service's log:\n" + string.Join('\n', Relay.Policy.Log.TakeLast(200)));
        }
    }

    /// <summary>The answer to a request that must succeed (the test fails with its body otherwise), read as the view <typeparamref name="T"/>.</summary>
    public static async Task<T> SucceededAsync<T>(Task<HttpResponseMessage> request)
        where T : class
    {
        var response = await request;
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.ReadViewAsync<T>();
    }

    /// <summary>A table as the agent wrote it in the map directory ("" before it wrote it).</summary>
    public static string Map(string table)
    {
        var path = Path.Combine(Relay.MapDirectory, table);
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public static string Applied() => Map("applied.json");

    private static int NextAddress = 100;

    /// <summary>
    /// AUTH until it succeeds; returns the number of tries. With <paramref name="fresh"/> each try comes from a loopback
    /// address no other try used, so Dovecot's penalty for failed tries does not slow the next.
    /// </summary>
    public static async Task<int> UntilAuthAsync(string login, string password, int port, SecureSocketOptions tls, string from = "", bool fresh = true)
    {
        var tries = 0;
        await Eventually.WaitAsync(
            async () =>
            {
                tries++;
                var n = Interlocked.Increment(ref NextAddress);
                var address = fresh ? $"127.0.{n / 250 + 1}.{n % 250 + 1}" : from;
                await using var client = await Submission.ConnectAsync(port, tls, address);
                return await client.AuthenticateAsync(login, password);
            },
            reply => reply == AuthOk,
            TimeSpan.FromSeconds(60),
            $"the relay to accept {login}'s password");
        return tries;
    }

    /// <summary>A connection to the relay's submission port, from <paramref name="from"/>, logged in.</summary>
    public static async Task<Submission> LoggedInAsync(
        string login, string password, int? port = null, SecureSocketOptions tls = SecureSocketOptions.StartTls, string from = "127.0.0.1")
    {
        var client = await Submission.ConnectAsync(port ?? Relay.SubmissionPort, tls, from);
        Assert.Equal(AuthOk, await client.AuthenticateAsync(login, password));
        return client;
    }

    /// <summary>The envelope sender of a message the SMTP sink received.</summary>
    public static string From((MimeMessage Message, JsonElement Envelope) received) => received.Envelope.GetProperty("from").GetString()!;

    /// <summary>The (first) envelope recipient of a message the SMTP sink received.</summary>
    public static string To((MimeMessage Message, JsonElement Envelope) received) => received.Envelope.GetProperty("to")[0].GetString()!;
}
