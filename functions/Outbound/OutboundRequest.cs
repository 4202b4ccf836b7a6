using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using RelayFunctions.Accounts;
using RelayFunctions.Api;
using RelayFunctions.Destinations;
using RelayFunctions.Domains;

namespace RelayFunctions.Outbound;

/// <summary>
/// Reads outbound-account bodies field by field into valid settings, or per-field errors. Fields: <c>type</c>,
/// <c>address</c> (single-address), <c>domain</c> (any-address, mail-server), <c>name</c> (mail-server, default
/// <c>mailserver</c>), <c>password</c> or <c>generate</c>, <c>enabled</c>, <c>ipv4Filter</c>, <c>ipv6Filter</c>,
/// <c>alternateIpv4Filter</c>, <c>alternateIpv6Filter</c>, <c>allowIdentities</c>, <c>allowSubdomains</c>.
/// </summary>
public static class OutboundRequest
{
    public const int MinPasswordLength = 5;

    /// <summary>bcrypt reads no further: a longer password would be the same as its first 72 bytes.</summary>
    public const int MaxPasswordBytes = 72;

    public static readonly (string Field, FilterSlot Slot)[] FilterFields =
    [
        ("ipv4Filter", FilterSlot.Ipv4),
        ("ipv6Filter", FilterSlot.Ipv6),
        ("alternateIpv4Filter", FilterSlot.AlternateIpv4),
        ("alternateIpv6Filter", FilterSlot.AlternateIpv6),
    ];

    /// <summary>What a create body asks for: the login, its type and domain, its settings, and a password (given or generated).</summary>
    public sealed record Create(OutboundType Type, string Login, DomainName Domain, EmailAddress? Address, OutboundSettings Settings, string Password, bool Generated);

    public static Create? ReadCreate(JsonBody body, ServiceLevel level)
    {
        var errors = body.Errors;
        var (_, typeText) = body.String("type");
        if (!OutboundTypes.TryParse(typeText, out var type))
        {
            errors.Add("type", $"Required: one of {string.Join(", ", OutboundTypes.Names)}.");
        }
        var (addressPresent, addressText) = body.String("address");
        var (domainPresent, domainText) = body.String("domain");
        var (namePresent, nameText) = body.String("name");
        EmailAddress? address = null;
        DomainName? domain = null;
        string? login = null;
        if (type == OutboundType.SingleAddress && !errors.Has("type"))
        {
            // Postfix folds the case of table keys; the account keeps the one form it will see.
            if (!EmailAddress.TryParse(addressText?.ToLowerInvariant(), out address, out var error))
            {
                errors.Add("address", addressText is null ? "Required for a single-address account: the address it sends as." : error!);
            }
            else
            {
                domain = address.Domain;
                login = address.ToString();
            }
            Refuse(body, domainPresent && domainText is not null, "domain", "Not used by a single-address account: its domain is the address's.");
            Refuse(body, namePresent && nameText is not null, "name", "Only a mail-server account has a name.");
        }
        else if (!errors.Has("type"))
        {
            if (!DomainName.TryParse(domainText, out domain, out var error))
            {
                errors.Add("domain", domainText is null ? "Required: one of your verified mail domains." : error!);
            }
            Refuse(body, addressPresent && addressText is not null, "address", "Only a single-address account has an address.");
            if (type == OutboundType.AnyAddress)
            {
                Refuse(body, namePresent && nameText is not null, "name", "Only a mail-server account has a name.");
                login = domain is null ? null : "@" + domain.Value;
            }
            else
            {
                var name = (nameText ?? "mailserver").Trim().ToLowerInvariant();
                if (name.Length > 64 || !EmailAddress.LocalPartPattern().IsMatch(name))
                {
                    errors.Add("name", "1–64 letters, digits and !#$%&'*+/=?^_`{|}~.- (no leading, trailing or double dots): the part of the login before '@'.");
                }
                login = domain is null ? null : $"{name}@{domain.Value}";
            }
        }

        // The login is a path segment of …/outbound-accounts/{login}: refused in the field it comes from.
        if (login is not null && login.Any(c => c is '/' or '\\' or '#' or '?'))
        {
            errors.Add(type == OutboundType.SingleAddress ? "address" : "name", "A login cannot hold '/', '\\', '#' or '?'.");
        }
        var (password, generated) = ReadPassword(body);
        var settings = ReadSettings(body, type, level, current: null);
        body.RejectUnknownFields();
        return errors.Any ? null : new Create(type, login!, domain!, address, settings!, password!, generated);
    }

    /// <summary>A merge patch of the settings (absent keeps, null clears); null on errors.</summary>
    public static OutboundSettings? ReadPatch(JsonBody body, OutboundAccount current, ServiceLevel level)
    {
        foreach (var field in new[] { "type", "address", "domain", "name", "login" })
        {
            if (body.Has(field))
            {
                body.String(field);
                body.Errors.Add(field, "Cannot be changed: create another account and delete this one.");
            }
        }
        foreach (var field in new[] { "password", "generate" })
        {
            if (body.Has(field))
            {
                body.String(field);
                body.Errors.Add(field, "Change the password with PUT …/password.");
            }
        }
        var settings = ReadSettings(body, current.Type, level, current.Settings);
        body.RejectUnknownFields();
        return body.Errors.Any ? null : settings;
    }

    /// <summary>Body of <c>PUT …/password</c>: <c>password</c>, or <c>generate: true</c>.</summary>
    public static (string? Password, bool Generated) ReadPasswordChange(JsonBody body)
    {
        var result = ReadPassword(body);
        body.RejectUnknownFields();
        return body.Errors.Any ? (null, false) : result;
    }

    private static (string? Password, bool Generated) ReadPassword(JsonBody body)
    {
        var (_, password) = body.String("password");
        var (_, generate) = body.Boolean("generate");
        if (generate == true)
        {
            Refuse(body, password is not null, "password", "Give a password or ask for one to be generated, not both.");
            return (Generate(), true);
        }
        if (password is null)
        {
            body.Errors.Add("password", $"Required: at least {MinPasswordLength} characters (or \"generate\": true for a strong one).");
            return (null, false);
        }
        if (password.Length < MinPasswordLength)
        {
            body.Errors.Add("password", $"At least {MinPasswordLength} characters.");
        }
        else if (Encoding.UTF8.GetByteCount(password) > MaxPasswordBytes)
        {
            body.Errors.Add("password", $"At most {MaxPasswordBytes} bytes (UTF-8): the hash reads no further.");
        }
        else if (password.Any(char.IsControl))
        {
            body.Errors.Add("password", "Control characters cannot be typed into a mail client's password field.");
        }
        return (password, false);
    }

    private static OutboundSettings? ReadSettings(JsonBody body, OutboundType type, ServiceLevel level, OutboundSettings? current)
    {
        var errors = body.Errors;
        var (enabledPresent, enabled) = body.Boolean("enabled");
        var (identitiesPresent, identities) = body.Boolean("allowIdentities");
        var (subdomainsPresent, subdomains) = body.Boolean("allowSubdomains");
        var filters = current?.Filters ?? OutboundFilters.None;
        var slots = new Dictionary<FilterSlot, SourceFilter?>
        {
            [FilterSlot.Ipv4] = filters.Ipv4,
            [FilterSlot.Ipv6] = filters.Ipv6,
            [FilterSlot.AlternateIpv4] = filters.AlternateIpv4,
            [FilterSlot.AlternateIpv6] = filters.AlternateIpv6,
        };
        foreach (var (field, slot) in FilterFields)
        {
            var (present, text) = body.String(field);
            if (present)
            {
                slots[slot] = text is null ? null : ParseFilter(text, slot, field, errors);
            }
        }
        var limits = ServiceLimits.For(level);
        var bcc = current?.BccRecipients ?? [];
        var (bccPresent, bccList) = body.StringList("bccRecipients", MaxListEntries(l => l.BccRecipients));
        if (bccPresent)
        {
            bcc = ReadBcc(bccList ?? [], current?.BccRecipients ?? [], limits, level, errors);
        }
        var mirrors = current?.Mirrors ?? [];
        var (mirrorsPresent, mirrorList) = body.StringList("mirrors", MaxListEntries(l => l.Mirrors));
        if (mirrorsPresent)
        {
            mirrors = ReadAddresses(mirrorList ?? [], "mirrors", limits.Mirrors, l => l.Mirrors, level, errors);
        }
        var submissionErrors = current?.SubmissionErrors ?? SubmissionErrors.Automatic;
        var (errorsPresent, errorsText) = body.String("submissionErrors");
        if (errorsPresent)
        {
            if (errorsText is null || errorsText.Trim().ToLowerInvariant() is "automatic")
            {
                submissionErrors = SubmissionErrors.Automatic;
            }
            else if (errorsText.Trim().ToLowerInvariant() is "always-5xx")
            {
                submissionErrors = SubmissionErrors.Always5xx;
            }
            else
            {
                errors.Add("submissionErrors", "One of automatic (4xx for temporary errors, 5xx for permanent ones) or always-5xx.");
            }
        }
        var result = new OutboundSettings(
            enabledPresent ? enabled ?? true : current?.Enabled ?? true,
            new OutboundFilters(slots[FilterSlot.Ipv4], slots[FilterSlot.Ipv6], slots[FilterSlot.AlternateIpv4], slots[FilterSlot.AlternateIpv6]),
            identitiesPresent ? identities ?? false : current?.AllowIdentities ?? false,
            subdomainsPresent ? subdomains ?? false : current?.AllowSubdomains ?? false,
            bcc, mirrors, submissionErrors);

        Refuse(body, result.AllowIdentities && type != OutboundType.SingleAddress, "allowIdentities", "Only for single-address accounts (an any-address account may use every address already).");
        Refuse(body, result.AllowSubdomains && type == OutboundType.MailServer, "allowSubdomains", "Not for mail-server accounts: they may use any sender already.");
        foreach (var (primary, alternate) in new[] { (FilterSlot.Ipv4, FilterSlot.AlternateIpv4), (FilterSlot.Ipv6, FilterSlot.AlternateIpv6) })
        {
            var field = FilterFields.Single(f => f.Slot == alternate).Field;
            if (result.Filters[alternate] is null || errors.Has(field))
            {
                continue;
            }
            if (level < ServiceLevel.Standard)
            {
                errors.Add(field, $"An alternate filter needs service level {ServiceLevels.ToName(ServiceLevel.Standard)} or higher; this account is {ServiceLevels.ToName(level)}.");
            }
            else if (result.Filters[primary] is not { Disables: false })
            {
                errors.Add(field, $"An alternate filter is tried when the primary one ({FilterFields.Single(f => f.Slot == primary).Field}) does not match: set that first.");
            }
        }
        if (type == OutboundType.MailServer && !Enum.GetValues<FilterSlot>().Any(s => result.Filters[s] is { Disables: false }))
        {
            errors.Add("ipv4Filter", "A mail-server account may send as anyone, so it is never authorised by its login alone: give the address, network or host name of the server (ipv4Filter or ipv6Filter).");
        }
        return errors.Any ? null : result;
    }

    /// <summary>
    /// The most entries a list may have as sent: what the highest service level allows. A caller's own level is
    /// checked on the distinct addresses; this bound comes first, before any entry is read.
    /// </summary>
    internal static int MaxListEntries(Func<ServiceLimits, int> limit) => limit(ServiceLimits.For(ServiceLevel.Enterprise));

    /// <summary>The BCC list: addresses, each keeping the id it had (a bounce of an older copy must still find it), new ones a new id.</summary>
    private static IReadOnlyList<BccRecipient> ReadBcc(
        IReadOnlyList<string> entries, IReadOnlyList<BccRecipient> current, ServiceLimits limits, ServiceLevel level, FieldErrors errors) =>
        ReadAddresses(entries, "bccRecipients", limits.BccRecipients, l => l.BccRecipients, level, errors)
            .Select(a => current.FirstOrDefault(b => b.Address == a) ?? new BccRecipient(a, NewId()))
            .ToList();

    private static IReadOnlyList<EmailAddress> ReadAddresses(
        IReadOnlyList<string> entries, string field, int max, Func<ServiceLimits, int> limit, ServiceLevel level, FieldErrors errors)
    {
        var addresses = new List<EmailAddress>();
        for (var i = 0; i < entries.Count; i++)
        {
            if (EmailAddress.TryParse(entries[i]?.ToLowerInvariant(), out var address, out var error))
            {
                if (!addresses.Contains(address))
                {
                    addresses.Add(address);
                }
            }
            else
            {
                errors.Add($"{field}[{i}]", error!);
            }
        }
        if (addresses.Count > max)
        {
            var needed = ServiceLimits.LowestFor(limit, addresses.Count);
            errors.Add(field, addresses.Count > limit(ServiceLimits.For(ServiceLevel.Enterprise))
                ? $"At most {limit(ServiceLimits.For(ServiceLevel.Enterprise))} at any service level."
                : $"{addresses.Count} need service level {ServiceLevels.ToName(needed)} or higher; this account is {ServiceLevels.ToName(level)} ({max} at most).");
        }
        return addresses;
    }

    /// <summary>A short random id: 8 characters of base32 (lowercase), fit for a local part.</summary>
    internal static string NewId() => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz234567", 8);

    /// <summary>An address or CIDR network of the slot's family, a host name, or the family's loopback address (disables it).</summary>
    internal static SourceFilter? ParseFilter(string text, FilterSlot slot, string field, FieldErrors errors)
    {
        var family = slot is FilterSlot.Ipv4 or FilterSlot.AlternateIpv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        var trimmed = text.Trim();
        if (Networks.TryParse(trimmed, out var network))
        {
            if (network.Value.BaseAddress.AddressFamily != family)
            {
                errors.Add(field, $"'{trimmed}' is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address or network.");
                return null;
            }
            var loopback = family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback;
            if (network.Value.PrefixLength == (family == AddressFamily.InterNetwork ? 32 : 128) && network.Value.BaseAddress.Equals(loopback))
            {
                if (slot is FilterSlot.AlternateIpv4 or FilterSlot.AlternateIpv6)
                {
                    errors.Add(field, "The loopback address disables a protocol; it has no meaning as an alternate filter.");
                    return null;
                }
                return new SourceFilter(loopback.ToString(), null, null, Disables: true);
            }
            return new SourceFilter(network.Value.ToString(), network, null, Disables: false);
        }
        if (Networks.IsLenientOnly(trimmed))
        {
            errors.Add(field, $"'{trimmed}' is not an address in a form read the same everywhere: {IpAddresses.Forms}.");
            return null;
        }
        if (DomainName.TryParse(trimmed, out var host, out var error))
        {
            return new SourceFilter(host.Value, null, host, Disables: false);
        }
        errors.Add(field, $"'{trimmed}' is not an address, a CIDR network or a host name: {error}");
        return null;
    }

    /// <summary>24 characters of an unambiguous alphabet: about 138 bits.</summary>
    private static string Generate()
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
        return RandomNumberGenerator.GetString(alphabet, 24);
    }

    private static void Refuse(JsonBody body, bool condition, string field, string message)
    {
        if (condition)
        {
            body.Errors.Add(field, message);
        }
    }
}
