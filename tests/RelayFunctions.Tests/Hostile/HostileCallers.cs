using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hostile;

/// <summary>Who sends a request: the operator, an attacker with its own valid token, or a stranger with a credential that must fail.</summary>
internal static class HostileCallers
{
    private static readonly Dictionary<string, string> Tokens = new(StringComparer.Ordinal);

    internal static (string Caller, CallerKind Kind, string? Auth, string? Account) Operator() =>
        ("operator", CallerKind.Operator, "Bearer " + Token(Cast.Operator, "operator"), null);

    internal static (string, CallerKind, string?, string?) Attacker(Random rng)
    {
        var account = rng.Chance(0.7) ? Cast.Attackers[0] : Cast.Attackers[1];
        return (account, CallerKind.Attacker, "Bearer " + Token(account), account);
    }

    internal static (string, CallerKind, string?, string?) Anyone(Random rng) => rng.Next(3) switch
    {
        0 => ("anonymous", CallerKind.Stranger, null, null),
        1 => Operator(),
        _ => Attacker(rng),
    };

    internal static (string, CallerKind, string?, string?) AnyCaller(Random rng)
    {
        var roll = rng.Next(100);
        if (roll < 50)
        {
            return Attacker(rng);
        }
        if (roll < 62)
        {
            return Operator();
        }
        if (roll < 68)
        {
            return ("anonymous", CallerKind.Stranger, null, null);
        }
        if (roll < 72)
        {
            return ("unregistered", CallerKind.Stranger, "Bearer " + Token(Cast.Unregistered), null);
        }
        if (roll < 75)
        {
            // Claims the app must not read as the victim, nor as anyone registered.
            var claim = rng.Pick(["vi\u0441tim", "victim\u200b", "victim/..", "", "victim@x", "*", "victim\u0000"]);
            return ("odd account claim", CallerKind.Stranger, "Bearer " + HostileTokens.Signed([new("sub", "x"), new("account", claim)]), null);
        }
        if (roll < 80)
        {
            var (spoof, header) = HostileTokens.SpoofedRole(rng, Cast.Attackers[0]);
            return (spoof, CallerKind.Attacker, header, Cast.Attackers[0]);
        }
        var (kind, invalid) = HostileTokens.Invalid(rng, rng.Chance(0.5) ? Cast.Victim : rng.Pick(Cast.Attackers));
        return (kind, CallerKind.Stranger, invalid, null);
    }

    internal static string Token(string account, params string[] roles)
    {
        var key = account + "|" + string.Join(',', roles);
        lock (Tokens)
        {
            if (!Tokens.TryGetValue(key, out var token))
            {
                Tokens[key] = token = TestTokens.For(account, roles);
            }
            return token;
        }
    }
}
