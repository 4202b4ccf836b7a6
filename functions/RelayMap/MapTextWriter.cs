using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs.Specialized;
using RelayShared;

namespace RelayFunctions.RelayMap;

/// <summary>
/// Writes one table of a snapshot straight into its blob, a line at a time, hashing and counting the bytes as they go:
/// a snapshot of any size is written with a few buffers of memory. <see cref="CompleteAsync"/> commits the blob and
/// says what the manifest says of it.
/// </summary>
public sealed class MapTextWriter : IAsyncDisposable
{
    private const int BufferChars = 256 * 1024;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly StringBuilder _buffer = new(BufferChars + 1024);
    private readonly Stream _blob;
    private readonly string _name;
    private readonly string _path;
    private long _size;
    private bool _completed;

    private MapTextWriter(string name, string path, Stream blob) => (_name, _path, _blob) = (name, path, blob);

    public static async Task<MapTextWriter> OpenAsync(BlockBlobClient blob, string name, CancellationToken cancellationToken) =>
        new(name, blob.Name, await blob.OpenWriteAsync(overwrite: true, cancellationToken: cancellationToken));

    /// <summary>A writer into memory (<see cref="RelayMapBuilder.BuildAsync"/>: the whole map as it is now, for tests and tools).</summary>
    public static MapTextWriter InMemory(string name) => new(name, name, new MemoryStream());

    /// <summary>What an in-memory writer holds.</summary>
    public byte[] Content => ((MemoryStream)_blob).ToArray();

    public ValueTask WriteLineAsync(string key, string value) => WriteLineAsync(key + " " + value);

    public async ValueTask WriteLineAsync(string line)
    {
        _buffer.Append(line).Append('\n');
        if (_buffer.Length >= BufferChars)
        {
            await FlushAsync();
        }
    }

    public async Task<ManifestFile> CompleteAsync(CancellationToken cancellationToken)
    {
        await FlushAsync();
        if (_blob is not MemoryStream)
        {
            await _blob.DisposeAsync();
        }
        _completed = true;
        return new ManifestFile(_name, _path, Convert.ToHexStringLower(_hash.GetHashAndReset()), _size);
    }

    private async Task FlushAsync()
    {
        if (_buffer.Length == 0)
        {
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(_buffer.ToString());
        _buffer.Clear();
        _hash.AppendData(bytes);
        _size += bytes.Length;
        await _blob.WriteAsync(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_completed)
        {
            // Abandoned (an error elsewhere): the blob is never referenced by a manifest; whatever was written is pruned with its folder.
            await _blob.DisposeAsync();
        }
        _hash.Dispose();
    }
}
