using System.Diagnostics;

namespace RelayAgent;

/// <summary>Runs Postfix's command-line tools; a non-zero exit is an exception carrying what the tool said.</summary>
public sealed class Commands(AgentOptions options)
{
    public Task PostmapAsync(string table, CancellationToken ct) => RunAsync(options.Postmap, [.. Config(), $"cdb:{table}"], ct);

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

    /// <summary>The qmgr processes of this Postfix instance (MAIL_CONFIG in their environment, or none for the default one).</summary>
    private HashSet<int> QueueManagers()
    {
        var config = string.IsNullOrEmpty(options.PostfixConfigDirectory) ? null : Path.GetFullPath(options.PostfixConfigDirectory).TrimEnd('/');
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
                if (config is null ? instance is null or "/etc/postfix" : instance == config)
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

    private string[] Config() => string.IsNullOrEmpty(options.PostfixConfigDirectory) ? [] : ["-c", options.PostfixConfigDirectory];

    private static async Task RunAsync(string file, string[] args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
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
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {(await stderr).Trim()} {(await stdout).Trim()}");
        }
    }
}
