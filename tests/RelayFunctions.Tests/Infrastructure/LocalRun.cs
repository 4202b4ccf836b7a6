using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary><c>scripts/run-local.sh</c> in its own session, as a terminal runs it, with its output collected.</summary>
internal sealed partial class LocalRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _expectTokens;

    private LocalRun(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The token commands the script printed when the app was ready.</summary>
    public IReadOnlyList<string> TokenCommands => TokenCommand().Matches(Output).Select(m => m.Groups[1].Value).ToList();

    public static async Task<LocalRun> StartAsync(string directory, IDictionary<string, string> environment, string[] arguments, bool expectTokens = true)
    {
        var start = new ProcessStartInfo("setsid", ["bash", "scripts/run-local.sh", .. arguments])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var run = new LocalRun(Process.Start(start)!) { _expectTokens = expectTokens };
        run._process.OutputDataReceived += (_, e) => run.Add(e.Data);
        run._process.ErrorDataReceived += (_, e) => run.Add(e.Data);
        run._process.BeginOutputReadLine();
        run._process.BeginErrorReadLine();
        await Task.WhenAny(run._ready.Task, run._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(4)));
        Assert.True(run._ready.Task.IsCompleted, "scripts/run-local.sh never said the app was ready:\n" + run.Output);
        return run;
    }

    /// <summary>A run expected to stop by itself (refusing to start): its exit code and output.</summary>
    public static Task<(int Code, string Output)> RunToEndAsync(string directory, IDictionary<string, string> environment, string[] arguments, TimeSpan timeout) =>
        BashAsync(["scripts/run-local.sh", .. arguments], directory, environment, timeout);

    /// <summary>bash with <paramref name="arguments"/>, to its end: its exit code and output; failed (and killed) past <paramref name="timeout"/>.</summary>
    public static async Task<(int Code, string Output)> BashAsync(string[] arguments, string directory, IDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("bash", arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"bash {string.Join(' ', arguments)} was still running after {timeout}:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Ctrl-C: SIGINT to the whole process group; how long until the script has exited.</summary>
    public async Task<TimeSpan> InterruptAsync()
    {
        var watch = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-INT", "--", $"-{_process.Id}"])!)
        {
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return watch.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
        // Ready once the script has said so and, in Development, printed both token commands.
        if (_expectTokens ? TokenCommands.Count == 2 : line.Contains("==> ready:", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    [GeneratedRegex(@"^==>\s+\w+=\$\((dotnet user-jwts create [^)]*)\)", RegexOptions.Multiline)]
    private static partial Regex TokenCommand();
}


/// <summary>A copy of the repository, as a new user's clone.</summary>
internal static class LocalCopy
{
    /// <summary>What a clone has: the tracked files and new ones not ignored, as they are in the working tree.</summary>
    public static void Create(string target)
    {
        var start = new ProcessStartInfo("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        {
            WorkingDirectory = RepoRoot.Path,
            RedirectStandardOutput = true,
        };
        using var git = Process.Start(start)!;
        var files = git.StandardOutput.ReadToEnd().Split('\0', StringSplitOptions.RemoveEmptyEntries);
        git.WaitForExit();
        foreach (var file in files)
        {
            var source = Path.Combine(RepoRoot.Path, file);
            if (!File.Exists(source))
            {
                continue; // deleted in the working tree
            }
            var destination = Path.Combine(target, file);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(source, destination); // keeps the file mode: the scripts stay executable
        }
    }
}
