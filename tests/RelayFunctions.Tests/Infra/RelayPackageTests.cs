using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using RelayFunctions.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace RelayFunctions.Tests.Infra;

/// <summary>
/// One source for the relays' configuration: the package the VMs install carries relay-agent/deploy/ as it is, its
/// install.sh writes Postfix's configuration from the same two files scripts/lib.sh builds the end-to-end tests'
/// Postfix from, and cloud-init writes no relay configuration of its own.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RelayPackageTests : IClassFixture<RelayPackageTests.Package>
{
    private static readonly string Deploy = Path.Combine(RepoRoot.Path, "relay-agent", "deploy");

    public sealed class Package : IDisposable
    {
        public Package()
        {
            Folder = Directory.CreateTempSubdirectory("relay-package-").FullName;
            var archive = Path.Combine(Folder, "relay.tar.gz");
            var (code, output) = Hosting.FunctionAppLayoutTests.Run(
                Path.Combine(RepoRoot.Path, "scripts", "package-relay-agent.sh"), [archive], RepoRoot.Path, TimeSpan.FromMinutes(5));
            Assert.True(code == 0, "scripts/package-relay-agent.sh failed:\n" + output);
            Extracted = Path.Combine(Folder, "package");
            Directory.CreateDirectory(Extracted);
            using var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
            TarFile.ExtractToDirectory(gzip, Extracted, overwriteFiles: false);
        }

        public string Folder { get; }

        public string Extracted { get; }

        public void Dispose() => Directory.Delete(Folder, recursive: true);
    }

    private readonly Package _package;

    public RelayPackageTests(Package package) => _package = package;

    [Fact]
    public void ThePackageCarriesRelayAgentDeployByteForByteWithTheAgentAndTheInstaller()
    {
        var inRepository = Directory.GetFiles(Deploy, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Deploy, f)).Order().ToList();
        var packaged = Path.Combine(_package.Extracted, "deploy");
        Assert.Equal(inRepository, Directory.GetFiles(packaged, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(packaged, f)).Order().ToList());
        Assert.All(inRepository, file => Assert.Equal(File.ReadAllBytes(Path.Combine(Deploy, file)), File.ReadAllBytes(Path.Combine(packaged, file))));

        // Self-contained: the VM has no .NET.
        var agent = Path.Combine(_package.Extracted, "relay-agent", "relay-agent");
        Assert.True(File.GetUnixFileMode(agent).HasFlag(UnixFileMode.UserExecute));
        Assert.True(File.Exists(Path.Combine(_package.Extracted, "relay-agent", "libcoreclr.so")));
        Assert.Equal(File.ReadAllText(Path.Combine(RepoRoot.Path, "infra", "relay", "install.sh")), File.ReadAllText(Path.Combine(_package.Extracted, "install.sh")));
    }

    [Fact]
    public void InstallingItConfiguresPostfixFromTheFilesTheEndToEndTestsUse()
    {
        // The end-to-end tests' Postfix is built from these two files (scripts/lib.sh, start_postfix).
        var lib = File.ReadAllText(Path.Combine(RepoRoot.Path, "scripts", "lib.sh"));
        Assert.Contains("relay-agent/deploy/postfix/main.cf.relay", lib);
        Assert.Contains("relay-agent/deploy/postfix/master.cf.relay", lib);

        var root = NewRoot();
        Install(root, _package.Extracted);
        Install(root, _package.Extracted);
        var config = Path.Combine(root, "etc", "postfix");

        // Every setting of main.cf.relay is in force, with the maps where the agent writes them; installed twice, once.
        var effective = Run("postconf", "-c", config, "-n").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Spaced).ToHashSet();
        // A setting may go on over indented lines; Postfix joins them with a space.
        var relaySettings = new List<string>();
        foreach (var line in File.ReadAllLines(Path.Combine(Deploy, "postfix", "main.cf.relay")).Where(l => !l.StartsWith('#') && l.Trim().Length > 0))
        {
            if (char.IsWhiteSpace(line[0]) && relaySettings.Count > 0)
            {
                relaySettings[^1] += " " + line.Trim();
            }
            else if (line.Contains(" =", StringComparison.Ordinal))
            {
                relaySettings.Add(line);
            }
        }
        relaySettings = [.. relaySettings.Select(l => Spaced(l.Replace("MAPS", "/var/lib/relay-agent/maps", StringComparison.Ordinal)))];
        Assert.NotEmpty(relaySettings);
        Assert.All(relaySettings, setting => Assert.Contains(setting, effective));
        Assert.Equal(1, File.ReadAllText(Path.Combine(config, "main.cf")).Split("# BEGIN relay-agent/deploy").Length - 1);

        // master.cf gains the services of master.cf.relay (the hold transport), and Postfix parses them.
        var services = Run("postconf", "-c", config, "-M");
        foreach (var line in File.ReadAllLines(Path.Combine(Deploy, "postfix", "master.cf.relay")).Where(l => l.Length > 0 && !l.StartsWith('#') && !char.IsWhiteSpace(l[0])))
        {
            var name = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..2];
            Assert.Contains($"{name[0]}", services);
        }
        Assert.Equal(1, File.ReadAllText(Path.Combine(config, "master.cf")).Split("# BEGIN relay-agent/deploy").Length - 1);

        Assert.Equal(File.ReadAllText(Path.Combine(Deploy, "relay-agent.service")), File.ReadAllText(Path.Combine(root, "etc", "systemd", "system", "relay-agent.service")));
        Assert.True(File.Exists(Path.Combine(root, "var", "lib", "relay-agent", "maps", "transport.lmdb")));
        Assert.True(File.Exists(Path.Combine(root, "opt", "relay-agent", "relay-agent")));
    }

    [Fact]
    public void DovecotAndEgressRulesAddedToDeployReachTheRelayWithoutATemplateChange()
    {
        // A package whose deploy/ has gained Dovecot configuration and nftables rules, as relay-agent/deploy will.
        var extended = Path.Combine(_package.Folder, "extended");
        CopyTree(_package.Extracted, extended);
        var dovecot = Path.Combine(extended, "deploy", "dovecot", "conf.d");
        Directory.CreateDirectory(dovecot);
        File.WriteAllText(Path.Combine(dovecot, "90-relay.conf"), "auth_mechanisms = plain login\n");
        var nft = Path.Combine(extended, "deploy", "nftables");
        Directory.CreateDirectory(nft);
        File.WriteAllText(Path.Combine(nft, "zz-added.nft"), "table inet zz_added {\n}\n");

        var root = NewRoot();
        Install(root, extended);
        Install(root, extended);
        Assert.Equal("auth_mechanisms = plain login\n", File.ReadAllText(Path.Combine(root, "etc", "dovecot", "conf.d", "90-relay.conf")));
        Assert.Equal("table inet zz_added {\n}\n", File.ReadAllText(Path.Combine(root, "etc", "nftables.d", "zz-added.nft")));
        Assert.Single(File.ReadAllLines(Path.Combine(root, "etc", "nftables.conf")), l => l == "include \"/etc/nftables.d/*.nft\"");

        // Whatever relay-agent/deploy holds today is installed the same way (relay-egress.nft, the egress rules).
        foreach (var file in Directory.Exists(Path.Combine(Deploy, "nftables")) ? Directory.GetFiles(Path.Combine(Deploy, "nftables"), "*.nft") : [])
        {
            Assert.Equal(File.ReadAllText(file), File.ReadAllText(Path.Combine(root, "etc", "nftables.d", Path.GetFileName(file))));
        }
        foreach (var file in Directory.Exists(Path.Combine(Deploy, "dovecot")) ? Directory.GetFiles(Path.Combine(Deploy, "dovecot"), "*", SearchOption.AllDirectories) : [])
        {
            var relative = Path.GetRelativePath(Path.Combine(Deploy, "dovecot"), file);
            Assert.Equal(File.ReadAllText(file), File.ReadAllText(Path.Combine(root, "etc", "dovecot", relative)));
        }
    }

    [Fact]
    public void CloudInitInstallsDebiansPackagesAndTheRelayPackageAndWritesNoRelayConfigurationOfItsOwn()
    {
        var cloudInit = Templates.Yaml("infra/relay/cloud-init.yaml");
        var packages = ((YamlSequenceNode)cloudInit.At("packages")).Select(p => p.ToString()).ToList();
        Assert.Subset(packages.ToHashSet(), new HashSet<string> { "postfix", "postfix-cdb", "postfix-lmdb", "dovecot-core", "nftables" });
        Assert.Contains("No configuration", cloudInit.At("apt", "debconf_selections", "postfix").ToString());
        var written = ((YamlSequenceNode)cloudInit.At("write_files")).Select(f => f.At("path").ToString()).Order().ToList();
        Assert.Equal(["/etc/relay-agent/deployment", "/etc/relay-agent/environment", "/usr/local/sbin/relay-update"], written);
        Assert.Equal("/usr/local/sbin/relay-update", ((YamlSequenceNode)((YamlSequenceNode)cloudInit.At("runcmd"))[0])[0].ToString());
        var update = Templates.Read("infra/relay/relay-update.sh");
        Assert.Contains("$work/install.sh", update);

        // No Postfix setting of deploy/ is copied anywhere under infra/: the package is the only way it reaches a relay.
        var settings = File.ReadAllLines(Path.Combine(Deploy, "postfix", "main.cf.relay")).Where(l => l.Contains(" = ", StringComparison.Ordinal) && !l.StartsWith('#')).ToList();
        Assert.NotEmpty(settings);
        foreach (var file in Directory.GetFiles(Templates.Folder, "*", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            Assert.All(settings, setting => Assert.DoesNotContain(setting, text));
        }
    }

    private string NewRoot()
    {
        var root = Path.Combine(_package.Folder, "root-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(Path.Combine(root, "etc", "postfix"));
        // Debian's postfix package installs master.cf even with "No configuration" (and no main.cf).
        var master = File.Exists("/etc/postfix/master.cf") ? "/etc/postfix/master.cf" : "/usr/share/postfix/master.cf.dist";
        File.Copy(master, Path.Combine(root, "etc", "postfix", "master.cf"));
        return root;
    }

    private static void Install(string root, string package)
    {
        var start = new ProcessStartInfo(Path.Combine(package, "install.sh")) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["RELAY_ROOT"] = root;
        start.Environment["RELAY_NO_SERVICES"] = "1";
        start.Environment["RELAY_HOSTNAME"] = "relay.test.example";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"install.sh failed:\n{output.Result}{error.Result}");
    }

    private static string Run(string file, params string[] args)
    {
        var (code, output) = Hosting.FunctionAppLayoutTests.Run(file, args, RepoRoot.Path, TimeSpan.FromMinutes(1));
        Assert.True(code == 0, $"{file} {string.Join(' ', args)}:\n{output}");
        return output;
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }

    private static string Spaced(string setting) => string.Join(' ', setting.Split(' ', StringSplitOptions.RemoveEmptyEntries));
}
