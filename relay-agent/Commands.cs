using System.Diagnostics;

namespace RelayAgent;

/// <summary>Runs Postfix's command-line tools; a non-zero exit is an exception carrying what the tool said.</summary>
public sealed class Commands(AgentOptions options)
{
    public Task PostmapAsync(string table, CancellationToken ct) => RunAsync(options.Postmap, [.. Config(), $"cdb:{table}"], ct);

    public Task ReloadAsync(CancellationToken ct) => RunAsync(options.Postfix, [.. Config(), "reload"], ct);

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
