using System.Diagnostics;
using System.Text.Json;
using MimeKit;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Alerts;

/// <summary>
/// scripts/smtp-sink.mjs as a child process: a real SMTP server (nodemailer's smtp-server) on a free loopback
/// port that writes what it receives into a folder of its own.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly Process _process;

    private SmtpSink(Process process, string folder, int port)
    {
        _process = process;
        Folder = folder;
        Port = port;
    }

    public string Folder { get; }
    public int Port { get; }

    /// <summary>The app's settings that send its alerts here.</summary>
    public KeyValuePair<string, string?>[] AlertSettings() =>
    [
        new("Alerts:Transport", "smtp"),
        new("Alerts:From", "alerts@relay.example"),
        new("Alerts:Tag", "relay"),
        new("Alerts:Smtp:Host", "127.0.0.1"),
        new("Alerts:Smtp:Port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Alerts:Smtp:Security", "none"),
    ];

    public static Task<SmtpSink> StartAsync(params string[] options) => StartAsync(0, options);

    /// <summary>A sink on a given port (0 for a free one), e.g. a mail server that comes back where it was.</summary>
    public static async Task<SmtpSink> StartAsync(int port, params string[] options)
    {
        if (!Directory.Exists(Path.Combine(RepoRoot.Path, "node_modules", "smtp-server")))
        {
            throw new InvalidOperationException("smtp-server is not installed: run scripts/test.sh (or npm ci) first.");
        }
        var folder = Directory.CreateTempSubdirectory("smtp-sink-").FullName;
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = RepoRoot.Path,
            ArgumentList = { Path.Combine("scripts", "smtp-sink.mjs"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), folder },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var option in options)
        {
            start.ArgumentList.Add(option);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var sink = new SmtpSink(process, folder, await ReadPortAsync(process));
        // Drained so the child never blocks on a full pipe; the sink reports nothing there while it runs.
        process.BeginErrorReadLine();
        return sink;
    }

    /// <summary>The messages received so far, in order: the raw message and its envelope sidecar.</summary>
    public IReadOnlyList<(MimeMessage Message, JsonElement Envelope)> Received() =>
        Directory.GetFiles(Folder, "*.json").Order(StringComparer.Ordinal)
            .Select(json => (
                MimeMessage.Load(Path.ChangeExtension(json, ".eml")),
                JsonDocument.Parse(File.ReadAllText(json)).RootElement))
            .ToList();

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
        _process.Dispose();
        Directory.Delete(Folder, recursive: true);
    }

    private static async Task<int> ReadPortAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("listening ", StringComparison.Ordinal))
            {
                return int.Parse(line["listening ".Length..]);
            }
        }
        var errors = await process.StandardError.ReadToEndAsync(timeout.Token);
        throw new InvalidOperationException($"smtp-sink exited before listening: {errors}");
    }
}
