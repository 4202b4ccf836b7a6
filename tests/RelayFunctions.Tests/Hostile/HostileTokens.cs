using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// Bearer credentials an attacker can present: expired, not yet valid, unsigned (alg none), re-signed with a guessed key,
/// a valid signature over a payload that was swapped, the wrong audience or issuer, roles that only look like the operator
/// role, and plain garbage. Only the operator and the attackers' own tokens are valid; none of these may act as anyone.
/// </summary>
internal static class HostileTokens
{
    /// <summary>A token the app trusts, with any claims at all.</summary>
    public static string Signed(IEnumerable<Claim> claims, DateTime? expires = null, DateTime? notBefore = null, string issuer = TestTokens.Issuer,
        string audience = TestTokens.Audience, byte[]? key = null)
    {
        var expiry = expires ?? DateTime.UtcNow.AddHours(1);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = (notBefore ?? expiry.AddHours(-2)),
            NotBefore = notBefore ?? expiry.AddHours(-2),
            Expires = expiry,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? TestTokens.Key), SecurityAlgorithms.HmacSha256),
        });
    }

    private static Claim[] Account(string account, params (string Type, string Value)[] extra) =>
        [new("sub", account), new("account", account), .. extra.Select(e => new Claim(e.Type, e.Value))];

    /// <summary>A bearer credential that must not authenticate as anybody, naming <paramref name="account"/> in some way.</summary>
    public static (string Kind, string Header) Invalid(Random rng, string account) => rng.Next(14) switch
    {
        0 => ("expired", "Bearer " + Signed(Account(account), expires: DateTime.UtcNow.AddHours(-1))),
        1 => ("not-yet-valid", "Bearer " + Signed(Account(account), expires: DateTime.UtcNow.AddHours(3), notBefore: DateTime.UtcNow.AddHours(1))),
        2 => ("alg-none", "Bearer " + Unsigned(account, "none")),
        3 => ("alg-none-upper", "Bearer " + Unsigned(account, "None")),
        4 => ("forged-key", "Bearer " + TestTokens.Forged(account)),
        5 => ("swapped-payload", "Bearer " + SwapPayload(account)),
        6 => ("wrong-audience", "Bearer " + Signed(Account(account), audience: "someone-else")),
        7 => ("wrong-issuer", "Bearer " + Signed(Account(account), issuer: "https://evil.example/")),
        8 => ("hs512-forged", "Bearer " + Unsigned(account, "HS512") + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(64))),
        9 => ("truncated", "Bearer " + TestTokens.For(account)[..^5]),
        10 => ("basic", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(account + ":password"))),
        11 => ("empty-key", "Bearer " + Signed(Account(account), key: new byte[32])),
        12 => ("garbage", rng.Pick(["Bearer", "Bearer ", "Bearer a.b.c", "Bearer ..", "Bearer " + new string('A', 9000), "bearer x",
            "Bearer \u0442\u043e\u043a\u0435\u043d", "Negotiate abc", "Bearer eyJhbGciOiJub25lIn0.e30.", ""])),
        _ => ("double-bearer", "Bearer " + TestTokens.For("mallory") + " Bearer " + TestTokens.For(account)),
    };

    /// <summary>Valid tokens of a non-operator whose roles try to look like the operator's.</summary>
    public static (string Kind, string Header) SpoofedRole(Random rng, string account)
    {
        var (type, value) = rng.Pick<(string, string)>(
        [
            ("role", "Operator"), ("role", "OPERATOR"), ("role", "operator "), ("role", " operator"), ("role", "operator\u200b"),
            ("role", "\u043eperator"), ("role", "admin"), ("Role", "operator"), ("scp", "operator"), ("groups", "operator"),
            ("wids", "operator"), ("roles ", "operator"), ("role", "operators"), ("role", "operator,admin"), ("role", "[\"operator\"]"),
        ]);
        return ("spoofed-role " + type + "=" + value, "Bearer " + Signed(Account(account, (type, value))));
    }

    private static string Unsigned(string account, string alg)
    {
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"{{alg}}","typ":"JWT"}"""));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            $$"""{"sub":"{{account}}","account":"{{account}}","role":"operator","iss":"{{TestTokens.Issuer}}","aud":"{{TestTokens.Audience}}","nbf":{{now - 60}},"exp":{{now + 3600}}}"""));
        return $"{header}.{payload}.";
    }

    /// <summary>The attacker's own valid token with its payload replaced: the signature no longer covers what it carries.</summary>
    private static string SwapPayload(string account)
    {
        var mine = TestTokens.For("mallory").Split('.');
        var theirs = Signed(Account(account, ("role", "operator")), key: RandomNumberGenerator.GetBytes(32)).Split('.');
        return $"{mine[0]}.{theirs[1]}.{mine[2]}";
    }
}
