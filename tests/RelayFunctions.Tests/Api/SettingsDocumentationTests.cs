using System.Text.Json;
using System.Text.RegularExpressions;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Api;

/// <summary>One place lists every setting: the README's table and local.settings.sample.json must agree.</summary>
public sealed partial class SettingsDocumentationTests
{
    // Set by the process environment, not by app settings.
    private static readonly string[] EnvironmentOnly = ["FUNCTIONS_CUSTOMHANDLER_PORT", "ASPNETCORE_URLS"];

    [Fact]
    public void TheReadmeTableAndTheSampleSettingsNameTheSameSettings()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot.Path, "README.md"));
        var documented = TableRow().Matches(readme).Select(m => m.Groups[1].Value).ToHashSet();
        var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot.Path, "local.settings.sample.json")))
            .RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToHashSet();

        Assert.Empty(sample.Except(documented));
        Assert.Empty(documented.Except(sample).Except(EnvironmentOnly));
    }

    [GeneratedRegex(@"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
