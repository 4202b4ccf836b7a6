using System.Text;

namespace RelayAgent.Submission;

/// <summary>
/// The Postfix table <c>blocked</c> in the map folder, which main.cf reads twice: <c>smtpd_sasl_exceptions_networks</c>
/// (a blocked client is not offered AUTH) and <c>check_client_access</c> (its mail is deferred with the 450 below).
/// Built like the relay map's tables: written in a staging folder, <c>postmap cdb:</c> there, and renamed into place
/// (cdb first, then the source), so Postfix never reads half a table. An smtpd notices the new table before its next
/// session; no reload is needed.
/// </summary>
public sealed class BlockedMap(AgentOptions options, Commands commands)
{
    public const string Name = "blocked";

    public const string Reply = "450 4.7.1 Temporarily blocked after repeated authentication failures";

    /// <summary>The table's source file (beside it, <c>blocked.cdb</c>, which Postfix reads).</summary>
    public string Source => Path.Combine(options.MapDirectory, Name);

    public async Task WriteAsync(IEnumerable<AuthBlock> blocks, CancellationToken ct)
    {
        var text = new StringBuilder();
        foreach (var block in blocks.OrderBy(b => b.Address, StringComparer.Ordinal))
        {
            text.Append(block.Address).Append(' ').Append(Reply).Append('\n');
        }
        var directory = options.MapDirectory;
        Directory.CreateDirectory(directory);
        // Its own staging folder: the map applier's are .staging-N, and it never writes this table.
        var staging = Path.Combine(directory, ".staging-blocked");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            await MapFiles.WriteAsync(Path.Combine(staging, Name), MapFileKind.Cdb, Encoding.ASCII.GetBytes(text.ToString()), ct);
            await commands.PostmapAsync(Path.Combine(staging, Name), ct, "cdb");
            MapFiles.Install(staging, directory, Name, MapFileKind.Cdb);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }
}
