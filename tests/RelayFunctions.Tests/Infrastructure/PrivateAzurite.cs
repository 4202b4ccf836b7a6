using System.Diagnostics;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>
/// An Azurite of one test's own, on free loopback ports and a data folder of its own, that the test may freeze
/// (SIGSTOP), thaw (SIGCONT), kill and start again on the same ports without touching the shared one.
/// </summary>
public sealed class PrivateAzurite : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("azurite-").FullName;
    private readonly int _blob = Azurite.FreePort(), _queue = Azurite.FreePort(), _table = Azurite.FreePort();
    private Process? _process;

    public PrivateAzurite() => Start();

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        + $"BlobEndpoint=http://127.0.0.1:{_blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{_queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{_table}/devstoreaccount1;";

    /// <summary>Starts it (again) on its ports, over the data it kept.</summary>
    public void Start()
    {
        var azurite = Path.Combine(RepoRoot.Path, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
        {
            throw new InvalidOperationException("Azurite is not installed: run npm ci first.");
        }
        var start = new ProcessStartInfo(azurite)
        {
            ArgumentList =
            {
                "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--location", _folder,
                "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
                "--blobPort", _blob.ToString(), "--queuePort", _queue.ToString(), "--tablePort", _table.ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        foreach (var port in new[] { _blob, _queue, _table })
        {
            Azurite.WaitForPort(port, TimeSpan.FromSeconds(60));
        }
    }

    /// <summary>Storage that hangs: connections are still accepted by the kernel, but nothing answers.</summary>
    public void Freeze() => Signal("STOP");

    public void Thaw() => Signal("CONT");

    /// <summary>Storage that goes away: connections are refused until <see cref="Start"/>.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            Signal("CONT");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        _process?.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Kill();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Signal(string signal)
    {
        if (_process is null)
        {
            return;
        }
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, _process.Id.ToString() } })!;
        kill.WaitForExit();
    }
}
