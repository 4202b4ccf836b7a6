using System.Text.Json.Serialization;
using Azure;

namespace RelayFunctions.Accounts;

/// <summary>Service levels, lowest first; some features depend on the level (e.g. alternate IP filters from Standard).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ServiceLevel>))]
public enum ServiceLevel
{
    [JsonStringEnumMemberName("personal")]
    Personal,

    [JsonStringEnumMemberName("personal-plus")]
    PersonalPlus,

    [JsonStringEnumMemberName("standard")]
    Standard,

    [JsonStringEnumMemberName("professional")]
    Professional,

    [JsonStringEnumMemberName("enterprise")]
    Enterprise,
}

public static class ServiceLevels
{
    private static readonly Dictionary<string, ServiceLevel> ByName = Enum.GetValues<ServiceLevel>()
        .ToDictionary(l => Normalize(l.ToString()), StringComparer.Ordinal);

    public static string[] Names { get; } = ["personal", "personal-plus", "standard", "professional", "enterprise"];

    /// <summary>Accepts "Personal Plus", "personal-plus", "PersonalPlus" alike.</summary>
    public static bool TryParse(string? text, out ServiceLevel level) =>
        ByName.TryGetValue(Normalize(text ?? ""), out level);

    public static string ToName(ServiceLevel level) => Names[(int)level];

    private static string Normalize(string s) => new(s.Where(char.IsLetter).Select(char.ToLowerInvariant).ToArray());
}

/// <summary>A customer account, created by an operator; the owner edits only its own preferences.</summary>
public sealed record Account(
    string Id,
    ServiceLevel ServiceLevel,
    EmailAddress PrimaryEmail,
    EmailAddress? AlertEmail,
    EmailAddress? PostmasterEmail,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    ETag ETag);

/// <summary>What an operator sets on an account.</summary>
public sealed record AccountSettings(ServiceLevel ServiceLevel, EmailAddress PrimaryEmail, EmailAddress? AlertEmail, EmailAddress? PostmasterEmail);
