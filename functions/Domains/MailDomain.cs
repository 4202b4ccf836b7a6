using System.Net;
using System.Text.Json.Serialization;
using Azure;

namespace RelayFunctions.Domains;

/// <summary>How the relay handles mail for a domain: redirect (deliver to a host or IP and port), hold (accept and keep it queued) or backup-mx (deliver to the domain's own MX hosts).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DomainMode>))]
public enum DomainMode
{
    /// <summary>SMTP redirection (direct delivery) to a host or IP on a port.</summary>
    [JsonStringEnumMemberName("redirect")]
    Redirect,

    /// <summary>Accept and hold: mail is accepted and queued until the domain leaves this mode.</summary>
    [JsonStringEnumMemberName("hold")]
    Hold,

    /// <summary>Secondary MX: deliver to the domain's own MX hosts.</summary>
    [JsonStringEnumMemberName("backup-mx")]
    BackupMx,
}

public static class DomainModes
{
    public static readonly string[] Names = ["redirect", "hold", "backup-mx"];

    public static string ToName(DomainMode mode) => Names[(int)mode];

    public static bool TryParse(string? text, out DomainMode mode)
    {
        var index = Array.IndexOf(Names, text?.Trim().ToLowerInvariant());
        mode = index < 0 ? default : (DomainMode)index;
        return index >= 0;
    }
}

/// <summary>Where redirected mail goes: an IP address or a host name, and a TCP port.</summary>
public sealed record Destination(string Host, int Port)
{
    public IPAddress? Address => IPAddress.TryParse(Host, out var a) ? a : null;
}

/// <summary>What the customer sets on a domain.</summary>
public sealed record DomainSettings(
    DomainMode Mode,
    Destination? Destination,
    IReadOnlyList<string> Recipients,
    long MessageSizeLimit)
{
    public const long DefaultMessageSizeLimit = 10 * 1024 * 1024;
    public const long MinMessageSizeLimit = 1024 * 1024;
    public const long MaxMessageSizeLimit = 100 * 1024 * 1024;
    public const int MaxRecipients = 5000;
}

/// <summary>A mail domain of one account, as stored.</summary>
public sealed record MailDomain(
    string AccountId,
    DomainName Name,
    DomainSettings Settings,
    Verification.DomainVerification Verification,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    ETag ETag);
