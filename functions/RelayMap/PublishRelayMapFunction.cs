using Microsoft.Extensions.Options;
using RelayFunctions.Hosting;

namespace RelayFunctions.RelayMap;

/// <summary>
/// Timer trigger, the safety net: republishes at least every safety interval (relays that missed a generation catch up,
/// and the pointer's age shows the publisher is alive), and publishes a change whose message was lost.
/// </summary>
public sealed class PublishRelayMapFunction(RelayMapPublication publication, IOptions<RelayMapOptions> options) : ITimerFunction
{
    public const string FunctionName = "PublishRelayMap";

    public string Name => FunctionName;

    public string Schedule => options.Value.Schedule;

    public Task RunAsync(TimerInfo timer, CancellationToken cancellationToken) => publication.RunAsync(cancellationToken);
}
