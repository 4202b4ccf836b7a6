using Microsoft.Extensions.Configuration.Memory;

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
        var values = new ConfigurationBuilder().AddJsonFile(path).Build().AsEnumerable()
            .Where(kv => kv.Value is not null)
            .Select(kv => new KeyValuePair<string, string?>($"{Section}:{kv.Key}", kv.Value))
            .ToList();
        // Inserted first, so every later source (environment, command line, test settings) wins.
        ((IConfigurationBuilder)configuration).Sources.Insert(0, new MemoryConfigurationSource { InitialData = values });
    }
}
