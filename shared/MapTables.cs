namespace RelayShared;

/// <summary>The files of a generation, named as the relay's Postfix and Dovecot settings name them in the map folder.</summary>
public static class MapTables
{
    public const string Transport = "transport";
    public const string SizeLimits = "message_size_limits";
    public const string RelayRecipients = "relay_recipients";
    public const string RelayDomains = "relay_domains";
    public const string Passwd = "passwd";
    public const string SenderLogins = "sender_logins";
    public const string SenderLoginsPcre = "sender_logins_sub.pcre";
    public const string SaslAccess = "sasl_access";
    public const string OutboundAccounts = "outbound_accounts";

    /// <summary>The tables keyed by domain, which a delta changes line by line, in the order a relay applies their puts (deletes: the reverse).</summary>
    public static readonly IReadOnlyList<string> DomainTables = [Transport, SizeLimits, RelayRecipients, RelayDomains];

    /// <summary>The outbound tables, which a delta carries whole when they changed.</summary>
    public static readonly IReadOnlySet<string> OutboundTables = new HashSet<string>(StringComparer.Ordinal)
    {
        Passwd, SenderLogins, SenderLoginsPcre, SaslAccess, OutboundAccounts,
    };
}
