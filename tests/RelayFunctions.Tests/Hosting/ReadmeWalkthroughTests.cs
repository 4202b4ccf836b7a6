using System.Text.RegularExpressions;
using RelayFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Hosting;

/// <summary>
/// The README's walkthrough, as a new user runs it: <c>scripts/run-local.sh</c> in a copy of the repository with an
/// empty HOME, then the README's curl block exactly as written (extracted from README.md, never copied here). Every
/// curl in it prints its status line, and each must be one the comment above it names. Then Ctrl-C, which must stop
/// everything quickly and without an error logged.
/// </summary>
public sealed partial class ReadmeWalkthroughTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "relay-readme-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task TheReadmeWalkthroughWorksAsWrittenWithAndWithoutSampleData()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepoRoot.Path, "README.md"));
        var block = Walkthrough.FromReadme(readme);
        LocalCopy.Create(Path.Combine(_root, "app"));
        var home = Directory.CreateDirectory(Path.Combine(_root, "home")).FullName;
        var port = Azurite.FreePort();
        var prefix = Azurite.NewPrefix();
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = home,
            // The packages this machine already restored: a fresh HOME would otherwise download them all again.
            ["NUGET_PACKAGES"] = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            // The user's own settings, which must win over every default of the script.
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["Storage__Prefix"] = prefix,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["API"] = $"http://127.0.0.1:{port}/api",
        };
        var settings = Path.Combine(_root, "app", "functions", "appsettings.Development.json");
        var settingsBefore = await File.ReadAllTextAsync(settings);

        foreach (var sample in new[] { false, true })
        {
            await using var app = await LocalRun.StartAsync(Path.Combine(_root, "app"), environment, sample ? ["--sample"] : []);
            Assert.Contains("no Azurite started", app.Output);
            // The operator's command is the walkthrough's; the customer's is for acme, or with --sample for demo, which the
            // README shows beside the walkthrough.
            Assert.Contains(app.TokenCommands[0], block.Script);
            Assert.Contains(app.TokenCommands[1], sample ? readme : block.Script);
            Assert.Contains(sample ? "account=demo" : "account=acme", app.TokenCommands[1]);

            var (code, printed) = await LocalRun.BashAsync(["-eo", "pipefail", "-c", block.Script], Path.Combine(_root, "app"), environment, TimeSpan.FromMinutes(3));
            output.WriteLine(printed);
            Assert.True(code == 0, $"the walkthrough failed ({code}):\n{printed}");
            var statuses = StatusLine().Matches(printed).Select(m => int.Parse(m.Groups[1].Value)).ToList();
            Assert.Equal(block.Expected.Count, statuses.Count);
            for (var i = 0; i < statuses.Count; i++)
            {
                Assert.True(block.Expected[i].Contains(statuses[i]), $"request {i + 1} answered {statuses[i]}; the README says {string.Join(" or ", block.Expected[i])}");
            }

            var stopped = await app.InterruptAsync();
            output.WriteLine($"Ctrl-C stopped the app and its script in {stopped.TotalMilliseconds:F0} ms (sample data: {sample})");
            Assert.True(stopped < TimeSpan.FromSeconds(10), $"stopping took {stopped}");
            Assert.True(!ErrorLog().IsMatch(app.Output), app.Output);
        }
        // Minting tokens must not rewrite the project's files.
        Assert.Equal(settingsBefore, await File.ReadAllTextAsync(settings));
        // The account went to the storage the user exported, not to a local Azurite.
        var accounts = new Azure.Data.Tables.TableClient(Azurite.ConnectionString, prefix + "Accounts");
        Assert.True((await accounts.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("acme", "account")).HasValue);
    }

    [Fact]
    public async Task AnExportedEnvironmentIsTheOneTheAppRunsIn()
    {
        LocalCopy.Create(Path.Combine(_root, "app"));
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = Directory.CreateDirectory(Path.Combine(_root, "home")).FullName,
            ["NUGET_PACKAGES"] = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["Storage__Prefix"] = Azurite.NewPrefix(),
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Azurite.FreePort()}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        await using var app = await LocalRun.StartAsync(Path.Combine(_root, "app"), environment, [], expectTokens: false);
        Assert.Contains("Hosting environment: Production", app.Output);
        Assert.Contains($"Now listening on: {environment["ASPNETCORE_URLS"]}", app.Output);
        Assert.Empty(app.TokenCommands);
        Assert.DoesNotContain("user-jwts", app.Output);
        await app.InterruptAsync();
        Assert.DoesNotMatch(ErrorLog(), app.Output);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [GeneratedRegex(@"^HTTP/[\d.]+ (\d{3})", RegexOptions.Multiline)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"^(fail|crit):", RegexOptions.Multiline)]
    private static partial Regex ErrorLog();

    /// <summary>The README's walkthrough block, and for each curl that prints, the statuses its comment allows.</summary>
    private sealed partial record Walkthrough(string Script, IReadOnlyList<IReadOnlySet<int>> Expected)
    {
        public static Walkthrough FromReadme(string readme)
        {
            var marker = readme.IndexOf("<!-- walkthrough:", StringComparison.Ordinal);
            Assert.True(marker >= 0, "README.md has no walkthrough marker");
            var start = readme.IndexOf("```sh\n", marker, StringComparison.Ordinal) + "```sh\n".Length;
            var script = readme[start..readme.IndexOf("\n```", start, StringComparison.Ordinal)];

            var expected = new List<IReadOnlySet<int>>();
            var comment = "";
            var inComment = false;
            foreach (var line in script.Split('\n'))
            {
                if (line.StartsWith('#'))
                {
                    // The whole block of comment lines right above a curl.
                    comment = inComment ? comment + " " + line : line;
                    inComment = true;
                    continue;
                }
                inComment = false;
                if (line.StartsWith("curl ", StringComparison.Ordinal))
                {
                    var codes = Code().Matches(comment).Select(m => int.Parse(m.Value)).ToHashSet();
                    Assert.True(codes.Count > 0, $"the comment before '{line}' names no status");
                    expected.Add(codes);
                }
            }
            return new Walkthrough(script, expected);
        }

        [GeneratedRegex(@"\b[1-5]\d\d\b")]
        private static partial Regex Code();
    }
}
