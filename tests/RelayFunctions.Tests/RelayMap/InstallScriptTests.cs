using System.Diagnostics;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// relay-agent/deploy/install.sh, the one install path of a relay VM (docs/relay-agent.md, cloud-init), run with --root into a
/// folder of its own: it writes the same files as on a VM without installing, starting or loading anything.
/// </summary>
public sealed class InstallScriptTests : IDisposable
{
    private const string Maps = "/var/lib/relay-agent/maps";
    private readonly string _root = Directory.CreateTempSubdirectory("relay-install-").FullName;
    private static readonly string Deploy = Path.Combine(RepoRoot.Path, "relay-agent", "deploy");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task OnDebiansDefaultsItReplacesTheSmtpListenerSetsEveryRelaySettingAndIsIdempotent()
    {
        // Debian's "No configuration": master.cf, no main.cf. An older install had appended the hold transport.
        var postfix = Directory.CreateDirectory(Path.Combine(_root, "etc", "postfix")).FullName;
        await File.WriteAllTextAsync(Path.Combine(postfix, "master.cf"),
            await File.ReadAllTextAsync("/usr/share/postfix/master.cf.dist") + "hold      unix  -       -       y       -       -       smtp\n    -o syslog_name=postfix/hold\n");

        await InstallAsync();
        var first = Snapshot();
        await InstallAsync();
        Assert.Equal(first, Snapshot());

        // master.cf: each listener once (Debian's smtp inet replaced), with every -o option of master.cf.relay.
        var services = (await RunAsync("postconf", "-c", postfix, "-M")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var names = services.Select(s => string.Join('/', s.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..2])).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        foreach (var listener in new[] { "smtp/inet", "2525/inet", "11923/inet", "61235/inet", "80/inet", "submission/inet", "smtps/inet", "hold/unix", "relayfilter/unix", "127.0.0.1:10025/inet", "relaybounce/unix" })
        {
            Assert.Contains(listener, names);
        }
        Assert.Contains("-o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes", services.Single(s => s.StartsWith("submission ", StringComparison.Ordinal)));
        Assert.Contains("-o smtpd_tls_wrappermode=yes", services.Single(s => s.StartsWith("smtps ", StringComparison.Ordinal)));

        // main.cf: every setting of main.cf.relay, with the map folder in place of MAPS.
        var settings = await RunAsync("postconf", "-c", postfix, "-n");
        foreach (var line in new[]
        {
            $"smtpd_sender_login_maps = lmdb:{Maps}/sender_logins, pcre:{Maps}/sender_logins_sub.pcre",
            $"smtpd_sender_restrictions = check_sasl_access static:{{FILTER relayfilter:$relay_bounce_domain}}, check_sasl_access lmdb:{Maps}/sasl_access, reject_authenticated_sender_login_mismatch",
            "relay_submission_policy = check_policy_service inet:127.0.0.1:10040",
            "smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination",
            "smtpd_sasl_type = dovecot",
            "smtpd_sasl_path = private/auth",
            "smtpd_tls_auth_only = yes",
            "smtpd_tls_security_level = may",
            "smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem",
            $"relay_domains = $relay_bounce_domain, lmdb:{Maps}/relay_domains",
            "defer_transports = hold",
        })
        {
            Assert.Contains(line, settings.Split('\n'));
        }
        Assert.DoesNotContain("MAPS", settings);
        Assert.DoesNotContain("config_directory", await File.ReadAllTextAsync(Path.Combine(postfix, "main.cf")));

        // Dovecot: the auth-only configuration as the whole dovecot.conf, which Dovecot accepts.
        var dovecot = await RunAsync("doveconf", "-c", Path.Combine(_root, "etc", "dovecot", "dovecot.conf"), "-n");
        Assert.Contains($"args = scheme=BLF-CRYPT username_format=%u {Maps}/passwd", dovecot);
        Assert.Contains("unix_listener /var/spool/postfix/private/auth", dovecot);
        Assert.Contains("protocols = none", dovecot);
        Assert.DoesNotContain("pam", dovecot);

        // Empty tables for Postfix and Dovecot to open until the agent's first generation; hashes for root and Dovecot only.
        foreach (var table in new[] { "relay_domains", "relay_recipients", "transport", "sender_logins", "sasl_access" })
        {
            Assert.True(File.Exists(Path.Combine(_root, Maps.TrimStart('/'), table + ".lmdb")), table);
        }
        Assert.True(File.Exists(Path.Combine(_root, Maps.TrimStart('/'), "blocked.cdb")));
        Assert.Equal("640 root:dovecot", (await RunAsync("stat", "-c", "%a %U:%G", Path.Combine(_root, Maps.TrimStart('/'), "passwd"))).Trim());
        Assert.Contains("include \"/etc/nftables.d/*.nft\"", await File.ReadAllTextAsync(Path.Combine(_root, "etc", "nftables.conf")));
        Assert.True(File.Exists(Path.Combine(_root, "etc", "nftables.d", "relay-egress.nft")));
        Assert.True(File.Exists(Path.Combine(_root, "etc", "systemd", "system", "relay-agent.service")));
        Assert.True(File.Exists(Path.Combine(_root, "etc", "relay-agent", "environment")));
    }

    private async Task InstallAsync()
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Deploy, "install.sh"), "--root", _root]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stderr;
        Assert.True(process.ExitCode == 0, output);
        // Nothing but its own progress lines: no warning from postconf, postmap or doveconf.
        Assert.All(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("==> ", line));
    }

    private Dictionary<string, string> Snapshot() => Directory.GetFiles(_root, "*", SearchOption.AllDirectories)
        .Where(f => !f.EndsWith(".cdb", StringComparison.Ordinal) && !f.EndsWith(".lmdb", StringComparison.Ordinal))
        .ToDictionary(f => f, File.ReadAllText);

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {await process.StandardError.ReadToEndAsync()}");
        return output;
    }
}
