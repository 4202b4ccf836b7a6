using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using RelayFunctions.Storage;
using RelayShared;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// The current relay map generation, as a relay would read it: each file matches its manifest, and each line is one
/// Postfix table entry whose key is a canonical name (or recipient) and whose value is one the relay understands.
/// A line that starts with '#', holds whitespace in its key or a control character anywhere would change what Postfix reads.
/// </summary>
internal static class RelayMapAudit
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task RunAsync(StorageClients storage, List<string> invalid)
    {
        var container = storage.Container(RelayMapBlobs.Container);
        MapPointer? pointer;
        try
        {
            pointer = (await container.GetBlobClient(RelayMapBlobs.Pointer).DownloadContentAsync()).Value.Content.ToObjectFromJson<MapPointer>(Json);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return;
        }
        // The current generation (a delta, or a snapshot) and the latest snapshot, which a fresh relay applies first.
        foreach (var path in new[] { pointer!.Manifest, pointer.SnapshotManifest }.OfType<string>().Distinct())
        {
            await ManifestAsync(container, path, invalid);
        }
    }

    private static async Task ManifestAsync(Azure.Storage.Blobs.BlobContainerClient container, string path, List<string> invalid)
    {
        var manifest = (await container.GetBlobClient(path).DownloadContentAsync()).Value.Content.ToObjectFromJson<Manifest>(Json)!;
        foreach (var file in manifest.Files)
        {
            var bytes = (await container.GetBlobClient(file.Path).DownloadContentAsync()).Value.Content.ToArray();
            void Bad(string what) => invalid.Add($"relay map generation {manifest.Generation} {file.Name}: {what}");
            if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != file.Sha256 || bytes.Length != file.Size)
            {
                Bad("differs from its manifest");
            }
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                Bad("is not UTF-8");
                continue;
            }
            Lines(file.Name, text, Bad);
        }
    }

    /// <summary>
    /// Checks one file's lines: a table's as <c>key value</c>; the <c>delta</c> file's as <c>+ table key value</c> (put)
    /// and <c>- table key</c> (delete), each put's entry checked as that table's line would be.
    /// </summary>
    internal static void Lines(string file, string text, Action<string> bad)
    {
        foreach (var line in text.Split('\n').Where(l => l.Length > 0))
        {
            if (file == MapTables.OutboundAccounts)
            {
                Submission(line, bad);
                continue;
            }
            if (file != "delta")
            {
                Line(file, line, bad);
                continue;
            }
            StorageAudit.Text("line", line, bad);
            var parts = line.Split(' ', 4);
            if (parts.Length < 3 || !MapTables.DomainTables.Contains(parts[1]) || (parts[0], parts.Length) is not (("+", 4) or ("-", 3)))
            {
                bad($"delta line '{StorageAudit.Show(line)}' is neither '+ table key value' nor '- table key'");
            }
            else if (parts[0] == "+" && parts[3].Contains(' '))
            {
                bad($"delta line '{StorageAudit.Show(line)}' puts more than one key and one value");
            }
            else
            {
                Entry(parts[1], parts[2], parts[0] == "+" ? parts[3] : null, bad);
            }
        }
    }

    /// <summary>
    /// One login's line of <c>outbound_accounts</c>: the relays rewrite envelope senders into its postmaster address and
    /// deliver mirror copies to its mirrors, so both must be in the account's own verified domains (the line's list).
    /// </summary>
    private static void Submission(string line, Action<string> bad)
    {
        JsonElement login;
        try
        {
            login = JsonDocument.Parse(line).RootElement;
        }
        catch (JsonException e)
        {
            bad($"outbound_accounts line is not JSON: {e.Message}");
            return;
        }
        var domains = login.GetProperty("domains").EnumerateArray().Select(d => d.GetString()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var postmaster = login.GetProperty("postmaster").GetString()!;
        // Checked here in the test's own words, not with the builder's code: at one of the domains, or under one.
        var at = postmaster[(postmaster.LastIndexOf('@') + 1)..];
        if (!domains.Any(d => string.Equals(at, d, StringComparison.OrdinalIgnoreCase) || at.EndsWith("." + d, StringComparison.OrdinalIgnoreCase)))
        {
            bad($"login {login.GetProperty("login").GetString()} would send as {postmaster}, outside its account's verified domains");
        }
        foreach (var mirror in login.GetProperty("mirrors").EnumerateArray().Select(m => m.GetString()!))
        {
            if (!domains.Contains(mirror[(mirror.LastIndexOf('@') + 1)..]))
            {
                bad($"login {login.GetProperty("login").GetString()} would copy to {mirror}, outside its account's verified domains");
            }
        }
    }

    private static void Line(string file, string line, Action<string> bad)
    {
        StorageAudit.Text("line", line, bad);
        var parts = line.Split(' ');
        if (parts.Length != 2 || line.StartsWith('#'))
        {
            bad($"line '{StorageAudit.Show(line)}' is not one key and one value");
            return;
        }
        Entry(file, parts[0], parts[1], bad);
    }

    /// <summary>One entry of a table: its key, and its value unless it is a delta's delete (null).</summary>
    private static void Entry(string file, string key, string? value, Action<string> bad)
    {
        if (key.StartsWith('#'))
        {
            bad($"key '{StorageAudit.Show(key)}' starts with '#': Postfix reads a comment");
        }
        switch (file)
        {
            case MapTables.RelayDomains:
                StorageAudit.Name("domain", key, bad);
                break;
            case MapTables.Transport:
                StorageAudit.Name("domain", key.TrimStart('.'), bad);
                if (value is null)
                {
                    break;
                }
                if (value.StartsWith("smtp:[", StringComparison.Ordinal) && value.LastIndexOf("]:", StringComparison.Ordinal) is var close and > 6)
                {
                    var host = value[6..close];
                    StorageAudit.Host("next hop", host.StartsWith("ipv6:", StringComparison.Ordinal) ? host[5..] : host, bad);
                    if (!int.TryParse(value[(close + 2)..], out var port) || port is < 1 or > 65535)
                    {
                        bad($"next hop '{value}' has no port");
                    }
                }
                else if (value is not ("relay:" or "hold:[127.0.0.1]:9"))
                {
                    bad($"next hop '{StorageAudit.Show(value)}' is not one the relay uses");
                }
                break;
            case MapTables.RelayRecipients:
                if (key.StartsWith('@'))
                {
                    StorageAudit.Name("catch-all", key[1..], bad);
                }
                else if (!RelayFunctions.Accounts.EmailAddress.TryParse(key, out var address, out _) || address.ToString().ToLowerInvariant() != key)
                {
                    bad($"recipient '{StorageAudit.Show(key)}' is not a canonical address");
                }
                break;
            case MapTables.SizeLimits:
                StorageAudit.Name("domain", key, bad);
                if (value is not null && !long.TryParse(value, out _))
                {
                    bad($"size '{value}' is not a number");
                }
                break;
        }
    }
}
