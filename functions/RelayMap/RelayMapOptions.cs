using RelayFunctions.Hosting;

namespace RelayFunctions.RelayMap;

public sealed class RelayMapOptions
{
    public const string Section = "RelayMap";

    /// <summary>
    /// Standalone schedule of the <c>PublishRelayMap</c> safety timer; the default is the literal schedule of its
    /// function.json, which is what the Functions host runs. Changes are published as they happen (a queue message),
    /// so this only bounds how long a lost message can delay one, and how often the safety republish is looked at.
    /// </summary>
    public string Schedule { get; set; } = "0 */5 * * * *";

    /// <summary>A generation is published at least this often even without changes.</summary>
    public TimeSpan SafetyInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// A snapshot is written after this many deltas (streamed from the previous one and the deltas since); the
    /// generations before it are then pruned, and a relay that is further behind applies the snapshot.
    /// </summary>
    public int SnapshotAfter { get; set; } = 100;

    /// <summary>A snapshot is also written when the latest one is older than this.</summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Next hop of the hold transport: a dead loopback port, so a forced flush can never deliver or bounce.</summary>
    public string HoldNextHop { get; set; } = "[127.0.0.1]:9";

    public static void Check(RelayMapOptions o, SettingErrors errors)
    {
        errors.Schedule(o.Schedule, nameof(Schedule));
        errors.Positive(o.SafetyInterval, nameof(SafetyInterval));
        errors.Require(o.SnapshotAfter is >= 1 and <= 10_000, nameof(SnapshotAfter), $"must be from 1 to 10000 (is {o.SnapshotAfter}).");
        errors.Positive(o.SnapshotInterval, nameof(SnapshotInterval));
        errors.Require(IsNextHop(o.HoldNextHop), nameof(HoldNextHop), $"'{o.HoldNextHop}' is not a Postfix next hop of the form [address]:port.");
    }

    private static bool IsNextHop(string? text)
    {
        var close = text?.LastIndexOf("]:", StringComparison.Ordinal) ?? -1;
        return text is not null && text.StartsWith('[') && close > 1
            && Destinations.IpAddresses.TryParse(text[1..close], out _)
            && int.TryParse(text[(close + 2)..], out var port) && port is >= 1 and <= 65535;
    }
}
