using System.Runtime.InteropServices;
using RelayShared;

namespace RelayAgent;

/// <summary>
/// The files of a relay map generation as they land in the map folder: which are built into lmdb tables, which are
/// copied as they are, who may read them, and the order they are renamed into place.
/// </summary>
/// <remarks>
/// Order: routes before domains (a domain is only accepted once its route exists), and an account's sender tables
/// and its submission settings (outbound_accounts: what the filter and policy service read) before its passwd line (a new login never meets a 553 for want of its sender_logins entry, nor a mail-server
/// login for want of its sasl_access OK). Files of later kinds that an older generation lacks are written empty.
/// </remarks>
public static partial class MapFiles
{
    private const string DovecotGroup = "dovecot";

    private static readonly (string Name, MapFileKind Kind)[] Known =
    [
        (MapTables.Transport, MapFileKind.Table),
        (MapTables.SizeLimits, MapFileKind.Table),
        (MapTables.RelayRecipients, MapFileKind.Table),
        (MapTables.RelayDomains, MapFileKind.Table),
        (MapTables.SenderLoginsPcre, MapFileKind.Plain),
        (MapTables.SenderLogins, MapFileKind.Table),
        (MapTables.SaslAccess, MapFileKind.Table),
        (MapTables.OutboundAccounts, MapFileKind.Plain),
        (MapTables.Passwd, MapFileKind.Secret),
    ];

    /// <summary>Every file to write for <paramref name="files"/>, in rename order: unknown names first (as lmdb tables), then the known ones, empty when absent.</summary>
    public static IEnumerable<(string Name, MapFileKind Kind, byte[] Content)> InOrder(IReadOnlyDictionary<string, byte[]> files)
    {
        foreach (var (name, content) in files.Where(f => !Known.Any(k => k.Name == f.Key)).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            yield return (name, MapFileKind.Table, content);
        }
        foreach (var (name, kind) in Known)
        {
            yield return (name, kind, files.TryGetValue(name, out var content) ? content : []);
        }
    }

    /// <summary>
    /// Writes a file into the staging folder. A secret (the passwd-file's hashes) is created 0640 and given to group
    /// dovecot when that group exists, so it is never readable by anyone but root and Dovecot, not even in staging.
    /// </summary>
    public static async Task WriteAsync(string path, MapFileKind kind, byte[] content, CancellationToken ct)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (kind == MapFileKind.Secret)
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        }
        await using (var file = new FileStream(path, options))
        {
            await file.WriteAsync(content, ct);
        }
        if (kind == MapFileKind.Secret)
        {
            // UnixCreateMode is subject to the umask; the group's read bit must survive it.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            GiveToGroup(path, DovecotGroup);
        }
    }

    /// <summary>
    /// Renames a staged file (and its lmdb table) over the live one. Postfix's lmdb tables are one file each
    /// (MDB_NOSUBDIR, no lock file beside it: Postfix locks the table file itself), so one rename replaces a table.
    /// </summary>
    public static void Install(string staging, string directory, string name, MapFileKind kind)
    {
        var target = Path.Combine(directory, name);
        var staged = Path.Combine(staging, name);
        if (kind is MapFileKind.Table or MapFileKind.Cdb)
        {
            var suffix = kind == MapFileKind.Table ? ".lmdb" : ".cdb";
            File.Move(staged + suffix, target + suffix, overwrite: true);
        }
        if (kind == MapFileKind.Secret)
        {
            NewerThan(staged, target);
        }
        File.Move(staged, target, overwrite: true);
    }

    /// <summary>
    /// Dovecot notices a changed passwd-file by its mtime in whole seconds or its size (db-passwd-file.c). A password
    /// changed within the second of the previous write keeps the size, so the new file is dated at least a second later.
    /// </summary>
    private static void NewerThan(string staged, string target)
    {
        if (!File.Exists(target))
        {
            return;
        }
        var previous = File.GetLastWriteTimeUtc(target);
        var due = previous.AddTicks(-(previous.Ticks % TimeSpan.TicksPerSecond)).AddSeconds(1);
        if (File.GetLastWriteTimeUtc(staged) < due)
        {
            File.SetLastWriteTimeUtc(staged, due);
        }
    }

    private static void GiveToGroup(string path, string group)
    {
        var entry = Native.getgrnam(group);
        if (entry == IntPtr.Zero)
        {
            return; // No Dovecot on this machine (a test or a development box): the file stays the agent's own, 0640.
        }
        // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
        var gid = (uint)Marshal.ReadInt32(entry, 2 * IntPtr.Size);
        if (Native.chown(path, uint.MaxValue, gid) != 0)
        {
            throw new IOException($"chown :{group} {path} failed (errno {Marshal.GetLastPInvokeError()}); the agent runs as root.");
        }
    }

    private static partial class Native
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial IntPtr getgrnam(string name);

        [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int chown(string path, uint owner, uint group);
    }
}

public enum MapFileKind
{
    /// <summary>A Postfix source table, built with <c>postmap lmdb:</c> (a delta changes it in place).</summary>
    Table,

    /// <summary>A Postfix source table built with <c>postmap cdb:</c>: the agent's own <c>blocked</c> table, always rewritten whole.</summary>
    Cdb,

    /// <summary>Copied as it is (a pcre table: Postfix reads the text).</summary>
    Plain,

    /// <summary>Copied as it is, readable only by root and group dovecot (the passwd-file).</summary>
    Secret,
}
