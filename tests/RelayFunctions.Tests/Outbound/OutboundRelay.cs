using RelayAgent;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// The test relay (Postfix + Dovecot) with a hand-written generation of outbound accounts applied by the relay
/// agent: one login of each kind, over three customer domains and one relayed (inbound) domain.
/// </summary>
public sealed class OutboundRelay : IAsyncLifetime
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    /// <summary>The customer's domain: single-address, any-address, disabled, source-limited and mail-server logins.</summary>
    public string Cust => $"cust-{_id}.example";

    /// <summary>Another customer's domain (never the logins above).</summary>
    public string Other => $"other-{_id}.example";

    /// <summary>A domain whose any-address login also covers every subdomain (the pcre table).</summary>
    public string Parent => $"parent-{_id}.example";

    /// <summary>A relayed domain: the relay is its MX, mail for it needs no AUTH.</summary>
    public string Inbound => $"in-{_id}.example";

    public string Alice => $"alice@{Cust}";
    public string AnyAddress => $"@{Cust}";
    public string Subdomains => $"@{Parent}";
    public string Disabled => $"disabled@{Cust}";
    public string NetLimited => $"netlimited@{Cust}";
    public string Nowhere => $"nowhere@{Cust}";
    public string MailServer => $"mailserver@{Cust}";

    public static string Password(string login) => $"secret of {login}";

    public IReadOnlyDictionary<string, string> Files => new Dictionary<string, string>
    {
        ["relay_domains"] = $"{Inbound} x\n",
        ["relay_recipients"] = $"@{Inbound} x\n",
        ["transport"] = $"{Inbound} discard:\n",
        ["message_size_limits"] = "",
        ["passwd"] = string.Join('\n',
            HandWrittenMap.PasswdLine(Alice, Password(Alice)),
            HandWrittenMap.PasswdLine(AnyAddress, Password(AnyAddress)),
            HandWrittenMap.PasswdLine(Subdomains, Password(Subdomains)),
            HandWrittenMap.PasswdLine(Disabled, Password(Disabled)),
            HandWrittenMap.PasswdLine(NetLimited, Password(NetLimited), allowNets: "127.0.0.2/32"),
            HandWrittenMap.PasswdLine(Nowhere, Password(Nowhere), allowNets: ""),
            HandWrittenMap.PasswdLine(MailServer, Password(MailServer), allowNets: "127.0.0.0/8,::1/128")) + "\n",
        // An exact key hides @domain, so each repeats its domain's any-address login.
        ["sender_logins"] = $"""
            {Alice} {Alice},{AnyAddress}
            {Disabled} {Disabled},{AnyAddress}
            {NetLimited} {NetLimited},{AnyAddress}
            {Nowhere} {Nowhere},{AnyAddress}
            @{Cust} {AnyAddress}
            @{Parent} {Subdomains}

            """,
        // Strict subdomains only; the domain itself is in the cdb.
        ["sender_logins_sub.pcre"] = $"/@[^@]+\\.{Parent.Replace(".", "\\.")}$/i {Subdomains}\n",
        ["sasl_access"] = $"""
            {Disabled} REJECT 5.7.1 Account disabled
            {MailServer} OK

            """,
    };

    public async Task InitializeAsync()
    {
        var prefix = "ob" + _id;
        File.Delete(Path.Combine(Relay.MapDirectory, "applied.json"));
        var generation = await new HandWrittenMap(prefix).PublishAsync(Files);
        var logs = new CapturingLogs();
        var (worker, _) = TestAgent.Create(new AgentOptions
        {
            RelayId = "outbound",
            Prefix = prefix,
            MapDirectory = Relay.MapDirectory,
            PostfixConfigDirectory = Relay.ConfigDirectory,
        }, logs: logs);
        var applied = await worker.PollOnceAsync(default);
        Assert.True(applied?.Generation == generation, "the agent did not apply the generation: " + string.Join('\n', logs.Lines));

        // Dovecot looks at its passwd-file at most once a second: a test that ran just before (another generation, AUTHs
        // of its own) can leave it reading the old file for up to a second more. Ready once Alice's AUTH is taken, each
        // try from an address of its own (Dovecot slows every AUTH from an address that failed).
        var tries = 0;
        await Eventually.WaitAsync(
            async () =>
            {
                tries++;
                await using var client = await Submission.ConnectAsync(Relay.SubmissionPort, MailKit.Security.SecureSocketOptions.StartTls, $"127.0.8.{tries}");
                return await client.AuthenticateAsync(Alice, Password(Alice));
            },
            reply => reply.StartsWith("235", StringComparison.Ordinal), TimeSpan.FromSeconds(30), $"the relay to accept {Alice}'s password");
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
