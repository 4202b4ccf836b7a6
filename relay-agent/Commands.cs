using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RelayAgent;

/// <summary>Runs Postfix's command-line tools; a non-zero exit is an exception carrying what the tool said.</summary>
public sealed class Commands(AgentOptions options)
{
    /// <summary>Builds the table <paramref name="table"/><c>.lmdb</c> (or another type's file) from the source file <paramref name="table"/>.</summary>
    public Task PostmapAsync(string table, CancellationToken ct, string type = "lmdb") => RunAsync(options.Postmap, [.. Config(), $"{type}:{table}"], ct);

    /// <summary>Adds or replaces entries of a live lmdb table in place (<c>postmap -r -i</c>; stdin: <c>key value</c> lines).</summary>
    public Task PutAsync(string table, IEnumerable<string> lines, CancellationToken ct) =>
        RunAsync(options.Postmap, [.. Config(), "-r", "-i", $"lmdb:{table}"], ct, lines);

    /// <summary>
    /// Deletes keys of a live lmdb table in place (<c>postmap -d -</c>; stdin: one key a line). A key already absent is
    /// no error (applying a delta again must succeed): postmap exits 1 with no diagnostic then, which is accepted.
    /// </summary>
    public Task DeleteAsync(string table, IEnumerable<string> keys, CancellationToken ct) =>
        RunAsync(options.Postmap, [.. Config(), "-d", "-", $"lmdb:{table}"], ct, keys, notFoundIsFine: true);

    /// <summary>The values of <paramref name="keys"/> in a live lmdb table (<c>postmap -q -</c>); keys not there are absent.</summary>
    public async Task<Dictionary<string, string>> QueryAsync(string table, IEnumerable<string> keys, CancellationToken ct)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        var list = keys.ToList();
        if (list.Count == 0 || !File.Exists(table + ".lmdb"))
        {
            return found;
        }
        await foreach (var (key, value) in EntriesAsync([.. Config(), "-q", "-", $"lmdb:{table}"], list, ct))
        {
            found[key] = value;
        }
        return found;
    }

    public Task ReloadAsync(CancellationToken ct) => RunAsync(options.Postfix, [.. Config(), "reload"], ct);

    /// <summary>
    /// Reloads Postfix and waits (at most 5 s) until the queue manager that ran before has exited: it caches the last
    /// route it resolved, so mail released while it still runs could be sent the old way (back to hold) and wait for
    /// the next queue run. Its successor reads the new tables.
    /// </summary>
    public async Task ReloadAndWaitAsync(CancellationToken ct)
    {
        var before = QueueManagers();
        await ReloadAsync(ct);
        var waited = Stopwatch.StartNew();
        while (before.Overlaps(QueueManagers()) && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20, ct);
        }
    }

    /// <summary>The qmgr processes of this Postfix instance (MAIL_CONFIG in their environment; none for the default one).</summary>
    private HashSet<int> QueueManagers()
    {
        var config = Path.GetFullPath(Instance).TrimEnd('/');
        var found = new HashSet<int>();
        foreach (var dir in Directory.Exists("/proc") ? Directory.EnumerateDirectories("/proc") : [])
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() != "qmgr")
                {
                    continue;
                }
                var instance = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0')
                    .FirstOrDefault(e => e.StartsWith("MAIL_CONFIG=", StringComparison.Ordinal))?["MAIL_CONFIG=".Length..].TrimEnd('/');
                if ((instance ?? DefaultInstance) == config)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // It exited meanwhile, or is not ours to read.
            }
        }
        return found;
    }

    /// <summary>Delivers the deferred mail of one domain now (fast flush); never the whole queue.</summary>
    public Task FlushDomainAsync(string domain, CancellationToken ct) => RunAsync(options.Postqueue, [.. Config(), "-s", domain], ct);

    private const string DefaultInstance = "/etc/postfix";

    private string Instance => string.IsNullOrEmpty(options.PostfixConfigDirectory) ? DefaultInstance : options.PostfixConfigDirectory;

    /// <summary>Every command names the instance it serves, the default one included.</summary>
    private string[] Config() => ["-c", Instance];

    /// <summary>Runs postmap with <paramref name="input"/> on its stdin and streams its <c>key TAB value</c> lines.</summary>
    private async IAsyncEnumerable<(string Key, string Value)> EntriesAsync(string[] args, IReadOnlyList<string>? input, [EnumeratorCancellation] CancellationToken ct)
    {
        var start = new ProcessStartInfo(options.Postmap, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{options.Postmap} did not start.");
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var writing = input is null ? Task.CompletedTask : WriteLinesAsync(process, input);
        using var kill = ct.Register(() => Kill(process));
        while (await process.StandardOutput.ReadLineAsync(ct) is { } line)
        {
            var tab = line.IndexOf('\t');
            if (tab > 0)
            {
                yield return (line[..tab], line[(tab + 1)..]);
            }
        }
        await writing;
        await process.WaitForExitAsync(ct);
        // -q exits 1 when some key was not found; anything on stderr is a real failure.
        var errors = (await stderr).Trim();
        if (process.ExitCode != 0 && (input is null || errors.Length > 0))
        {
            throw new InvalidOperationException($"{options.Postmap} {string.Join(' ', args)} exited {process.ExitCode}: {errors}");
        }
    }

    private static async Task WriteLinesAsync(Process process, IEnumerable<string> lines)
    {
        await using (var stdin = process.StandardInput)
        {
            stdin.NewLine = "\n";
            foreach (var line in lines)
            {
                await stdin.WriteLineAsync(line);
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
    }

    private static async Task RunAsync(string file, string[] args, CancellationToken ct, IEnumerable<string>? input = null, bool notFoundIsFine = false)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (input is not null)
            {
                await WriteLinesAsync(process, input);
            }
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            // The agent is stopping: the tool must not outlive it. Whatever it was doing is redone at the next start.
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited meanwhile.
            }
            throw;
        }
        var errors = (await stderr).Trim();
        if (process.ExitCode != 0 && !(notFoundIsFine && process.ExitCode == 1 && !errors.Contains("fatal:", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {errors} {(await stdout).Trim()}");
        }
    }
}
