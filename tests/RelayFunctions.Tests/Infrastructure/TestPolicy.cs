using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using RelayAgent;
using RelayAgent.Submission;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>
/// The relay agent's policy service (<see cref="PolicyServer"/>) for the test relay, on the port its main.cf names. By
/// default it counts usage under the prefix "relaypolicy", checks no block list and polls sender verification every
/// second; <see cref="UseAsync"/> restarts it with other settings (a test's storage prefix, a block list on Knot), and
/// a test that did so calls it again with null when done. Tests of the relay run one at a time (their collection).
/// It runs every Postfix command against the test instance (as the agent does against its own), and what it logs is kept
/// (<see cref="Log"/>; the relay's tests print it): a refusal such as "Submission checks failed" says why there.
/// </summary>
public sealed class TestPolicy
{
    private readonly string _dir;
    private readonly int _port;
    private PolicyServer? _server;

    public TestPolicy(string dir, int port)
    {
        (_dir, _port) = (dir, port);
        UseAsync(null).GetAwaiter().GetResult();
    }

    public AgentOptions Options { get; private set; } = new();

    private readonly RelayFunctions.Tests.RelayMap.CapturingLogs _logs = new();

    /// <summary>Every line the policy service logged since the tests started, at every level, exceptions included.</summary>
    public IReadOnlyList<string> Log => _logs.Lines;

    /// <summary>Stops the service, as a crashed agent would be; <see cref="UseAsync"/> starts it again.</summary>
    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync(default);
            _server.Dispose();
            _server = null;
        }
    }

    public async Task UseAsync(Action<AgentOptions>? configure)
    {
        await StopAsync();
        var options = new AgentOptions
        {
            RelayId = "test-relay",
            Prefix = "relaypolicy",
            ConnectionString = Azurite.ConnectionString,
            MapDirectory = Path.Combine(_dir, "maps"),
            PostfixQueueDirectory = Path.Combine(_dir, "queue"),
            PostfixConfigDirectory = _dir,
            PolicyEndpoint = $"127.0.0.1:{_port}",
            VerifyPollDelay = TimeSpan.FromSeconds(1),
            // A loaded machine can take longer than smtpd's 3 polls to deliver a probe, even to discard:
            VerifyPolls = 10,
            UsageFlushInterval = TimeSpan.FromSeconds(1),
        };
        configure?.Invoke(options);
        options.PolicyEndpoint = $"127.0.0.1:{_port}";
        var usage = new UsageCounter(new TableClient(Azurite.ConnectionString, options.Prefix + "OutboundUsage"), options.RelayId, TimeProvider.System);
        var policy = new SubmissionPolicy(options, usage, new VerifyClient(options.PostfixQueueDirectory), RelayAgent.Submission.Dns.Client(options.DnsServers),
            new Commands(options), TimeProvider.System, _logs.CreateLogger<SubmissionPolicy>());
        _server = new PolicyServer(policy, usage, options, _logs.CreateLogger<PolicyServer>());
        await _server.StartAsync(default);
        Options = options;
    }
}
