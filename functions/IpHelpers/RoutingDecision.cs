using System.Net;
using RelayFunctions.Domains;

namespace RelayFunctions.IpHelpers;

/// <summary>A domain's routing: its mode and where redirected mail goes.</summary>
public sealed record Routing(DomainMode Mode, Destination? Destination)
{
    public static Routing Of(DomainSettings settings) => new(settings.Mode, settings.Destination);

    /// <summary>From stored columns; null when the mode is missing or unknown.</summary>
    public static Routing? FromStored(string? mode, string? host, int? port) =>
        DomainModes.TryParse(mode, out var m)
            ? new Routing(m, host is not null && port is not null ? new Destination(host, port.Value) : null)
            : null;

    public string Describe() => Mode switch
    {
        DomainMode.Redirect => $"SMTP Redirection to {Format(Destination)}",
        DomainMode.Hold => "Accept and Hold Messages",
        _ => "Secondary MX",
    };

    private static string Format(Destination? d) =>
        d is null ? "(nowhere)" : d.Address?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{d.Host}]:{d.Port}" : $"{d.Host}:{d.Port}";
}

/// <summary>The helper's rules for turning a check into routing and a next check time.</summary>
public static class RoutingDecision
{
    /// <summary>
    /// Resolved: redirect to one of the valid addresses on the helper's port, keeping the address in use when it
    /// is still offered (no needless churn), else one at random. Failed or invalid: hold, keeping the last
    /// destination as the harmless next hop of held mail.
    /// </summary>
    public static Routing Decide(CheckOutcome outcome, Routing current, int port, Random random)
    {
        if (outcome.Kind != OutcomeKind.Resolved)
        {
            return current with { Mode = DomainMode.Hold };
        }
        if (current is { Mode: DomainMode.Redirect, Destination: { } inUse }
            && inUse.Port == port
            && IPAddress.TryParse(inUse.Host, out var address)
            && outcome.Addresses.Contains(address))
        {
            return current;
        }
        var pick = outcome.Addresses[random.Next(outcome.Addresses.Count)];
        return new Routing(DomainMode.Redirect, new Destination(pick.ToString(), port));
    }

    public static DateTimeOffset NextCheck(CheckOutcome outcome, DateTimeOffset now, HelperOptions options) => outcome.Kind switch
    {
        OutcomeKind.Resolved => now + Clamp(TimeSpan.FromSeconds(outcome.Ttl ?? 0), options.MinimumInterval, options.MaximumInterval),
        OutcomeKind.Failed => now + options.FailedRetry,
        _ => now + options.InvalidRetry,
    };

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) => value < min ? min : value > max ? max : value;
}
