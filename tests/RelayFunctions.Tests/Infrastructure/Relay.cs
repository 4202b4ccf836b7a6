using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>
/// The relay under test: a private Postfix instance on loopback, configured from relay-agent/deploy/postfix, and its
/// Dovecot (SMTP AUTH) from relay-agent/deploy/dovecot. The pair scripts/test.sh started (RELAY_TEST_POSTFIX_DIR and
/// the RELAY_TEST_POSTFIX_*PORT* variables), or a pair started here through scripts/lib.sh on free ports.
/// </summary>
public static class Relay
{
    /// <summary>master.cf.relay's listeners in the order scripts/lib.sh gives them ports (the first one's port + 0…7).</summary>
    private static readonly string[] Listeners = ["smtp", "2525", "11923", "61235", "80", "submission", "smtps", "127.0.0.1:10025"];

    private static readonly Lazy<(string Dir, IReadOnlyDictionary<string, int> Ports, TestPolicy Policy)> Instance = new(() =>
    {
        var (dir, ports) = Start();
        InstallAgent(dir);
        // Where main.cf's relay_submission_policy asks (scripts/lib.sh: the first port + 8, in the instance's ports file).
        var policyPort = int.Parse(File.ReadLines(Path.Combine(dir, "ports")).Single(l => l.StartsWith("policy ", StringComparison.Ordinal))[7..]);
        return (dir, ports, new TestPolicy(dir, policyPort));
    });

    /// <summary>
    /// The relay's policy service: the agent's own classes, hosted here from the first use of the relay to the end of the
    /// run, so every submission is asked of it as on a relay; a test changes its settings with <see cref="TestPolicy.UseAsync"/>.
    /// </summary>
    public static TestPolicy Policy => Instance.Value.Policy;

    public static string ConfigDirectory => Instance.Value.Dir;

    /// <summary>Port 25's stand-in: inbound mail for the relayed domains, and submission after STARTTLS.</summary>
    public static int Port => Instance.Value.Ports["smtp"];

    /// <summary>Port 587's stand-in: STARTTLS required, AUTH after it.</summary>
    public static int SubmissionPort => Instance.Value.Ports["submission"];

    /// <summary>Port 465's stand-in: implicit TLS.</summary>
    public static int SmtpsPort => Instance.Value.Ports["smtps"];

    /// <summary>Each listener of master.cf.relay (smtp, 2525, 11923, 61235, 80, submission, smtps) and its loopback port.</summary>
    public static IReadOnlyDictionary<string, int> Ports => Instance.Value.Ports;

    public static string MapDirectory => Path.Combine(ConfigDirectory, "maps");

    /// <summary>The instance's mail log (scripts/lib.sh: <c>maillog_file = /dev/stdout</c>, redirected to .artifacts/postfix-NAME.log).</summary>
    public static string MailLog => Path.Combine(RepoRoot.Path, ".artifacts", $"postfix-{Path.GetFileName(ConfigDirectory)}.log");

    /// <summary>The instance's self-signed certificate (PEM), the one its listeners present.</summary>
    public static string CertificateFile => Path.Combine(ConfigDirectory, "tls", "cert.pem");

    public static async Task<string> QueueAsync()
    {
        var start = new ProcessStartInfo("postqueue", ["-c", ConfigDirectory, "-p"]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    /// <summary>
    /// The instance's qmgr and trivial-rewrite processes, which route queued mail by what they read when they started:
    /// trivial-rewrite keeps the transport table it opened (its client, qmgr, stays connected, so it never notices a
    /// new one), and qmgr keeps the last address it resolved and where it went. Only "postfix reload" replaces them,
    /// a moment after the command has returned.
    /// </summary>
    public static IReadOnlySet<int> RoutingProcesses()
    {
        // The master locks its pid file, and .NET refuses to open a file another process has locked: cat does not mind.
        using var cat = Process.Start(new ProcessStartInfo("cat", [Path.Combine(ConfigDirectory, "queue", "pid", "master.pid")]) { RedirectStandardOutput = true })!;
        var master = cat.StandardOutput.ReadToEnd().Trim();
        cat.WaitForExit();
        var found = new HashSet<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                // It exited meanwhile.
                continue;
            }
            // "pid (name) state ppid …"
            var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
            var ppid = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
            if (ppid == master && name is "qmgr" or "trivial-rewrite")
            {
                found.Add(pid);
            }
        }
        return found;
    }

    private static (string, IReadOnlyDictionary<string, int>) Start()
    {
        var dir = Environment.GetEnvironmentVariable("RELAY_TEST_POSTFIX_DIR");
        if (!string.IsNullOrEmpty(dir))
        {
            return (dir, FromEnvironment());
        }
        var port = FreeBlock(Listeners.Length + 1);
        var name = $"tests-{port}";
        var lib = Path.Combine(RepoRoot.Path, "scripts", "lib.sh");
        var start = new ProcessStartInfo("bash", ["-c", $"source '{lib}' && start_postfix {name} {port} && start_dovecot {name}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var configDir = Path.Combine("/tmp/relayfunctions-postfix", name);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            Process.Start("bash", ["-c", $"source '{lib}' && stop_dovecot {name}; postfix -c '{configDir}' stop"])?.WaitForExit();
        Assert.True(process.ExitCode == 0, "Postfix and Dovecot did not start (are they installed? run scripts/test.sh once): " + output);
        return (configDir, Listeners.Select((listener, i) => (listener, port + i)).ToDictionary(p => p.listener, p => p.Item2));
    }

    /// <summary>
    /// The relay agent these tests built, where the instance's pipe services run it (master.cf: agent/relay-agent, as user
    /// nobody, who cannot read a checkout in a private folder): the build output copied, and a script that starts it.
    /// </summary>
    private static void InstallAgent(string dir)
    {
        var target = Path.Combine(dir, "agent");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            if (file.EndsWith(".dll", StringComparison.Ordinal) || Path.GetFileName(file).StartsWith("relay-agent.", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
            }
        }
        var dotnet = Environment.ProcessPath is { } host && Path.GetFileName(host) == "dotnet" ? host : "dotnet";
        var script = Path.Combine(target, "relay-agent");
        File.WriteAllText(script, $"#!/bin/sh\nexec '{dotnet}' '{Path.Combine(target, "relay-agent.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        }
    }

    private static Dictionary<string, int> FromEnvironment()
    {
        static int Read(string name) => int.Parse(Environment.GetEnvironmentVariable(name)
            ?? throw new InvalidOperationException($"RELAY_TEST_POSTFIX_DIR is set but {name} is not (see scripts/test.sh)."));
        var ports = new Dictionary<string, int>
        {
            ["smtp"] = Read("RELAY_TEST_POSTFIX_PORT"),
            ["submission"] = Read("RELAY_TEST_POSTFIX_SUBMISSION_PORT"),
            ["smtps"] = Read("RELAY_TEST_POSTFIX_SMTPS_PORT"),
        };
        foreach (var pair in (Environment.GetEnvironmentVariable("RELAY_TEST_POSTFIX_OTHER_PORTS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var (listener, port) = (pair.Split('=')[0], int.Parse(pair.Split('=')[1]));
            ports[listener] = port;
        }
        return ports;
    }

    /// <summary>The first of <paramref name="count"/> consecutive loopback ports that are all free.</summary>
    private static int FreeBlock(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var first = Azurite.FreePort();
            if (first + count <= IPEndPoint.MaxPort && Enumerable.Range(first + 1, count - 1).All(IsFree))
            {
                return first;
            }
        }
        throw new InvalidOperationException($"No {count} consecutive free ports on 127.0.0.1.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
