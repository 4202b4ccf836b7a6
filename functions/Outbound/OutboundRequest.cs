using System.Security.Cryptography;
using System.Text;
using RelayFunctions.Accounts;
using RelayFunctions.Api;

namespace RelayFunctions.Outbound;

/// <summary>The settings an outbound-account body carries, read into valid <see cref="OutboundSettings"/> or per-field errors.</summary>
public abstract record OutboundSettingsRequest
{
    /// <summary>The body fields of the four filter slots.</summary>
    public static readonly (string Field, FilterSlot Slot)[] FilterFields =
    [
        ("ipv4Filter", FilterSlot.Ipv4),
        ("ipv6Filter", FilterSlot.Ipv6),
        ("alternateIpv4Filter", FilterSlot.AlternateIpv4),
        ("alternateIpv6Filter", FilterSlot.AlternateIpv6),
    ];

    public Optional<bool?> Enabled { get; init; }

    public Optional<string?> Ipv4Filter { get; init; }

    public Optional<string?> Ipv6Filter { get; init; }

    /// <summary>Service level Standard and higher.</summary>
    public Optional<string?> AlternateIpv4Filter { get; init; }

    /// <summary>Service level Standard and higher.</summary>
    public Optional<string?> AlternateIpv6Filter { get; init; }

    /// <summary>Single-address accounts: any local part of the domain.</summary>
    public Optional<bool?> AllowIdentities { get; init; }

    /// <summary>Single- and any-address accounts: any subdomain of the domain too.</summary>
    public Optional<bool?> AllowSubdomains { get; init; }

    /// <summary>Addresses that get a separate copy of every submission (Personal and Personal Plus: one).</summary>
    public Optional<IReadOnlyList<string>?> BccRecipients { get; init; }

    /// <summary>Mailboxes in the caller's own verified domains that get a copy marked with the mirror header (Personal and Personal Plus: one).</summary>
    public Optional<IReadOnlyList<string>?> Mirrors { get; init; }

    /// <summary><c>automatic</c> (4xx for temporary errors such as DNS, 5xx for permanent ones) or <c>always-5xx</c>.</summary>
    public Optional<SubmissionErrors?> SubmissionErrors { get; init; }

    /// <summary>
    /// The lists' bounds as sent, what the highest service level allows: a longer list is refused whole, before any entry
    /// is read (<see cref="JsonBody"/>); a caller's own level is checked on the distinct addresses.
    /// </summary>
    protected static readonly Dictionary<string, int> MaxEntries = new()
    {
        ["bccRecipients"] = ServiceLimits.For(ServiceLevel.Enterprise).BccRecipients,
        ["mirrors"] = ServiceLimits.For(ServiceLevel.Enterprise).Mirrors,
    };

    public static string FieldOf(FilterSlot slot) => FilterFields.Single(f => f.Slot == slot).Field;

    /// <summary>
    /// The fields sent over <paramref name="current"/> (merge patch: absent keeps, null clears; none for a new account),
    /// checked together for an account of <paramref name="type"/> at <paramref name="level"/>; null with errors added.
    /// </summary>
    public OutboundSettings? Apply(OutboundType type, ServiceLevel level, OutboundSettings? current, FieldErrors errors)
    {
        var (filters, bcc, mirrors) = Read(level, errors);
        var currentFilters = current?.Filters ?? OutboundFilters.None;
        SourceFilter? Slot(FilterSlot slot) => Filter(slot).IsPresent ? filters[slot] : currentFilters[slot];
        var currentBcc = current?.BccRecipients ?? [];
        var result = new OutboundSettings(
            Enabled.IsPresent ? Enabled.Value ?? true : current?.Enabled ?? true,
            new OutboundFilters(Slot(FilterSlot.Ipv4), Slot(FilterSlot.Ipv6), Slot(FilterSlot.AlternateIpv4), Slot(FilterSlot.AlternateIpv6)),
            AllowIdentities.IsPresent ? AllowIdentities.Value ?? false : current?.AllowIdentities ?? false,
            AllowSubdomains.IsPresent ? AllowSubdomains.Value ?? false : current?.AllowSubdomains ?? false,
            // Each address keeps the id it had (a bounce of an older copy must still find it); a new one gets a new id.
            BccRecipients.IsPresent ? bcc.Select(a => currentBcc.FirstOrDefault(b => b.Address == a) ?? new BccRecipient(a, BccRecipient.NewId())).ToList() : currentBcc,
            Mirrors.IsPresent ? mirrors : current?.Mirrors ?? [],
            SubmissionErrors.IsPresent ? SubmissionErrors.Value ?? Outbound.SubmissionErrors.Automatic : current?.SubmissionErrors ?? Outbound.SubmissionErrors.Automatic);

        if (result.AllowIdentities && type != OutboundType.SingleAddress)
        {
            errors.Add("allowIdentities", "Only for single-address accounts (an any-address account may use every address already).");
        }
        if (result.AllowSubdomains && type == OutboundType.MailServer)
        {
            errors.Add("allowSubdomains", "Not for mail-server accounts: they may use any sender already.");
        }
        foreach (var (primary, alternate) in new[] { (FilterSlot.Ipv4, FilterSlot.AlternateIpv4), (FilterSlot.Ipv6, FilterSlot.AlternateIpv6) })
        {
            var field = FieldOf(alternate);
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
                errors.Add(field, $"An alternate filter is tried when the primary one ({FieldOf(primary)}) does not match: set that first.");
            }
        }
        if (type == OutboundType.MailServer && !Enum.GetValues<FilterSlot>().Any(s => result.Filters[s] is { Disables: false }))
        {
            errors.Add("ipv4Filter", "A mail-server account may send as anyone, so it is never authorised by its login alone: give the address, network or host name of the server (ipv4Filter or ipv6Filter).");
        }
        return errors.Any ? null : result;
    }

    /// <summary>Each field sent, on its own: the filters by slot, the BCC and mirror addresses, with an error for each that is not valid.</summary>
    protected (Dictionary<FilterSlot, SourceFilter?> Filters, IReadOnlyList<EmailAddress> Bcc, IReadOnlyList<EmailAddress> Mirrors) Read(ServiceLevel level, FieldErrors errors)
    {
        var filters = new Dictionary<FilterSlot, SourceFilter?>();
        foreach (var (field, slot) in FilterFields)
        {
            if (Filter(slot).Value is { } text)
            {
                filters[slot] = SourceFilter.Parse(text, slot, out var error);
                if (error is not null)
                {
                    errors.Add(field, error);
                }
            }
            else
            {
                filters[slot] = null;
            }
        }
        var limits = ServiceLimits.For(level);
        return (filters,
            ReadAddresses(BccRecipients.Value ?? [], "bccRecipients", limits.BccRecipients, l => l.BccRecipients, level, errors),
            ReadAddresses(Mirrors.Value ?? [], "mirrors", limits.Mirrors, l => l.Mirrors, level, errors));
    }

    private Optional<string?> Filter(FilterSlot slot) => slot switch
    {
        FilterSlot.Ipv4 => Ipv4Filter,
        FilterSlot.Ipv6 => Ipv6Filter,
        FilterSlot.AlternateIpv4 => AlternateIpv4Filter,
        _ => AlternateIpv6Filter,
    };

    /// <summary>
    /// Distinct addresses, at most as many as the caller's level allows. A list longer than the highest level allows is
    /// refused whole as it is read (<see cref="MaxEntries"/>).
    /// </summary>
    private static IReadOnlyList<EmailAddress> ReadAddresses(
        IReadOnlyList<string> entries, string field, int max, Func<ServiceLimits, int> limit, ServiceLevel level, FieldErrors errors)
    {
        var most = limit(ServiceLimits.For(ServiceLevel.Enterprise));
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
            errors.Add(field, addresses.Count > most
                ? $"At most {most} at any service level."
                : $"{addresses.Count} need service level {ServiceLevels.ToName(needed)} or higher; this account is {ServiceLevels.ToName(level)} ({max} at most).");
        }
        return addresses;
    }

    protected static ServiceLevel LevelOf(HttpContext http) => http.RequestServices.GetRequiredService<Caller>().Account.ServiceLevel;
}

/// <summary>A password given, or one to generate: what <c>password</c> and <c>generate</c> say together.</summary>
public static class NewPassword
{
    public const int MinLength = 5;

    /// <summary>bcrypt reads no further: a longer password would be the same as its first 72 bytes.</summary>
    public const int MaxBytes = 72;

    /// <summary>The password and whether it was generated; null with errors added.</summary>
    public static (string Password, bool Generated)? Read(Optional<string?> password, Optional<bool?> generate, FieldErrors errors)
    {
        var text = password.Value;
        if (generate.Value == true)
        {
            if (text is not null)
            {
                errors.Add("password", "Give a password or ask for one to be generated, not both.");
                return null;
            }
            // 24 characters of an unambiguous alphabet: about 138 bits.
            return (RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", 24), true);
        }
        var error = text switch
        {
            null => $"Required: at least {MinLength} characters (or \"generate\": true for a strong one).",
            { Length: < MinLength } => $"At least {MinLength} characters.",
            _ when Encoding.UTF8.GetByteCount(text) > MaxBytes => $"At most {MaxBytes} bytes (UTF-8): the hash reads no further.",
            _ when text.Any(char.IsControl) => "Control characters cannot be typed into a mail client's password field.",
            _ => null,
        };
        if (error is not null)
        {
            errors.Add("password", error);
        }
        return text is null || error is not null ? null : (text, false);
    }
}
