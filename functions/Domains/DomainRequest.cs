using System.Net;
using RelayFunctions.Accounts;
using RelayFunctions.Api;
using RelayFunctions.Destinations;

namespace RelayFunctions.Domains;

/// <summary>
/// Turns a create body or a merge-patch body into valid <see cref="DomainSettings"/>, or per-field errors.
/// Fields: <c>mode</c>, <c>destinationHost</c>, <c>destinationPort</c>, <c>recipients</c>, <c>messageSizeLimit</c>.
/// </summary>
public sealed class DomainRequest(DestinationPolicy destinations)
{
    public (DomainName? Name, DomainSettings? Settings) ReadCreate(JsonBody body)
    {
        var (_, nameText) = body.String("name");
        DomainName? name = null;
        if (nameText is null)
        {
            body.Errors.Add("name", "A domain name is required.");
        }
        else if (!DomainName.TryParse(nameText, out name, out var error))
        {
            body.Errors.Add("name", error!);
        }
        else if (PublicSuffixList.Embedded.IsPublicSuffix(name))
        {
            body.Errors.Add("name", $"{name.Unicode} is a public suffix, under which anyone registers their own domains: register yours, such as example.{name.Unicode}.");
            name = null;
        }
        if (!body.Has("mode"))
        {
            body.Errors.Add("mode", $"Required: one of {string.Join(", ", DomainModes.Names)}.");
        }
        var settings = Merge(body, name, current: null);
        return (name, settings);
    }

    public DomainSettings? ReadPatch(JsonBody body, MailDomain current)
    {
        var (namePresent, nameText) = body.String("name");
        if (namePresent && (!DomainName.TryParse(nameText, out var renamed, out _) || renamed != current.Name))
        {
            body.Errors.Add("name", "A domain cannot be renamed; create the new name and delete the old one.");
        }
        return Merge(body, current.Name, current.Settings);
    }

    private DomainSettings? Merge(JsonBody body, DomainName? name, DomainSettings? current)
    {
        var errors = body.Errors;
        var (modePresent, modeText) = body.String("mode");
        var mode = current?.Mode ?? DomainMode.Hold;
        if (modePresent && !DomainModes.TryParse(modeText, out mode))
        {
            errors.Add("mode", $"Must be one of {string.Join(", ", DomainModes.Names)}.");
            mode = current?.Mode ?? DomainMode.Hold;
        }

        var (hostPresent, hostText) = body.String("destinationHost");
        var (portPresent, portValue) = body.Integer("destinationPort");
        var host = hostPresent ? ParseHost(hostText, errors) : current?.Destination?.Host;
        var port = portPresent ? ParsePort(portValue, errors) : current?.Destination?.Port;

        Destination? destination = null;
        if (mode == DomainMode.BackupMx)
        {
            if ((hostPresent && hostText is not null) || (portPresent && portValue is not null))
            {
                errors.Add(hostPresent ? "destinationHost" : "destinationPort", "Not used in backup-mx mode: mail goes to the domain's own MX hosts.");
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

        var (recipientsPresent, recipientsValue) = body.StringList("recipients", DomainSettings.MaxRecipients);
        var recipients = recipientsPresent
            ? ParseRecipients(recipientsValue ?? [], name, errors)
            : current?.Recipients ?? [];

        var (sizePresent, sizeValue) = body.Integer("messageSizeLimit");
        var size = current?.MessageSizeLimit ?? DomainSettings.DefaultMessageSizeLimit;
        if (sizePresent)
        {
            size = sizeValue ?? DomainSettings.DefaultMessageSizeLimit;
            if (size is < DomainSettings.MinMessageSizeLimit or > DomainSettings.MaxMessageSizeLimit)
            {
                errors.Add("messageSizeLimit", $"Must be between {DomainSettings.MinMessageSizeLimit} and {DomainSettings.MaxMessageSizeLimit} bytes.");
            }
        }

        body.RejectUnknownFields();
        return errors.Any ? null : new DomainSettings(mode, destination, recipients, size);
    }

    private string? ParseHost(string? text, FieldErrors errors)
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

    private static int? ParsePort(long? value, FieldErrors errors)
    {
        if (value is null)
        {
            return null;
        }
        if (value is < 1 or > 65535)
        {
            errors.Add("destinationPort", "Must be a port from 1 to 65535.");
            return null;
        }
        return (int)value.Value;
    }

    /// <summary>
    /// Valid recipients: <c>user@domain</c> or the catch-all <c>@domain</c>, where domain is this domain or
    /// one below it. Stored lowercase, sorted, without duplicates.
    /// </summary>
    private static IReadOnlyList<string> ParseRecipients(IReadOnlyList<string> entries, DomainName? domain, FieldErrors errors)
    {
        // The count is bounded as the list is read (JsonBody.StringList); the size the list takes in storage is checked where it is stored (DomainStore).
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
