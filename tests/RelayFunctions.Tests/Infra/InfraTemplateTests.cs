using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RelayFunctions.Tests.Infra;

/// <summary>What the compiled templates declare, against what docs/deploy.md promises.</summary>
[Trait("Category", "Fast")]
public sealed partial class InfraTemplateTests
{
    [Fact]
    public void TheFunctionAppIsFlexConsumptionOnDotnetIsolated10WithItsIdentity()
    {
        var function = Templates.Module("function");
        var plan = Templates.Resources(function).Single(r => (string?)r["type"] == "Microsoft.Web/serverfarms");
        Assert.Equal("FC1", (string?)plan["sku"]!["name"]);
        var site = Templates.Resources(function).Single(r => (string?)r["type"] == "Microsoft.Web/sites");
        Assert.Equal("functionapp,linux", (string?)site["kind"]);
        var config = site["properties"]!["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", (string?)config["runtime"]!["name"]);
        Assert.Equal("10.0", (string?)config["runtime"]!["version"]);
        Assert.Equal("UserAssignedIdentity", (string?)config["deployment"]!["storage"]!["authentication"]!["type"]);
        // azd deploys the `api` service of azure.yaml to the site with this tag.
        Assert.Contains("createObject('azd-service-name', 'api')", (string?)site["tags"]);
    }

    [Fact]
    public void StorageRefusesSharedKeysAndEachIdentityHasExactlyTheDocumentedRoles()
    {
        var storage = Templates.Module("storage");
        var account = Templates.Resources(storage).Single(r => (string?)r["type"] == "Microsoft.Storage/storageAccounts");
        Assert.False((bool)account["properties"]!["allowSharedKeyAccess"]!);
        Assert.False((bool)account["properties"]!["allowBlobPublicAccess"]!);

        // Role (by id) → whom, across every module: the table of docs/deploy.md, row by row.
        var assigned = new[] { "storage", "monitoring", "email" }
            .SelectMany(m => Templates.Resources(Templates.Module(m)).Where(r => (string?)r["type"] == "Microsoft.Authorization/roleAssignments").Select(r => (Module: m, Assignment: r)))
            .Select(a => (a.Module, Role: RoleOf(Templates.Module(a.Module), (string)a.Assignment["properties"]!["roleDefinitionId"]!), Principal: a.Assignment["properties"]!["principalId"]!.ToJsonString()))
            .ToList();
        var roles = assigned.Select(a => a.Role).ToHashSet();
        var documented = new Dictionary<string, string>
        {
            ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
            ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
            ["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"] = "Storage Blob Data Reader",
            ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
            ["c6a89b2d-59bc-44d0-9896-0f6e12d7b80a"] = "Storage Queue Data Message Sender",
            ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
            ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
            ["09976791-48a7-449e-bb21-39d1a415f350"] = "Communication and Email Service Owner",
        };
        Assert.Equal(documented.Keys.Order(), roles.Order());
        var readme = Templates.Read(Path.Combine("docs", "deploy.md"));
        Assert.All(documented.Values, name => Assert.Contains($"| {name} |", readme));
        // The relays only read blobs: nothing of theirs can write the map.
        var relayBlobRoles = assigned.Where(a => a.Principal.Contains("relayPrincipalId") && a.Module == "storage").Select(a => documented[a.Role]).Order();
        Assert.Equal(["Storage Blob Data Reader", "Storage Blob Data Reader", "Storage Queue Data Message Sender", "Storage Table Data Contributor"], relayBlobRoles);
    }

    [Fact]
    public void EveryRequiredParameterIsGivenToAzdAndEveryAzdValueIsDocumented()
    {
        var parameters = Templates.Main["parameters"]!.AsObject();
        var given = JsonNode.Parse(Templates.Read("infra/main.parameters.json"))!["parameters"]!.AsObject();
        Assert.DoesNotContain(given.Select(p => p.Key), name => !parameters.ContainsKey(name));
        Assert.DoesNotContain(parameters.Where(p => p.Value!["defaultValue"] is null).Select(p => p.Key), name => !given.ContainsKey(name));

        var deploy = Templates.Read(Path.Combine("docs", "deploy.md"));
        var values = AzdValue().Matches(Templates.Read("infra/main.parameters.json")).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(values);
        Assert.All(values, value => Assert.Contains($"`{value}`", deploy));
    }

    [Fact]
    public void TheRelaysOpenTheMailPortsAndTheAlternatesAndAreBuiltByCloudInit()
    {
        var main = Templates.Main["parameters"]!["relayPorts"]!["defaultValue"]!.AsArray().Select(p => (int)p!).ToList();
        Assert.Equal([25, 2525, 587, 465, 11923, 61235, 80], main);
        var relay = Templates.Module("relays");
        var lb = Templates.Resources(relay).Single(r => (string?)r["type"] == "Microsoft.Network/loadBalancers");
        var rules = lb["properties"]!["copy"]!.AsArray().Single(c => (string?)c!["name"] == "loadBalancingRules")!;
        Assert.Equal("[length(parameters('mailPorts'))]", (string?)rules["count"]);
        var nsg = Templates.Resources(relay).Single(r => (string?)r["type"] == "Microsoft.Network/networkSecurityGroups");
        Assert.Contains("parameters('mailPorts')", nsg["properties"]!.ToJsonString().Replace("\\u0027", "'", StringComparison.Ordinal));
        var scaleSet = Templates.Resources(relay).Single(r => (string?)r["type"] == "Microsoft.Compute/virtualMachineScaleSets");
        var customData = (string)scaleSet["properties"]!["virtualMachineProfile"]!["osProfile"]!["customData"]!;
        Assert.StartsWith("[base64(reduce(", customData);
        Assert.Contains("UserAssigned", scaleSet["identity"]!.ToJsonString());
        // The cloud-init text compiled in is the file in infra/relay, placeholders and all.
        var loaded = relay["variables"]!.AsObject().Where(v => v.Key.StartsWith("$fxv#", StringComparison.Ordinal)).Select(v => (string?)v.Value).ToList();
        Assert.Contains(Templates.Read("infra/relay/cloud-init.yaml"), loaded);
        Assert.Contains(Templates.Read("infra/relay/relay-update.sh"), loaded);
        // Every placeholder of cloud-init.yaml is filled in.
        var placeholders = Placeholder().Matches(Templates.Read("infra/relay/cloud-init.yaml")).Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(placeholders);
        Assert.All(placeholders, p => Assert.Contains($"'{p}', ", customData));
    }

    /// <summary>The role id an assignment names: inline, or through the module's variables (<c>variables('roles').blobDataOwner</c>).</summary>
    private static string RoleOf(JsonObject module, string roleDefinitionId)
    {
        if (RoleId().Match(roleDefinitionId) is { Success: true } inline)
        {
            return inline.Value;
        }
        var reference = VariableReference().Match(roleDefinitionId);
        Assert.True(reference.Success, $"cannot tell the role of {roleDefinitionId}");
        var variable = module["variables"]![reference.Groups[1].Value]!;
        return (string)(reference.Groups[2].Success ? variable[reference.Groups[2].Value]! : variable)!;
    }

    [GeneratedRegex("@@[A-Z_]+@@")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"variables\('(\w+)'\)(?:\.(\w+))?")]
    private static partial Regex VariableReference();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex RoleId();

    [GeneratedRegex(@"\$\{([A-Z_]+)")]
    private static partial Regex AzdValue();
}
