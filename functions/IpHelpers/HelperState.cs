using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using RelayFunctions.Domains;

namespace RelayFunctions.IpHelpers;

/// <summary>
/// What a helper's index entry carries for its next check, written by the check that made the entry: the helper's
/// ETag after that check, its settings, the domain's routing as that check left it, and the last outcome. A check
/// that gets it reads nothing: it resolves, decides, and records its result over exactly that ETag. Any write to the
/// helper since (an API edit, "check now", an edit of the domain's routing, which touches the helper) changes the
/// ETag, the record fails, and the check reads the helper and the domain as they are now. So the state only ever
/// saves reads; it never decides anything on its own.
/// </summary>
public sealed record HelperState(
    [property: JsonPropertyName("e")] string ETag,
    [property: JsonPropertyName("h")] string Host,
    [property: JsonPropertyName("p")] int Port,
    [property: JsonPropertyName("al")] bool AlertOnChange,
    [property: JsonPropertyName("v6")] bool AllowIpv6,
    [property: JsonPropertyName("m")] string Mode,
    [property: JsonPropertyName("dh")] string? DestinationHost,
    [property: JsonPropertyName("dp")] int? DestinationPort,
    [property: JsonPropertyName("o")] string? LastOutcome,
    [property: JsonPropertyName("ad")] IReadOnlyList<string> Addresses)
{
    public static HelperState From(IpHelper helper, Routing routing) => new(
        helper.ETag.ToString(), helper.Settings.Host.Value, helper.Settings.Port, helper.Settings.AlertOnChange, helper.Settings.AllowIpv6,
        DomainModes.ToName(routing.Mode), routing.Destination?.Host, routing.Destination?.Port,
        helper.Status.LastOutcome is { } kind ? CheckOutcome.Name(kind) : null, helper.Status.Addresses.Select(a => a.ToString()).ToList());

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>The state, or null for none or one that does not parse (then the check reads what it needs).</summary>
    public static HelperState? TryParse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            var state = JsonSerializer.Deserialize<HelperState>(json);
            return state is { ETag.Length: > 0, Host: not null, Mode: not null, Addresses: not null }
                && DomainName.TryParse(state.Host, out var host, out _) && host.Value == state.Host
                && IpHelpers.Routing.FromStored(state.Mode, state.DestinationHost, state.DestinationPort) is not null
                && state.Addresses.All(a => IPAddress.TryParse(a, out _))
                ? state
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [JsonIgnore]
    public Routing Routing => IpHelpers.Routing.FromStored(Mode, DestinationHost, DestinationPort)!;

    /// <summary>The helper as this state knows it, in the entry <paramref name="bucket"/>/<paramref name="nonce"/>.</summary>
    public IpHelper ToHelper(string accountId, DomainName domain, string bucket, string nonce)
    {
        Enum.TryParse<OutcomeKind>(LastOutcome, ignoreCase: true, out var outcome);
        var status = new HelperStatus(null, LastOutcome is null ? null : outcome, Addresses.Select(IPAddress.Parse).ToList(), null, null);
        return new IpHelper(accountId, domain, new HelperSettings(DomainName.Parse(Host), Port, AlertOnChange, AllowIpv6), status,
            default, false, bucket, nonce, null, false, null, default, default, new ETag(ETag));
    }
}
