using System.Runtime.InteropServices;

namespace RelayAgent;

/// <summary>
/// Reads a Postfix lmdb table (<c>name.lmdb</c>) in key order through liblmdb (installed with postfix-lmdb). Used for
/// a whole-table scan: <c>postmap -s</c> takes and drops a file lock around every entry (two fcntl calls each), which
/// measured 13 s for the 2 million entries of a 1M-domain transport table; a cursor reads them in well under a second.
/// </summary>
/// <remarks>
/// Opened read-only without lmdb's lock table (Postfix's tables have none: Postfix locks the file itself): safe while
/// no one writes the table, which holds for the agent's scans (the agent is the only writer, and it does not write
/// the table it scans meanwhile). Postfix stores keys and values with a terminating NUL, which is dropped here.
/// </remarks>
public static partial class LmdbTable
{
    private const uint NoSubdir = 0x4000;
    private const uint ReadOnly = 0x20000;
    private const uint NoThreadLocal = 0x200000;
    private const uint NoLock = 0x400000;
    private const int First = 0;
    private const int Next = 8;
    private const int NotFound = -30798;

    /// <summary>Every entry of the table whose source file is <paramref name="table"/>, in lmdb's key order (bytewise).</summary>
    public static IEnumerable<(string Key, string Value)> Entries(string table)
    {
        Check(Native.mdb_env_create(out var env), "mdb_env_create");
        try
        {
            Check(Native.mdb_env_open(env, table + ".lmdb", NoSubdir | ReadOnly | NoThreadLocal | NoLock, 0), $"mdb_env_open {table}.lmdb");
            Check(Native.mdb_txn_begin(env, IntPtr.Zero, ReadOnly, out var txn), "mdb_txn_begin");
            try
            {
                Check(Native.mdb_dbi_open(txn, null, 0, out var dbi), "mdb_dbi_open");
                Check(Native.mdb_cursor_open(txn, dbi, out var cursor), "mdb_cursor_open");
                try
                {
                    var key = default(Value);
                    var data = default(Value);
                    for (var op = First; ; op = Next)
                    {
                        var status = Native.mdb_cursor_get(cursor, ref key, ref data, op);
                        if (status == NotFound)
                        {
                            yield break;
                        }
                        Check(status, "mdb_cursor_get");
                        yield return (key.Text(), data.Text());
                    }
                }
                finally
                {
                    Native.mdb_cursor_close(cursor);
                }
            }
            finally
            {
                Native.mdb_txn_abort(txn);
            }
        }
        finally
        {
            Native.mdb_env_close(env);
        }
    }

    private static void Check(int status, string what)
    {
        if (status != 0)
        {
            throw new IOException($"{what}: {Marshal.PtrToStringUTF8(Native.mdb_strerror(status))}");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Value
    {
        public nuint Size;
        public IntPtr Data;

        public readonly string Text()
        {
            var length = (int)Size;
            if (length > 0 && Marshal.ReadByte(Data, length - 1) == 0)
            {
                length--;
            }
            return Marshal.PtrToStringUTF8(Data, length);
        }
    }

    private static partial class Native
    {
        private const string Library = "liblmdb.so.0";

        [LibraryImport(Library)]
        internal static partial int mdb_env_create(out IntPtr env);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int mdb_env_open(IntPtr env, string path, uint flags, int mode);

        [LibraryImport(Library)]
        internal static partial void mdb_env_close(IntPtr env);

        [LibraryImport(Library)]
        internal static partial int mdb_txn_begin(IntPtr env, IntPtr parent, uint flags, out IntPtr txn);

        [LibraryImport(Library)]
        internal static partial void mdb_txn_abort(IntPtr txn);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int mdb_dbi_open(IntPtr txn, string? name, uint flags, out uint dbi);

        [LibraryImport(Library)]
        internal static partial int mdb_cursor_open(IntPtr txn, uint dbi, out IntPtr cursor);

        [LibraryImport(Library)]
        internal static partial int mdb_cursor_get(IntPtr cursor, ref Value key, ref Value data, int op);

        [LibraryImport(Library)]
        internal static partial void mdb_cursor_close(IntPtr cursor);

        [LibraryImport(Library)]
        internal static partial IntPtr mdb_strerror(int status);
    }
}
