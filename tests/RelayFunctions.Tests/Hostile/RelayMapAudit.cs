using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using RelayFunctions.RelayMap;
using RelayFunctions.Storage;

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
        var container = storage.Container(RelayMapPublisher.ContainerName);
        MapPointer? pointer;
        try
        {
            pointer = (await container.GetBlobClient(RelayMapPublisher.PointerName).DownloadContentAsync()).Value.Content.ToObjectFromJson<MapPointer>(Json);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return;
        }
        var manifest = (await container.GetBlobClient(pointer!.Manifest).DownloadContentAsync()).Value.Content.ToObjectFromJson<Manifest>(Json)!;
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
            foreach (var line in text.Split('\n').Where(l => l.Length > 0))
            {
                Line(file.Name, line, Bad);
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
        var (key, value) = (parts[0], parts[1]);
        switch (file)
        {
            case RelayMapBuilder.RelayDomains:
                StorageAudit.Name("domain", key, bad);
                break;
            case RelayMapBuilder.Transport:
                StorageAudit.Name("domain", key.TrimStart('.'), bad);
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
            case RelayMapBuilder.RelayRecipients:
                if (key.StartsWith('@'))
                {
                    StorageAudit.Name("catch-all", key[1..], bad);
                }
                else if (!RelayFunctions.Accounts.EmailAddress.TryParse(key, out var address, out _) || address.ToString().ToLowerInvariant() != key)
                {
                    bad($"recipient '{StorageAudit.Show(key)}' is not a canonical address");
                }
                break;
            case RelayMapBuilder.SizeLimits:
                StorageAudit.Name("domain", key, bad);
                if (!long.TryParse(value, out _))
                {
                    bad($"size '{value}' is not a number");
                }
                break;
        }
    }
}
