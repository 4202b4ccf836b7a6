using RelayFunctions.Hosting;

namespace RelayAgent;

internal static class Program
{
    private static void Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddSystemd();
        builder.AddRelayTelemetry(AgentTelemetry.Name);
        builder.Services.AddRelayAgent(builder.Configuration);
        builder.Build().Run();
    }
}
