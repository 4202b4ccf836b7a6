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

    /// <summary>Postfix's configuration directory (<c>-c</c>); empty for the default instance.</summary>
    public string? PostfixConfigDirectory { get; set; }

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an idle relay rewrites its report (<c>LastSeen</c>), so operators can tell a live relay from a dead
    /// one. Between heartbeats an unchanged poll costs one request (the 304) and writes nothing.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMinutes(1);

    public string Postmap { get; set; } = "postmap";
    public string Postqueue { get; set; } = "postqueue";
    public string Postfix { get; set; } = "postfix";
}
