using RelayAgent.Submission;
using RelayShared;

namespace RelayAgent;

internal static class Program
{
    /// <summary>
    /// The agent's service (no arguments), or one of the commands Postfix's pipe services run for a single message:
    /// <c>filter</c> (<see cref="SubmissionFilter"/>) and <c>bounce</c> (<see cref="BounceCommand"/>). The commands start
    /// no host: they run once a message and must start fast.
    /// </summary>
    private static int Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "filter":
                return SubmissionFilter.RunAsync(args[1..], Console.OpenStandardInput(), Console.Error, CancellationToken.None).GetAwaiter().GetResult();
            case "bounce":
                return BounceCommand.RunAsync(args[1..], Console.OpenStandardInput(), Console.Error, CancellationToken.None).GetAwaiter().GetResult();
        }
        RunService(args);
        return 0;
    }

    /// <summary>A method of its own, so the commands above never load the hosting assemblies (they start faster).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void RunService(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddSystemd();
        builder.AddRelayTelemetry(AgentTelemetry.Name);
        builder.Services.AddRelayAgent(builder.Configuration);
        builder.Build().Run();
    }
}
