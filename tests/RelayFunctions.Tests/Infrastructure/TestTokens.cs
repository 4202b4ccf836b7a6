using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RelayFunctions.Tests.Infrastructure;

/// <summary>Signs bearer tokens the way `dotnet user-jwts` does: a symmetric key the app trusts through configuration.</summary>
public static class TestTokens
{
    public const string Issuer = "relay-tests";
    public const string Audience = "relay-api";
    public static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    public static IEnumerable<KeyValuePair<string, string?>> Settings() =>
    [
        new("Authentication:Schemes:Bearer:ValidIssuer", Issuer),
        new("Authentication:Schemes:Bearer:ValidAudiences:0", Audience),
        new("Authentication:Schemes:Bearer:SigningKeys:0:Issuer", Issuer),
        new("Authentication:Schemes:Bearer:SigningKeys:0:Value", Convert.ToBase64String(Key)),
    ];

    public static string For(string? account, params string[] roles) => Create(account, roles, Key);

    /// <summary>A token signed with a key the app does not trust.</summary>
    public static string Forged(string account) => Create(account, [], RandomNumberGenerator.GetBytes(32));

    private static string Create(string? account, string[] roles, byte[] key)
    {
        var claims = new List<Claim> { new("sub", account ?? "nobody") };
        if (account is not null)
        {
            claims.Add(new Claim("account", account));
        }
        claims.AddRange(roles.Select(r => new Claim("role", r)));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity(claims),
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });
    }
}
