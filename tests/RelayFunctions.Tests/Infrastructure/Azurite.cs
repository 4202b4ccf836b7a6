using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>
/// The Azurite the tests use: the one scripts/test.sh started (RELAY_TEST_STORAGE), or, when a test is run
/// on its own with plain `dotnet test`, one started here from node_modules on free loopback ports.
/// </summary>
public static class Azurite
{
    private static readonly Lazy<string> Connection = new(Start);
    private static Process? Started;

    public static string ConnectionString => Connection.Value;

    /// <summary>A fresh storage prefix, so each test class has tables, queues and containers of its own.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The app's storage clients on this Azurite, under a fresh prefix.</summary>
    public static RelayFunctions.Storage.StorageClients NewStorageClients() =>
        new(Microsoft.Extensions.Options.Options.Create(new RelayFunctions.Storage.StorageOptions { ConnectionString = ConnectionString, Prefix = NewPrefix() }));

    private static string Start()
    {
        var fromScript = Environment.GetEnvironmentVariable("RELAY_TEST_STORAGE");
        if (!string.IsNullOrEmpty(fromScript))
        {
            return fromScript;
        }
        var root = RepoRoot.Path;
        var azurite = Path.Combine(root, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
        {
            throw new InvalidOperationException("Azurite is not installed: run scripts/test.sh (or npm ci) first.");
        }
        int blob = FreePort(), queue = FreePort(), table = FreePort();
        var start = new ProcessStartInfo(azurite)
        {
            ArgumentList =
            {
                "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--inMemoryPersistence",
                "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
                "--blobPort", blob.ToString(), "--queuePort", queue.ToString(), "--tablePort", table.ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Started = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Started.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } };
        foreach (var port in new[] { blob, queue, table })
        {
            WaitForPort(port, TimeSpan.FromSeconds(60));
        }
        return $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
            + $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static void WaitForPort(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }
}

public static class RepoRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "RelayFunctions.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("RelayFunctions.sln not found above the test binaries.");
    }
}
