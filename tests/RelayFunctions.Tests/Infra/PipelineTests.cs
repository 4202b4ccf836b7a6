using RelayFunctions.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace RelayFunctions.Tests.Infra;

/// <summary>azure.yaml and the CI workflow do what docs/deploy.md says they do.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Trait("Category", "Fast")]
public sealed class PipelineTests
{
    [Fact]
    public void AzdDeploysTheFunctionsProjectAsAFunctionAppAndUploadsTheRelayPackageAfterProvisioning()
    {
        var azure = Templates.Yaml("azure.yaml");
        Assert.Equal("bicep", azure.At("infra", "provider").ToString());
        Assert.Equal("infra", azure.At("infra", "path").ToString());
        Assert.Equal("main", azure.At("infra", "module").ToString());
        var api = azure.At("services", "api");
        Assert.Equal("./functions", api.At("project").ToString());
        Assert.Equal("dotnet", api.At("language").ToString());
        Assert.Equal("function", api.At("host").ToString());
        var hook = Path.Combine(RepoRoot.Path, azure.At("hooks", "postprovision", "run").ToString());
        Assert.True(File.GetUnixFileMode(hook).HasFlag(UnixFileMode.UserExecute), $"{hook} is not executable");
        Assert.Contains("scripts/package-relay-agent.sh", File.ReadAllText(hook));
    }

    [Fact]
    public void CiTestsEveryPushAndDeploysMainWithFederatedCredentialsAfterTheTestsPass()
    {
        var workflow = Templates.Yaml(".github/workflows/ci.yml");
        var triggers = (YamlMappingNode)workflow.At("on");
        Assert.Contains(new YamlScalarNode("pull_request"), triggers.Children.Keys);
        Assert.Equal("main", ((YamlSequenceNode)workflow.At("on", "push", "branches"))[0].ToString());

        string Runs(YamlNode job) => string.Join("\n", ((YamlSequenceNode)job.At("steps")).OfType<YamlMappingNode>()
            .Where(s => s.Children.ContainsKey(new YamlScalarNode("run"))).Select(s => s.At("run").ToString()));
        var test = workflow.At("jobs", "test");
        Assert.Contains("bash scripts/test.sh", Runs(test));
        Assert.Contains("bash scripts/check-infra.sh", Runs(test));

        var deploy = workflow.At("jobs", "deploy");
        Assert.Equal("test", deploy.At("needs").ToString());
        Assert.Contains("refs/heads/main", deploy.At("if").ToString());
        Assert.Equal("write", deploy.At("permissions", "id-token").ToString());
        var runs = Runs(deploy);
        Assert.Contains("azd auth login --client-id \"$AZURE_CLIENT_ID\" --federated-credential-provider github", runs);
        Assert.Contains("azd provision --no-prompt", runs);
        Assert.Contains("azd deploy --no-prompt", runs);
        Assert.True(runs.IndexOf("azd provision", StringComparison.Ordinal) < runs.IndexOf("azd deploy", StringComparison.Ordinal));
        // No secret: every value is a repository variable.
        Assert.DoesNotContain("secrets.", File.ReadAllText(Path.Combine(RepoRoot.Path, ".github", "workflows", "ci.yml")));
    }
}
