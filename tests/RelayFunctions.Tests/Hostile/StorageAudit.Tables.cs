using System.Text.Json;
using Azure.Data.Tables;
using RelayFunctions.Accounts;
using RelayFunctions.Domains;
using RelayFunctions.Storage;

namespace RelayFunctions.Tests.Hostile;

/// <summary>The checks of each table's own columns.</summary>
internal static partial class StorageAudit
{
    private static void Account(TableEntity e, Action<string> bad)
    {
        AccountKey(e.PartitionKey, bad);
        if (!ServiceLevels.Names.Contains(e.GetString("ServiceLevel")))
        {
            bad($"ServiceLevel '{e.GetString("ServiceLevel")}' is not a service level");
        }
        Email("PrimaryEmail", e.GetString("PrimaryEmail"), required: true, bad);
        Email("AlertEmail", e.GetString("AlertEmail"), required: false, bad);
        Email("PostmasterEmail", e.GetString("PostmasterEmail"), required: false, bad);
    }

    private static void Domain(TableEntity e, Action<string> bad)
    {
        AccountKey(e.PartitionKey, bad);
        var name = Name("RowKey", e.RowKey, bad);
        if (name is not null && PublicSuffixList.Embedded.IsPublicSuffix(name))
        {
            bad("the domain is a public suffix");
        }
        if (DomainStore.TryFromEntity(e) is null)
        {
            bad("the app cannot read this domain back");
        }
        var mode = e.GetString("Mode");
        if (!DomainModes.Names.Contains(mode))
        {
            bad($"Mode '{mode}' is not a mode");
        }
        var host = e.GetString("DestinationHost");
        var port = e.GetInt32("DestinationPort");
        if ((host is null) != (port is null) || (mode == "redirect" && host is null) || (mode == "backup-mx" && host is not null))
        {
            bad($"destination {host}:{port} does not fit mode {mode}");
        }
        if (host is not null)
        {
            Host("DestinationHost", host, bad);
        }
        if (port is not (null or >= 1 and <= 65535))
        {
            bad($"DestinationPort {port} is not a port");
        }
        if (e.GetInt64("MessageSizeLimit") is not (>= DomainSettings.MinMessageSizeLimit and <= DomainSettings.MaxMessageSizeLimit))
        {
            bad($"MessageSizeLimit {e.GetInt64("MessageSizeLimit")} is out of range");
        }
        if (!TokenPattern().IsMatch(e.GetString("VerificationToken") ?? ""))
        {
            bad($"VerificationToken '{e.GetString("VerificationToken")}' is not a token");
        }
        string[]? recipients = null;
        try
        {
            recipients = EntityText.Read<string[]>(e, "RecipientChunks", "Recipients");
        }
        catch (JsonException x)
        {
            bad($"Recipients are not a JSON list: {x.Message}");
        }
        if (recipients is { } list && name is not null)
        {
            Recipients(list, name, bad);
        }
    }

    internal static void Recipients(string[] list, DomainName domain, Action<string> bad)
    {
        if (list.Length > DomainSettings.MaxRecipients)
        {
            bad($"{list.Length} recipients, more than {DomainSettings.MaxRecipients}");
        }
        if (!list.SequenceEqual(list.Distinct().Order(StringComparer.Ordinal)))
        {
            bad("recipients are not sorted and unique");
        }
        foreach (var entry in list)
        {
            Text("recipient", entry, bad);
            if (entry.StartsWith('@'))
            {
                if (Name("catch-all", entry[1..], bad) is { } catchAll && !domain.Contains(catchAll))
                {
                    bad($"recipient '{Show(entry)}' is outside {domain}");
                }
            }
            else if (!EmailAddress.TryParse(entry, out var address, out var error) || address.ToString().ToLowerInvariant() != entry)
            {
                bad($"recipient '{Show(entry)}' is not a canonical address: {error ?? "changes when parsed again"}");
            }
            else if (!domain.Contains(address.Domain) || entry.StartsWith('#'))
            {
                bad($"recipient '{Show(entry)}' is outside {domain} or starts with '#'");
            }
        }
    }

    private static void Helper(TableEntity e, Action<string> bad)
    {
        AccountKey(e.PartitionKey, bad);
        Name("RowKey", e.RowKey, bad);
        Name("Host", e.GetString("Host") ?? "", bad);
        if (e.GetInt32("Port") is not (>= 1 and <= 65535))
        {
            bad($"Port {e.GetInt32("Port")} is not a port");
        }
        Addresses("Addresses", e.GetString("Addresses"), bad);
    }

    private static void Schedule(TableEntity e, Action<string> bad)
    {
        if (!BucketPattern().IsMatch(e.PartitionKey))
        {
            bad("the bucket is not yyyyMMddHHmmss-ss");
        }
        var parts = e.RowKey.Split('|');
        if (parts.Length != 3 || !NoncePattern().IsMatch(parts[2]))
        {
            bad("the row is not account|domain|nonce");
            return;
        }
        AccountKey(parts[0], bad);
        Name("domain", parts[1], bad);
    }

    private static void History(TableEntity e, Action<string> bad)
    {
        var parts = e.PartitionKey.Split('|');
        if (parts.Length != 2)
        {
            bad("the partition is not account|domain");
            return;
        }
        AccountKey(parts[0], bad);
        Name("domain", parts[1], bad);
        Addresses("Addresses", e.GetString("Addresses"), bad);
        foreach (var column in new[] { "FromHost", "ToHost" })
        {
            if (e.GetString(column) is { } host)
            {
                Host(column, host, bad);
            }
        }
    }
}
