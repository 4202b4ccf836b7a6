using System.Text.Json;
using System.Text.RegularExpressions;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Api;

/// <summary>One place lists every setting: the table of docs/settings.md and local.settings.sample.json must agree.</summary>
[Trait("Category", "Fast")]
public sealed partial class SettingsDocumentationTests
{
    // Set by the process environment, not by app settings.
    private static readonly string[] EnvironmentOnly = ["FUNCTIONS_CUSTOMHANDLER_PORT", "ASPNETCORE_URLS"];

    [Fact]
    public void TheSettingsTableAndTheSampleSettingsNameTheSameSettings()
    {
        var table = File.ReadAllText(Path.Combine(RepoRoot.Path, "docs", "settings.md"));
        // The relay agent's settings (Agent__…) belong to another program, with its own environment.sample.
        var documented = TableRow().Matches(table).Select(m => m.Groups[1].Value).Where(n => !n.StartsWith("Agent__", StringComparison.Ordinal)).ToHashSet();
        var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot.Path, "local.settings.sample.json")))
            .RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToHashSet();

        Assert.Empty(sample.Except(documented));
        Assert.Empty(documented.Except(sample).Except(EnvironmentOnly));
    }

    [Fact]
    public void EveryAgentSettingOfTheAgentsTableIsAnAgentOption()
    {
        // The agent's table lives with the agent's documentation.
        var table = File.ReadAllText(Path.Combine(RepoRoot.Path, "docs", "relay-agent.md"));
        var options = typeof(RelayAgent.AgentOptions).GetProperties().Select(p => "Agent__" + p.Name).ToHashSet();
        var documented = TableRow().Matches(table).Select(m => m.Groups[1].Value).Where(n => n.StartsWith("Agent__", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(documented);
        Assert.All(documented, name => Assert.Contains(name, options));
    }

    [GeneratedRegex(@"^\| `([A-Z][A-Za-z0-9_]*)` \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
