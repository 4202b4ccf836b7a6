namespace RelayAgent;

internal static class Program
{
    private static void Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddRelayAgent(builder.Configuration);
        builder.Build().Run();
    }
}
