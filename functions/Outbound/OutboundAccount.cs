using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Azure;
using RelayFunctions.Accounts;
using RelayFunctions.Destinations;
using RelayFunctions.Domains;

namespace RelayFunctions.Outbound;

/// <summary>The three kinds of outbound (smarthost) account of the seed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OutboundType>))]
public enum OutboundType
{
    /// <summary>Login = the address; may send only as it (or, with options, its identities and subdomains).</summary>
    [JsonStringEnumMemberName("single-address")]
    SingleAddress,

    /// <summary>Login = <c>@domain</c>; may send as any address of the domain (and, with the option, its subdomains).</summary>
    [JsonStringEnumMemberName("any-address")]
    AnyAddress,

    /// <summary>Login = <c>name@domain</c>; any sender, but only from its source networks.</summary>
    [JsonStringEnumMemberName("mail-server")]
    MailServer,
}

public static class OutboundTypes
{
    public static readonly string[] Names = ["single-address", "any-address", "mail-server"];

    public static string ToName(OutboundType type) => Names[(int)type];

    public static bool TryParse(string? text, out OutboundType type)
    {
        var i = Array.IndexOf(Names, text?.Trim().ToLowerInvariant());
        type = i < 0 ? default : (OutboundType)i;
        return i >= 0;
    }
}

/// <summary>The four filter slots: a primary and (service level Standard and higher) an alternate per IP family.</summary>
public enum FilterSlot
{
    Ipv4,
    Ipv6,
    AlternateIpv4,
    AlternateIpv6,
}

/// <summary>
/// One source connection filter as the customer set it: an address or CIDR network, a host name (followed in DNS by the
/// control plane: A for the IPv4 slots, AAAA for the IPv6 ones), or the family's loopback address, which disables logins
/// over that family.
/// </summary>
public sealed record SourceFilter(string Text, IPNetwork? Network, DomainName? Host, bool Disables)
{
    public bool IsHost => Host is not null;

    /// <summary>An address or CIDR network of the slot's family, a host name, or the family's loopback address (disables it); null with an error.</summary>
    public static SourceFilter? Parse(string text, FilterSlot slot, out string? error)
    {
        error = null;
        var family = slot is FilterSlot.Ipv4 or FilterSlot.AlternateIpv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        var trimmed = text.Trim();
        if (Networks.TryParse(trimmed, out var network))
        {
            if (network.Value.BaseAddress.AddressFamily != family)
            {
                error = $"'{trimmed}' is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address or network.";
                return null;
            }
            var loopback = family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback;
            if (network.Value.PrefixLength == (family == AddressFamily.InterNetwork ? 32 : 128) && network.Value.BaseAddress.Equals(loopback))
            {
                if (slot is FilterSlot.AlternateIpv4 or FilterSlot.AlternateIpv6)
                {
                    error = "The loopback address disables a protocol; it has no meaning as an alternate filter.";
                    return null;
                }
                return new SourceFilter(loopback.ToString(), null, null, Disables: true);
            }
            return new SourceFilter(network.Value.ToString(), network, null, Disables: false);
        }
        if (Networks.IsLenientOnly(trimmed))
        {
            error = $"'{trimmed}' is not an address in a form read the same everywhere: {IpAddresses.Forms}.";
            return null;
        }
        if (DomainName.TryParse(trimmed, out var host, out var hostError))
        {
            return new SourceFilter(host.Value, null, host, Disables: false);
        }
        error = $"'{trimmed}' is not an address, a CIDR network or a host name: {hostError}";
        return null;
    }
}

public sealed record OutboundFilters(SourceFilter? Ipv4, SourceFilter? Ipv6, SourceFilter? AlternateIpv4, SourceFilter? AlternateIpv6)
{
    public static readonly OutboundFilters None = new(null, null, null, null);

    public SourceFilter? this[FilterSlot slot] => slot switch
    {
        FilterSlot.Ipv4 => Ipv4,
        FilterSlot.Ipv6 => Ipv6,
        FilterSlot.AlternateIpv4 => AlternateIpv4,
        _ => AlternateIpv6,
    };

    public bool HasHosts => Enum.GetValues<FilterSlot>().Any(s => this[s]?.IsHost == true);
}

/// <summary>"Action on submission errors" of the seed: the system's choice of 4xx or 5xx, or always 5xx.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SubmissionErrors>))]
public enum SubmissionErrors
{
    [JsonStringEnumMemberName("automatic")]
    Automatic,

    [JsonStringEnumMemberName("always-5xx")]
    Always5xx,
}

public static class SubmissionErrorNames
{
    public static readonly string[] Names = ["automatic", "always-5xx"];

    public static bool TryParse(string? text, out SubmissionErrors value)
    {
        var i = Array.IndexOf(Names, text?.Trim().ToLowerInvariant());
        value = i < 0 ? default : (SubmissionErrors)i;
        return i >= 0;
    }
}

/// <summary>
/// A BCC recipient: every submission is also sent to it as a separate copy. <see cref="Id"/> names it in the copy's
/// envelope sender, so that a bounce identifies it.
/// </summary>
public sealed record BccRecipient(EmailAddress Address, string Id)
{
    /// <summary>A short random id: 8 characters of base32 (lowercase), fit for a local part.</summary>
    public static string NewId() => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz234567", 8);
}

/// <summary>A BCC recipient the service removed because its copies bounced, and why.</summary>
public sealed record RemovedBcc(string Address, DateTimeOffset At, string Reason);

/// <summary>What the customer sets on an outbound account (besides its password).</summary>
public sealed record OutboundSettings(
    bool Enabled,
    OutboundFilters Filters,
    bool AllowIdentities,
    bool AllowSubdomains,
    IReadOnlyList<BccRecipient> BccRecipients,
    IReadOnlyList<EmailAddress> Mirrors,
    SubmissionErrors SubmissionErrors)
{
    public static OutboundSettings Basic(bool enabled, OutboundFilters filters, bool identities, bool subdomains) =>
        new(enabled, filters, identities, subdomains, [], [], SubmissionErrors.Automatic);
}

/// <summary>
/// The addresses the host-name filters resolved to at the last lookup, by slot, and when they are looked up again.
/// <see cref="IndexBucket"/>/<see cref="IndexNonce"/> name the account's entry in the filter index, as for helpers.
/// </summary>
public sealed record FilterResolution(
    IReadOnlyDictionary<FilterSlot, IReadOnlyList<IPAddress>> Addresses,
    DateTimeOffset? LastLookup,
    DateTimeOffset? NextLookup,
    string? Reason,
    string? IndexBucket,
    string? IndexNonce,
    string? LastCheckToken)
{
    public static readonly FilterResolution None = new(new Dictionary<FilterSlot, IReadOnlyList<IPAddress>>(), null, null, null, null, null, null);

    public IReadOnlyList<IPAddress> For(FilterSlot slot) => Addresses.TryGetValue(slot, out var a) ? a : [];
}

/// <summary>A new outbound account: its login, of which type and domain, and its settings.</summary>
public sealed record NewOutboundAccount(OutboundType Type, string Login, DomainName Domain, EmailAddress? Address, OutboundSettings Settings);

/// <summary>
/// An outbound account, as stored. The password is only ever its hash, as Dovecot verifies it (<c>{BLF-CRYPT}</c>).
/// <see cref="Key"/> names the account in the envelope senders of its BCC copies; <see cref="MirrorToken"/> is the
/// value of the header its mirror copies carry, for the customer's Sieve rules.
/// </summary>
public sealed record OutboundAccount(
    string AccountId,
    string Login,
    OutboundType Type,
    DomainName Domain,
    EmailAddress? Address,
    string PasswordHash,
    OutboundSettings Settings,
    FilterResolution Resolution,
    string Key,
    string MirrorToken,
    IReadOnlyList<RemovedBcc> RemovedBcc,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    ETag ETag);
