using System.Text;
using RelayFunctions.Tests.Infrastructure;
using static RelayFunctions.Tests.Hostile.HostileCallers;
using static RelayFunctions.Tests.Hostile.HostilePaths;

namespace RelayFunctions.Tests.Hostile;

/// <summary>The scenarios of the run: requests with a purpose beyond a random mutation.</summary>
internal sealed partial class RequestGenerator
{
    /// <summary>Every eighth request, while they last: each value of the hostile pools in each body field it fits, once.</summary>
    private readonly IReadOnlyList<(Route Route, BodyField Field, Func<BodyContext, Json> Value)> _sweep =
    [
        .. from route in routes
           where route.Host == Functions && route.Body is not null
           from field in route.Body!
           from value in HostileBodies.Sweep(field, HostNames(route))
           select (route, field, value),
    ];

    /// <summary>
    /// Every fourth request of each eight, while they last: an attacker registers look-alikes of each of the victim's names,
    /// then the operator vouches for each. For a name that looks like one the victim holds, neither may succeed.
    /// </summary>
    private readonly IReadOnlyList<(string Name, bool Verify)> _lookAlikes =
    [
        .. Cast.VictimExposed.SelectMany(HostileValues.LookAlikes).Select(n => (n, false)),
        .. Cast.VictimExposed.SelectMany(HostileValues.LookAlikes).Select(n => (n, true)),
    ];

    /// <summary>
    /// One value of the sweep in an otherwise valid request, every other one on the standalone host. New domains get a
    /// name of their own, so that an accepted value is stored rather than refused as a duplicate.
    /// </summary>
    private HostileRequest Sweep(Random rng, int index, (Route Route, BodyField Field, Func<BodyContext, Json> Value) item)
    {
        var route = index / 8 % 2 == 0 ? item.Route : routes.First(r => r.Host == Standalone && r.Method == item.Route.Method && r.Pattern == item.Route.Pattern);
        var (caller, kind, auth, account) = route.IsAdmin ? Operator() : (Cast.Attackers[0], CallerKind.Attacker, "Bearer " + Token(Cast.Attackers[0]), Cast.Attackers[0]);
        var domain = route.Pattern.EndsWith("/ip-helper", StringComparison.Ordinal) ? Cast.SweepDomains[1]
            : route.Method == "PATCH" ? Cast.SweepDomains[0] : $"s{index}.mallory-sweep.example";
        var values = route.Parameters.ToDictionary(p => p, p => p == "name" ? domain : Cast.Extra[index / 8 % Cast.Extra.Length]);
        var context = new BodyContext(account ?? Cast.Extra[0], domain, _ => domain, HostNames(route));
        var (body, mutation) = HostileBodies.OneBadValue(rng, route.Body!, context, item.Field, item.Value(context));
        return new HostileRequest(index, route.Host, route.Method, Fill(route.Pattern, values, rng, hostile: false), route.Key, caller, kind, "sweep, " + mutation)
        {
            Account = account,
            Authorization = auth,
            Body = body,
            ContentType = "application/json",
        };
    }

    private HostileRequest LookAlike(int index, (string Name, bool Verify) item)
    {
        var host = index / 8 % 2 == 0 ? Functions : Standalone;
        if (item.Verify)
        {
            var (caller, kind, auth, _) = Operator();
            return new HostileRequest(index, host, "POST", $"/api/admin/accounts/{Cast.Attackers[0]}/domains/{Uri.EscapeDataString(item.Name)}/verify",
                $"{host} POST /api/admin/accounts/{{accountId}}/domains/{{name}}/verify", caller, kind, "look-alike of the victim's name verified")
            { Authorization = auth };
        }
        var body = Json.Object(("name", new Json.Str(item.Name)), ("mode", new Json.Str("hold"))).ToBytes();
        return new HostileRequest(index, host, "POST", "/api/domains", $"{host} POST /api/domains", Cast.Attackers[0], CallerKind.Attacker, "look-alike of the victim's name")
        {
            Account = Cast.Attackers[0],
            Authorization = "Bearer " + Token(Cast.Attackers[0]),
            Body = body,
            ContentType = "application/json",
        };
    }

    /// <summary>
    /// An attacker's otherwise valid request about one of the victim's names, in any disguise, or a name above or below
    /// one, sometimes with one of the victim's ETags: the answer must be as if the victim did not exist.
    /// </summary>
    private static HostileRequest VictimProbe(Random rng, int index, Route route)
    {
        var (caller, kind, auth, account) = rng.Chance(0.8) ? Attacker(rng) : Operator();
        var target = rng.Pick(Cast.VictimExposed);
        var name = rng.Next(4) switch
        {
            0 => target,
            1 => HostileValues.Disguise(rng, target),
            2 => rng.Pick(["mail.", "a.b.", "lists."]) + target,
            _ => target[(target.IndexOf('.', StringComparison.Ordinal) + 1)..] is var parent && parent.Contains('.') ? parent : "x." + target,
        };
        var values = route.Parameters.ToDictionary(p => p, p => p switch
        {
            "name" => name,
            "accountId" => rng.Pick([.. Cast.Attackers, .. Cast.Extra]),
            _ => "v1",
        });
        byte[]? body = null;
        if (route.Body is { } fields)
        {
            (body, _) = HostileBodies.Valid(rng, fields, new BodyContext(account ?? Cast.Extra[0], name, r => name, HostNames(route)));
        }
        return new HostileRequest(index, route.Host, route.Method, Fill(route.Pattern, values, rng, hostile: false), route.Key, caller, kind, "victim's name")
        {
            Account = account,
            Authorization = auth,
            Body = body,
            ContentType = body is null ? null : "application/json",
            Headers = rng.Chance(0.4) ? [new("If-Match", HostileRequest.VictimETag)] : [],
        };
    }

    private HostileRequest Invocation(Random rng, int index, string host)
    {
        var isTimer = rng.Chance(0.3);
        var function = isTimer ? rng.Pick(timers) : rng.Pick(queues);
        var name = rng.Next(20) switch
        {
            0 => function.ToLowerInvariant(),
            1 => rng.Pick(["api", "health", "Api", "%2e%2e", "CheckHelpers%2Fx", "Nope", "", "\u00e9", new string('f', 3000), "PublishRelayMap%00"]),
            _ => function,
        };
        var (body, mutation) = isTimer ? InvocationBodies.Timer(rng) : InvocationBodies.Queue(rng, null);
        var late = !isTimer && rng.Chance(0.35) ? rng.Pick(InvocationBodies.Encodings) : null;
        var headers = new List<KeyValuePair<string, string>> { new("X-Azure-Functions-InvocationId", rng.Chance(0.9) ? InvocationBodies.Hex(rng, 32) : rng.Pick(["", "\u00e9", new string('i', 5000)])) };
        var request = new HostileRequest(index, host, rng.Chance(0.93) ? "POST" : rng.Pick(HostileValues.Methods), "/" + Percent(name, rng),
            host == Functions ? $"{host} POST /{{functionName}}" : $"{host} POST /{{functionName}} (not mapped standalone)",
            "functions host", CallerKind.FunctionsHost, late is null ? mutation : "queued or forged message as " + late)
        {
            Headers = headers,
            Body = body,
            ContentType = rng.Chance(0.9) ? "application/json" : rng.Pick(HostileValues.ContentTypes),
            LateMessage = late,
        };
        return rng.Chance(0.05) ? request with { Authorization = "Bearer " + TestTokens.For("mallory") } : request;
    }

    /// <summary>Five identical conditional deletes or patches at once, on a domain or helper made for the purpose.</summary>
    private HostileRequest Race(Random rng, int index, string host)
    {
        var (caller, kind, auth, account) = Attacker(rng);
        var target = rng.Pick(["domain", "patch", "helper"]);
        var domain = $"race{index}.{account}-races.example";
        var path = target == "helper" ? $"/api/domains/{domain}/ip-helper" : $"/api/domains/{domain}";
        var ifMatch = rng.Pick([HostileRequest.OwnETag, HostileRequest.OwnETag, "*", ""]);
        return new HostileRequest(index, host, target == "patch" ? "PATCH" : "DELETE", path, $"race {target}", caller, kind, "race " + target)
        {
            Account = account,
            Authorization = auth,
            Burst = 5,
            Headers = ifMatch.Length == 0 ? [] : [new("If-Match", ifMatch)],
            Body = target == "patch" ? Encoding.UTF8.GetBytes($"{{\"recipients\":[\"r{rng.Next(100)}@{domain}\"]}}") : null,
            ContentType = target == "patch" ? "application/merge-patch+json" : null,
        };
    }
}
