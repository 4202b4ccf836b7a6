using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RelayAgent;

/// <summary>
/// The agent's own spans and instruments, under the service name <see cref="Name"/>: <see cref="RelayShared.Telemetry"/> exports an
/// ActivitySource and a Meter of that name when OTLP or Azure Monitor is configured, and they cost nothing otherwise.
/// </summary>
public sealed class AgentTelemetry
{
    public const string Name = "RelayAgent";

    public static readonly ActivitySource Source = new(Name);

    private readonly Counter<long> _applied;
    private readonly Histogram<double> _applyDuration;
    private readonly Counter<long> _released;
    private readonly Counter<long> _pollFailures;
    private readonly Counter<long> _updates;
    private long _generation;

    public AgentTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        _applied = meter.CreateCounter<long>("relay_agent.generations.applied", "{generation}", "Relay map generations applied to Postfix");
        _applyDuration = meter.CreateHistogram<double>("relay_agent.apply.duration", "s", "Time to build the tables, reload Postfix and release held mail");
        _released = meter.CreateCounter<long>("relay_agent.domains.released", "{domain}", "Domains whose held mail was released (postqueue -s)");
        _updates = meter.CreateCounter<long>("relay_agent.updates", "{update}", "Updates downloaded, by path: deltas from the applied generation, or the snapshot (a fallback)");
        _pollFailures = meter.CreateCounter<long>("relay_agent.poll.failures", "{failure}", "Polls that failed to read, verify or apply the map");
        // A relay that falls behind the published generation shows here before anyone reads the report table.
        meter.CreateObservableGauge("relay_agent.generation", () => Interlocked.Read(ref _generation), "{generation}", "Relay map generation applied on this relay");
    }

    public void Current(long generation) => Interlocked.Exchange(ref _generation, generation);

    public void Applied(long generation, int released, TimeSpan duration)
    {
        Current(generation);
        _applied.Add(1);
        _released.Add(released);
        _applyDuration.Record(duration.TotalSeconds);
    }

    public void PollFailed() => _pollFailures.Add(1);

    /// <summary>An update about to be applied: <c>path</c> is <c>delta</c> when the chain was followed, <c>snapshot</c> otherwise.</summary>
    public void Update(MapUpdate update) => _updates.Add(1, new KeyValuePair<string, object?>("path", update.Snapshot is null ? "delta" : "snapshot"));
}
