namespace RelayFunctions.RelayMap;

public sealed class RelayMapOptions
{
    public const string Section = "RelayMap";

    /// <summary>How often the publisher looks for changes; a burst of changes in between becomes one generation.</summary>
    public string Schedule { get; set; } = "*/5 * * * * *";

    /// <summary>A generation is published at least this often even without changes.</summary>
    public TimeSpan SafetyInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Generations kept for relays that are behind; older ones are pruned.</summary>
    public int KeepGenerations { get; set; } = 10;

    /// <summary>Next hop of the hold transport: a dead loopback port, so a forced flush can never deliver or bounce.</summary>
    public string HoldNextHop { get; set; } = "[127.0.0.1]:9";
}
