using System.Text.RegularExpressions;

namespace RelayFunctions.Tests.Infra;

/// <summary>
/// Every setting of the Settings table (docs/settings.md) is either set on the function app by the templates, or listed in
/// docs/deploy.md ("Settings in Azure") as deliberately left unset (optional, or not for Azure); never both, never neither.
/// </summary>
[Trait("Category", "Fast")]
public sealed partial class InfraSettingsTests
{
    private static readonly string Settings = Templates.Read(Path.Combine("docs", "settings.md"));
    private static readonly string Deploy = Templates.Read(Path.Combine("docs", "deploy.md"));

    /// <summary>The app's settings of the docs/settings.md table (the relay agent's Agent__… settings belong to the VMs).</summary>
    private static HashSet<string> Documented() =>
        SettingsRow().Matches(Settings).Select(m => m.Groups[1].Value)
            .Where(n => !n.StartsWith("Agent__", StringComparison.Ordinal)).ToHashSet();

    private static HashSet<string> NotSetInAzure()
    {
        var list = NotSetList().Match(Deploy);
        Assert.True(list.Success, "docs/deploy.md: no list of settings left unset in Azure");
        return BacktickedName().Matches(list.Groups[1].Value).Select(m => m.Groups[1].Value).ToHashSet();
    }

    /// <summary>The names the function app's settings get: literal keys, and <c>Name__{0}</c> keys as <c>Name__0</c>.</summary>
    private static HashSet<string> SetByTheTemplates()
    {
        var settings = Templates.Module("function")["variables"]!["appSettings"]!.GetValue<string>();
        return SettingKey().Matches(settings).Select(m => m.Groups[1].Value)
            .Concat(IndexedKey().Matches(settings).Select(m => m.Groups[1].Value + "0"))
            .ToHashSet();
    }

    [Fact]
    public void EveryDocumentedSettingIsSetByTheTemplatesOrListedAsUnsetInAzure()
    {
        var set = SetByTheTemplates();
        var unset = NotSetInAzure();
        Assert.DoesNotContain(Documented(), name => !set.Contains(name) && !unset.Contains(name));
        Assert.Empty(set.Intersect(unset));
        // The list names only real settings.
        Assert.Empty(unset.Except(Documented()));
    }

    [Fact]
    public void EverySettingTheTemplatesSetIsDocumented()
    {
        var set = SetByTheTemplates();
        Assert.Contains("AzureWebJobsStorage__credential", set);
        Assert.Contains("Cors__AllowedOrigins__0", set);
        Assert.Empty(set.Except(Documented()));
    }

    [Fact]
    public void TheSiteCorsAndTheAppsCorsSettingsComeFromTheSameParameter()
    {
        var function = Templates.Module("function");
        var site = Templates.Resources(function).Single(r => (string?)r["type"] == "Microsoft.Web/sites");
        Assert.Equal("[parameters('spaOrigins')]", (string?)site["properties"]!["siteConfig"]!["cors"]!["allowedOrigins"]);
        var settings = function["variables"]!["appSettings"]!.GetValue<string>();
        Assert.Contains("toObject(range(0, length(parameters('spaOrigins'))), lambda('i', format('Cors__AllowedOrigins__{0}', lambdaVariables('i'))), lambda('i', parameters('spaOrigins')[lambdaVariables('i')]))", settings);
        // main.bicep feeds it from the one SPA_ORIGINS value.
        var input = Templates.Main["resources"]!["function"]!["properties"]!["parameters"]!["spaOrigins"]!["value"]!.GetValue<string>();
        Assert.Contains("parameters('spaOrigins')", input);
    }

    [Fact]
    public void FlexGetsIdentityStorageForTheHostAndNoWorkerRuntimeSetting()
    {
        var settings = Templates.Module("function")["variables"]!["appSettings"]!.GetValue<string>();
        Assert.Contains("'AzureWebJobsStorage__credential', 'managedidentity'", settings);
        Assert.Contains("'AzureWebJobsStorage__clientId', parameters('identityClientId')", settings);
        foreach (var service in new[] { "blob", "queue", "table" })
        {
            Assert.Contains($"'AzureWebJobsStorage__{service}ServiceUri', parameters('{service}Endpoint')", settings);
        }
        // Deprecated on Flex: the stack is functionAppConfig.runtime.
        foreach (var forbidden in new[] { "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE", "'AzureWebJobsStorage'" })
        {
            Assert.DoesNotContain(forbidden, settings);
        }
    }

    [GeneratedRegex(@"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|", RegexOptions.Multiline)]
    private static partial Regex SettingsRow();

    [GeneratedRegex(@"<!-- settings-not-set-in-azure[^>]*-->(.*?)<!-- /settings-not-set-in-azure -->", RegexOptions.Singleline)]
    private static partial Regex NotSetList();

    [GeneratedRegex(@"`([A-Za-z_][A-Za-z0-9_]*)`")]
    private static partial Regex BacktickedName();

    // Setting names have a section separator or are upper-case; values (managedidentity, none, acs) are neither.
    [GeneratedRegex(@"'([A-Za-z][A-Za-z0-9]*(?:__[A-Za-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'")]
    private static partial Regex SettingKey();

    [GeneratedRegex(@"'([A-Za-z][A-Za-z0-9_]*__)\{0\}'")]
    private static partial Regex IndexedKey();
}
