using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace RelayAgent.Submission;

/// <summary>
/// Follows a log file as <c>tail -F</c> does: from its end when it is there at the first read (what was logged before
/// the agent started is not counted again), then every line appended. A file renamed or deleted away (rotation) is read
/// to its end and the file now at the path from its start; a file that got shorter (truncated) is read again from its
/// start; a file that is missing is waited for.
/// </summary>
public sealed partial class MailLogTail(string path) : IDisposable
{
    private readonly List<byte> _partial = [];
    private readonly byte[] _buffer = new byte[64 * 1024];
    private SafeFileHandle? _file;
    private FileIdentity _identity;
    private long _offset;
    private bool _started;

    /// <summary>The complete lines appended since the previous call (a line still being written waits for its end).</summary>
    public IReadOnlyList<string> ReadLines()
    {
        var lines = new List<string>();
        if (_file is null && !Open(fromEnd: !_started))
        {
            _started = true;
            return lines;
        }
        _started = true;
        if (RandomAccess.GetLength(_file!) < _offset)
        {
            // Truncated (copytruncate): whatever it holds now was written after.
            _offset = 0;
            _partial.Clear();
        }
        Read(lines);
        if (Identify(path) != _identity)
        {
            // Rotated: the old file was read to its end above; the new one is read from its start.
            Close();
            if (Open(fromEnd: false))
            {
                Read(lines);
            }
        }
        return lines;
    }

    public void Dispose() => Close();

    private bool Open(bool fromEnd)
    {
        try
        {
            _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        _identity = Identify(_file);
        _offset = fromEnd ? RandomAccess.GetLength(_file) : 0;
        _partial.Clear();
        return true;
    }

    private void Close()
    {
        _file?.Dispose();
        _file = null;
    }

    private void Read(List<string> lines)
    {
        int read;
        while ((read = RandomAccess.Read(_file!, _buffer, _offset)) > 0)
        {
            _offset += read;
            foreach (var b in _buffer.AsSpan(0, read))
            {
                if (b != (byte)'\n')
                {
                    _partial.Add(b);
                    continue;
                }
                lines.Add(Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(_partial)).TrimEnd('\r'));
                _partial.Clear();
            }
        }
    }

    private readonly record struct FileIdentity(ulong Device, ulong Inode);

    private static FileIdentity Identify(string path) => Native.Stat(path);

    private static FileIdentity Identify(SafeFileHandle file) => Native.Stat(file);

    /// <summary>stat(2)'s device and inode: the first two 8-byte fields of struct stat on Linux x86-64 and arm64.</summary>
    private static unsafe partial class Native
    {
        public static FileIdentity Stat(string path)
        {
            var buffer = stackalloc byte[256];
            return stat(path, buffer) == 0 ? Read(buffer) : default;
        }

        public static FileIdentity Stat(SafeFileHandle file)
        {
            var buffer = stackalloc byte[256];
            return fstat((int)file.DangerousGetHandle(), buffer) == 0 ? Read(buffer) : default;
        }

        private static FileIdentity Read(byte* buffer) => new(*(ulong*)buffer, *(ulong*)(buffer + 8));

        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        private static partial int stat(string path, byte* buffer);

        [LibraryImport("libc")]
        private static partial int fstat(int fd, byte* buffer);
    }
}
