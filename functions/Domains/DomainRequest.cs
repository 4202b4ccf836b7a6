using System.Net;
using RelayFunctions.Accounts;
using RelayFunctions.Api;
using RelayFunctions.Destinations;

namespace RelayFunctions.Domains;

/// <summary>The settings a domain body carries, read into valid <see cref="DomainSettings"/> or per-field errors.</summary>
public abstract record DomainSettingsRequest
{
    /// <summary>How the relay handles the domain's mail.</summary>
    public abstract Optional<DomainMode?> Mode { get; init; }

    /// <summary>A host name or public IP address; required in redirect mode.</summary>
    public Optional<string?> DestinationHost { get; init; }

    /// <summary>1–65535; required in redirect mode.</summary>
    public Optional<int?> DestinationPort { get; init; }

    /// <summary>Valid recipients (<c>user@domain</c> or the catch-all <c>@domain</c>); empty accepts every recipient.</summary>
    public Optional<IReadOnlyList<string>?> Recipients { get; init; }

    /// <summary>Bytes, from 1 MiB to 100 MiB; default 10 MB.</summary>
    public Optional<long?> MessageSizeLimit { get; init; }

    /// <summary>The lists' bounds as sent: a longer list is refused whole, before any entry is read (<see cref="JsonBody"/>).</summary>
    protected static readonly Dictionary<string, int> MaxEntries = new() { ["recipients"] = DomainSettings.MaxRecipients };

    /// <summary>Does the body change where the mail goes?</summary>
    public bool ChangesRouting() => Mode.IsPresent || DestinationHost.IsPresent || DestinationPort.IsPresent;

    /// <summary>
    /// The fields sent over <paramref name="current"/> (merge patch: absent keeps, null clears; none for a new domain),
    /// checked together; null with errors added. Recipients must be in <paramref name="name"/> or under it.
    /// </summary>
    public DomainSettings? Apply(DomainName? name, DomainSettings? current, DestinationPolicy destinations, FieldErrors errors)
    {
        var read = Read(name, destinations, errors);
        var mode = read.Mode ?? current?.Mode ?? DomainMode.Hold;
        var host = DestinationHost.IsPresent ? read.Host : current?.Destination?.Host;
        var port = DestinationPort.IsPresent ? read.Port : current?.Destination?.Port;

        Destination? destination = null;
        if (mode == DomainMode.BackupMx)
        {
            if (DestinationHost.Value is not null || DestinationPort.Value is not null)
            {
                errors.Add(DestinationHost.IsPresent ? "destinationHost" : "destinationPort", "Not used in backup-mx mode: mail goes to the domain's own MX hosts.");
            }
        }
        else if (host is not null && port is not null)
        {
            destination = new Destination(host, port.Value);
        }
        else if (mode == DomainMode.Redirect)
        {
            if (host is null && !errors.Has("destinationHost"))
            {
                errors.Add("destinationHost", "Required in redirect mode: a host name or IP address.");
            }
            if (port is null && !errors.Has("destinationPort"))
            {
                errors.Add("destinationPort", "Required in redirect mode: a port from 1 to 65535.");
            }
        }
        else if (host is not null || port is not null)
        {
            errors.Add(host is null ? "destinationHost" : "destinationPort", "Give both destinationHost and destinationPort, or neither.");
        }

        var recipients = Recipients.IsPresent ? read.Recipients : current?.Recipients ?? [];
        var size = MessageSizeLimit.IsPresent ? read.Size : current?.MessageSizeLimit ?? DomainSettings.DefaultMessageSizeLimit;
        return errors.Any ? null : new DomainSettings(mode, destination, recipients, size);
    }

    /// <summary>Each field sent, on its own: what it says, with an error for each that is not valid.</summary>
    protected (DomainMode? Mode, string? Host, int? Port, IReadOnlyList<string> Recipients, long Size) Read(
        DomainName? name, DestinationPolicy destinations, FieldErrors errors)
    {
        if (Mode is { HasValue: true, Value: null })
        {
            errors.Add("mode", $"Must be one of {string.Join(", ", DomainModes.Names)}.");
        }
        var size = MessageSizeLimit.Value ?? DomainSettings.DefaultMessageSizeLimit;
        if (size is < DomainSettings.MinMessageSizeLimit or > DomainSettings.MaxMessageSizeLimit)
        {
            errors.Add("messageSizeLimit", $"Must be between {DomainSettings.MinMessageSizeLimit} and {DomainSettings.MaxMessageSizeLimit} bytes.");
        }
        return (Mode.Value, ParseHost(DestinationHost.Value, destinations, errors), ParsePort(DestinationPort.Value, errors),
            ParseRecipients(Recipients.Value ?? [], name, errors), size);
    }

    private static string? ParseHost(string? text, DestinationPolicy destinations, FieldErrors errors)
    {
        if (text is null)
        {
            return null;
        }
        var trimmed = text.Trim().TrimStart('[').TrimEnd(']');
        if (trimmed.StartsWith("ipv6:", StringComparison.OrdinalIgnoreCase))
        {
            trimmed = trimmed[5..];
        }
        if (trimmed.Contains('%') && IPAddress.TryParse(trimmed, out _))
        {
            errors.Add("destinationHost", "An IPv6 zone id (%…) names a link of this machine, not a destination on the Internet.");
            return null;
        }
        if (IpAddresses.IsLenientOnly(trimmed))
        {
            errors.Add("destinationHost", $"'{trimmed}' is not an address in a form read the same everywhere: {IpAddresses.Forms}.");
            return null;
        }
        if (IpAddresses.TryParse(trimmed, out var address))
        {
            if (!destinations.IsAcceptable(address))
            {
                errors.Add("destinationHost", $"{address} is not a public address (private, loopback and other special-purpose ranges are refused).");
                return null;
            }
            return address.ToString();
        }
        if (!DomainName.TryParse(text, out var name, out var error))
        {
            errors.Add("destinationHost", error!);
            return null;
        }
        return name.Value;
    }

    private static int? ParsePort(int? value, FieldErrors errors)
    {
        if (value is < 1 or > 65535)
        {
            errors.Add("destinationPort", "Must be a port from 1 to 65535.");
            return null;
        }
        return value;
    }

    /// <summary>
    /// Valid recipients: <c>user@domain</c> or the catch-all <c>@domain</c>, where domain is this domain or
    /// one below it. Stored lowercase, sorted, without duplicates.
    /// </summary>
    private static IReadOnlyList<string> ParseRecipients(IReadOnlyList<string> entries, DomainName? domain, FieldErrors errors)
    {
        // The count is bounded as the list is read (MaxEntries); the size the list takes in storage is checked where it is stored (DomainStore).
        var result = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i].Trim();
            var field = $"recipients[{i}]";
            if (entry.StartsWith('@'))
            {
                if (!DomainName.TryParse(entry[1..], out var catchAll, out var error))
                {
                    errors.Add(field, $"'{entry}': {error}");
                }
                else if (domain is not null && !domain.Contains(catchAll))
                {
                    errors.Add(field, $"'{entry}' is not in {domain}.");
                }
                else
                {
                    result.Add("@" + catchAll.Value);
                }
                continue;
            }
            if (!EmailAddress.TryParse(entry, out var address, out var addressError))
            {
                errors.Add(field, $"'{entry}': {addressError}");
            }
            else if (domain is not null && !domain.Contains(address.Domain))
            {
                errors.Add(field, $"'{entry}' is not in {domain}.");
            }
            else
            {
                result.Add(address.ToString().ToLowerInvariant());
            }
        }
        return [.. result];
    }
}
