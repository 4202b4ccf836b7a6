using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.Versioning;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// The relay agent as a process of its own (<c>dotnet relay-agent.dll</c>, built beside the tests because the test
/// project references it), configured through its environment as systemd's EnvironmentFile does.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private AgentProcess(Process process, Func<int> agentId)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Id = agentId();
    }

    /// <summary>The agent's process id (not the fake systemd's, when it runs under one).</summary>
    public int Id { get; }

    /// <summary>Everything it wrote to stdout and stderr so far.</summary>
    public IReadOnlyList<string> Output => [.. _output];

    /// <summary>Storage and map settings for the agent on the test Azurite under <paramref name="prefix"/>, plus <paramref name="extra"/>.</summary>
    public static Dictionary<string, string> Settings(string prefix, string relayId, string mapDirectory, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>
        {
            ["Agent__ConnectionString"] = Azurite.ConnectionString,
            ["Agent__Prefix"] = prefix,
            ["Agent__RelayId"] = relayId,
            ["Agent__MapDirectory"] = mapDirectory,
            ["Agent__PollInterval"] = "00:00:00.500",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }
        return settings;
    }

    public static AgentProcess Start(IReadOnlyDictionary<string, string> environment)
    {
        var process = Process.Start(StartInfo(Dotnet, [AgentDll], environment))!;
        return new(process, () => process.Id);
    }

    /// <summary>
    /// Started by a parent whose command name is <c>systemd</c> (a shell run through a symlink of that name), which
    /// is what Microsoft.Extensions.Hosting.Systemd reads (<c>/proc/&lt;parent&gt;/comm</c>) to decide it runs as a
    /// systemd service.
    /// </summary>
    public static AgentProcess StartUnderFakeSystemd(string folder, IReadOnlyDictionary<string, string> environment)
    {
        var systemd = Path.Combine(folder, "systemd");
        File.CreateSymbolicLink(systemd, "/bin/sh");
        // Not a lone command, or the shell would exec the agent in its own place instead of staying its parent.
        var process = Process.Start(StartInfo(systemd, ["-c", "\"$0\" \"$@\"; exit $?", Dotnet, AgentDll], environment))!;
        return new(process, () => ChildOf(process.Id));
    }

    /// <summary>Sends a signal (TERM, INT, KILL) to the agent.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-s", signal, Id.ToString()])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits for the process to exit; returns its exit code, or null on timeout.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public bool HasExited => _process.HasExited;

    public Task<string> WaitForOutputAsync(string text, TimeSpan timeout) =>
        Eventually.WaitAsync(() => Task.FromResult(string.Join('\n', _output)), o => o.Contains(text, StringComparison.Ordinal) || _process.HasExited, timeout, $"the agent to log \"{text}\"");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    /// <summary>Writes an executable shell script (a stand-in for a Postfix tool) and returns its path.</summary>
    public static async Task<string> ScriptAsync(string path, string body)
    {
        await File.WriteAllTextAsync(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static string AgentDll => Path.Combine(AppContext.BaseDirectory, "relay-agent.dll");

    private static ProcessStartInfo StartInfo(string file, string[] args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        return start;
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    private static int ChildOf(int parent)
    {
        var children = $"/proc/{parent}/task/{parent}/children";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(children) && File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var child, ..])
            {
                return int.Parse(child);
            }
            Thread.Sleep(20);
        }
        throw new InvalidOperationException($"Process {parent} started no child.");
    }
}
