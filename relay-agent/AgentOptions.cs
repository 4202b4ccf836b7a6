namespace RelayAgent;

/// <summary>Settings of the relay agent (section <c>Agent</c>; environment <c>Agent__…</c>).</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>This relay's name in the reports; defaults to the machine name.</summary>
    public string RelayId { get; set; } = Environment.MachineName.ToLowerInvariant();

    /// <summary>A storage connection string (locally); empty in Azure, where the service URIs and managed identity are used.</summary>
    public string? ConnectionString { get; set; }

    public Uri? BlobServiceUri { get; set; }
    public Uri? TableServiceUri { get; set; }

    /// <summary>Client id of a user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ClientId { get; set; }

    /// <summary>The function app's <c>Storage:Prefix</c>, so the agent finds the same container and table.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Where the Postfix tables are written (main.cf points at <c>cdb:{MapDirectory}/transport</c> etc.).</summary>
    public string MapDirectory { get; set; } = "/var/lib/relay-agent/maps";

    /// <summary>
    /// The configuration directory of the Postfix instance this agent serves: every Postfix command it runs names it
    /// (<c>-c</c>), so none reads another instance's main.cf (or fails where the system's own was never configured).
    /// </summary>
    public string PostfixConfigDirectory { get; set; } = "/etc/postfix";

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an idle relay rewrites its report (<c>LastSeen</c>), so operators can tell a live relay from a dead
    /// one. Between heartbeats an unchanged poll costs one request (the 304) and writes nothing.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Postfix's mail log (<c>maillog_file</c>), which <see cref="Submission.AuthGuard"/> follows for failed SMTP
    /// AUTHs; empty: no blocks.
    /// </summary>
    public string MailLog { get; set; } = "";

    /// <summary>Failed AUTHs from one address within <see cref="AuthFailureWindow"/> that block it.</summary>
    public int AuthFailureLimit { get; set; } = 10;

    public TimeSpan AuthFailureWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a first block lasts; each block within a day of the previous one's end lasts twice as long, at most a day.</summary>
    public TimeSpan BlockDuration { get; set; } = TimeSpan.FromMinutes(15);

    public string Postmap { get; set; } = "postmap";
    public string Postqueue { get; set; } = "postqueue";
    public string Postfix { get; set; } = "postfix";

    /// <summary>Where the policy service listens (main.cf <c>relay_submission_policy</c> names it).</summary>
    public string PolicyEndpoint { get; set; } = "127.0.0.1:10040";

    /// <summary>DNS block lists the connecting address of an authenticated submission is checked against (zones, e.g. xbl.spamhaus.org).</summary>
    public List<string> DnsBlockLists { get; set; } = [];

    /// <summary>Name servers for the block lists (<c>address[:port]</c>); empty for the machine's resolvers.</summary>
    public List<string> DnsServers { get; set; } = [];

    /// <summary>Postfix's queue directory: sender verification asks its <c>private/verify</c> service.</summary>
    public string PostfixQueueDirectory { get; set; } = "/var/spool/postfix";

    /// <summary>How many times, <see cref="VerifyPollDelay"/> apart, a sender verification in progress is asked again (smtpd: 3 × 3 s).</summary>
    public int VerifyPolls { get; set; } = 3;

    public TimeSpan VerifyPollDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often the usage counts are written to the OutboundUsage table.</summary>
    public TimeSpan UsageFlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where the bounce service spools BCC bounces for the agent to hand to the control plane.</summary>
    public string BounceSpool { get; set; } = "/var/lib/relay-agent/bounces";

    /// <summary>The queue service (BCC bounces) in Azure; locally the connection string serves.</summary>
    public Uri? QueueServiceUri { get; set; }
}
