using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RelayFunctions.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace RelayFunctions.Tests.Infra;

/// <summary>The files under infra/ and the Bicep CLI that compiles them (from NuGet, as scripts/check-infra.sh gets it).</summary>
public static partial class Templates
{
    private static readonly Lazy<string> Cli = new(RestoreCli);
    private static readonly Lazy<JsonObject> Compiled = new(() => Compile(Path.Combine(RepoRoot.Path, "infra", "main.bicep")));

    public static string Folder => Path.Combine(RepoRoot.Path, "infra");

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(RepoRoot.Path, relativePath));

    /// <summary>infra/main.bicep as ARM JSON.</summary>
    public static JsonObject Main => Compiled.Value;

    /// <summary>The nested template of the module main.bicep declares as <paramref name="symbol"/>.</summary>
    public static JsonObject Module(string symbol) => Main["resources"]![symbol]!["properties"]!["template"]!.AsObject();

    /// <summary>The resources of a compiled template, whether it lists them (array) or names them (symbolic names).</summary>
    public static IEnumerable<JsonObject> Resources(JsonObject template) => template["resources"] switch
    {
        JsonArray list => list.Select(r => r!.AsObject()),
        JsonObject named => named.Select(kv => kv.Value!.AsObject()),
        _ => [],
    };

    public static YamlMappingNode Yaml(string relativePath)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(Read(relativePath)));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    public static YamlNode At(this YamlNode node, params string[] path) =>
        path.Aggregate(node, (n, key) => ((YamlMappingNode)n).Children[new YamlScalarNode(key)]);

    private static JsonObject Compile(string template)
    {
        var start = new ProcessStartInfo(Cli.Value, ["build", template, "--stdout"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var json = process.StandardOutput.ReadToEndAsync();
        var diagnostics = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0 && diagnostics.Result.Length == 0, $"bicep build {template}:\n{diagnostics.Result}");
        return JsonNode.Parse(json.Result)!.AsObject();
    }

    private static string RestoreCli()
    {
        var project = Path.Combine(Folder, "tools", "bicep-cli.csproj");
        var version = CliVersion().Match(File.ReadAllText(project)).Groups[1].Value;
        var (code, output) = Hosting.FunctionAppLayoutTests.Run("dotnet", ["restore", project, "--verbosity", "quiet"], RepoRoot.Path, TimeSpan.FromMinutes(3));
        Assert.True(code == 0, "restoring the Bicep CLI failed:\n" + output);
        var (_, locals) = Hosting.FunctionAppLayoutTests.Run("dotnet", ["nuget", "locals", "global-packages", "--list"], RepoRoot.Path, TimeSpan.FromMinutes(1));
        var packages = locals.Trim().Replace("global-packages:", "", StringComparison.Ordinal).Trim();
        var cli = Path.Combine(packages, "azure.bicep.commandline.linux-x64", version, "tools", "bicep");
        Assert.True(File.Exists(cli), $"no Bicep CLI at {cli}");
        return cli;
    }

    [GeneratedRegex("\"Azure.Bicep.CommandLine.linux-x64\" Version=\"\\[([^]]+)\\]\"")]
    private static partial Regex CliVersion();
}
