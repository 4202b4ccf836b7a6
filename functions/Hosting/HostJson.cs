using Microsoft.Extensions.Configuration.Json;

namespace RelayFunctions.Hosting;

/// <summary>
/// Reads host.json into configuration under <c>AzureFunctionsJobHost</c>, where the Functions host puts it,
/// so the standalone runners use the same queue settings as the host. Settings named
/// <c>AzureFunctionsJobHost__…</c> in the environment still override it.
/// </summary>
public static class HostJson
{
    public const string Section = "AzureFunctionsJobHost";

    public static void AddTo(IConfigurationManager configuration, string contentRoot)
    {
        var path = new[] { AppContext.BaseDirectory, contentRoot }.Select(d => Path.Combine(d, "host.json")).FirstOrDefault(File.Exists);
        if (path is null)
        {
            return;
        }
        var provider = new JsonConfigurationProvider(new JsonConfigurationSource { Path = Path.GetFileName(path), FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetDirectoryName(path)!) });
        var root = new ConfigurationRoot([provider]);
        var values = root.AsEnumerable()
            .Where(kv => kv.Value is not null && configuration[$"{Section}:{kv.Key}"] is null)
            .Select(kv => new KeyValuePair<string, string?>($"{Section}:{kv.Key}", kv.Value));
        // Inserted first, so every later source (environment, command line, test settings) wins.
        var sources = ((IConfigurationBuilder)configuration).Sources;
        sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = values.ToList() });
    }
}
