using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using RelayFunctions.Tests.Infrastructure;
using RelayShared;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// A relay map published by hand in the test Azurite, in the layout the control plane writes (generation folder,
/// manifest with sizes and SHA-256, <c>current.json</c>), so the relay agent downloads, verifies and applies it as
/// it would the control plane's. The files are the contract of issue 9: passwd, sender_logins,
/// sender_logins_sub.pcre and sasl_access beside the routing tables.
/// </summary>
internal sealed class HandWrittenMap(string prefix)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly BlobContainerClient _container = new(Azurite.ConnectionString, $"{prefix}-relay-map");
    private long _generation;

    public async Task<long> PublishAsync(IReadOnlyDictionary<string, string> files)
    {
        await _container.CreateIfNotExistsAsync();
        var generation = ++_generation;
        var folder = $"generations/{generation:D12}";
        var listed = new List<ManifestFile>();
        foreach (var (name, text) in files)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            await _container.GetBlobClient($"{folder}/{name}").UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
            listed.Add(new ManifestFile(name, $"{folder}/{name}", Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.LongLength));
        }
        var now = DateTimeOffset.UtcNow;
        await _container.GetBlobClient($"{folder}/manifest.json").UploadAsync(BinaryData.FromObjectAsJson(new Manifest(generation, now, 1, listed), Json), overwrite: true);
        await _container.GetBlobClient("current.json").UploadAsync(
            BinaryData.FromObjectAsJson(new MapPointer(generation, $"{folder}/manifest.json", now, 1, "hand-written"), Json), overwrite: true);
        return generation;
    }

    /// <summary>A passwd-file line as the control plane writes it: BCrypt.Net-Next's plain HashPassword, cost 10 ($2a$10$).</summary>
    public static string PasswdLine(string login, string password, string? allowNets = null) =>
        $"{login}:{{BLF-CRYPT}}{BCrypt.Net.BCrypt.HashPassword(password, 10)}::::::{(allowNets is null ? "" : $"allow_nets={allowNets}")}";
}
