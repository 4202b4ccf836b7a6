using static RelayFunctions.Tests.Hostile.HostileCallers;
using static RelayFunctions.Tests.Hostile.HostilePaths;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// Request number <c>i</c> of seed <c>s</c>, always the same: each request draws from its own <see cref="Random"/>
/// seeded by both, so one request can be made again without the thousands before it. One in eight is the next value of the
/// sweep and one in eight the next look-alike of a victim's name (while they last). Of the others, on either host: 13%
/// custom-handler invocations, 1.5% races, 2.5% unknown routes, 8% probes of the victim's names, 17% valid requests
/// (they build the state the others attack), 20% valid but for one body field, and 38% that mutate the caller, the path,
/// the method, the query, the headers or the body.
/// </summary>
internal sealed partial class RequestGenerator(int seed, IReadOnlyList<Route> routes, IReadOnlyList<string> timers, IReadOnlyList<string> queues)
{
    public const string Functions = "functions-host";
    public const string Standalone = "standalone";

    public HostileRequest Create(int index)
    {
        var rng = new Random(unchecked((seed * 1_000_003) + index));
        if (index % 8 == 0 && index / 8 < _sweep.Count)
        {
            return Sweep(rng, index, _sweep[index / 8]);
        }
        if (index % 8 == 4 && index / 8 < _lookAlikes.Count)
        {
            return LookAlike(index, _lookAlikes[index / 8]);
        }
        var host = rng.Chance(0.3) ? Standalone : Functions;
        var roll = rng.NextDouble();
        if (roll < 0.13)
        {
            return Invocation(rng, index, host);
        }
        if (roll < 0.145)
        {
            return Race(rng, index, host);
        }
        if (roll < 0.17)
        {
            return Unknown(rng, index, host);
        }
        var candidates = routes.Where(r => r.Host == host && !r.IsInvocation).ToList();
        if (roll < 0.25)
        {
            return VictimProbe(rng, index, rng.Pick(candidates.Where(r => r.Parameters.Contains("name") || r.Body?.Any(f => f.Name == "name") == true).ToList()));
        }
        if (roll < 0.42)
        {
            return Valid(rng, index, rng.Pick(candidates), oneBadValue: false);
        }
        if (roll < 0.62)
        {
            return Valid(rng, index, rng.Pick(candidates.Where(r => r.Body is not null).ToList()), oneBadValue: true);
        }
        return Hostile(rng, index, rng.Pick(candidates));
    }

    /// <summary>A request a client of the API could send; with <paramref name="oneBadValue"/>, all but one body field valid.</summary>
    private HostileRequest Valid(Random rng, int index, Route route, bool oneBadValue)
    {
        var (caller, kind, auth, account) = route.IsAdmin ? Operator() : route.Anonymous ? Anyone(rng) : Attacker(rng);
        var domain = rng.Pick(Cast.OwnNames(account ?? Cast.Attackers[0]));
        if (oneBadValue && route.Body?.Any(f => f.Name == "name") == true)
        {
            // A name of its own: an accepted bad value is stored, not refused because the name is taken.
            domain = $"b{index}.{account}-fresh.example";
        }
        var values = route.Parameters.ToDictionary(p => p, p => p switch
        {
            "name" => domain,
            "accountId" => rng.Pick([.. Cast.Attackers, .. Cast.Extra]),
            "documentName" => "v1",
            _ => "x",
        });
        var path = Fill(route.Pattern, values, rng, hostile: false) + (route.Query.Contains("limit") && rng.Chance(0.5) ? $"?limit={rng.Next(1, 5)}" : "");
        byte[]? body = null;
        var mutation = "valid";
        if (route.Body is { } fields)
        {
            var context = new BodyContext(account ?? Cast.Extra[0], domain, r => AnyName(r, account), HostNames(route));
            (body, mutation) = oneBadValue ? HostileBodies.OneBadValue(rng, fields, context) : HostileBodies.Valid(rng, fields, context);
        }
        var headers = new List<KeyValuePair<string, string>>();
        if (route.Method is "PATCH" or "PUT" or "DELETE" && rng.Chance(0.4))
        {
            headers.Add(new("If-Match", HostileRequest.OwnETag));
        }
        return new HostileRequest(index, route.Host, route.Method, path, route.Key, caller, kind, mutation)
        {
            Account = account,
            Authorization = auth,
            Headers = headers,
            Body = body,
            ContentType = body is null ? null : route.Method == "PATCH" && rng.Chance(0.5) ? "application/merge-patch+json" : "application/json",
        };
    }

    /// <summary>Anything at all: any caller, hostile path values, methods, queries, headers and bodies.</summary>
    private HostileRequest Hostile(Random rng, int index, Route route)
    {
        var (caller, kind, auth, account) = AnyCaller(rng);
        var mutations = new List<string>();
        var values = route.Parameters.ToDictionary(p => p, p => p switch
        {
            "name" => AnyName(rng, account),
            // The operator may change any account but the victim's: the victim's state is the control of the experiment.
            "accountId" when kind == CallerKind.Operator => rng.Chance(0.5) ? rng.Pick([.. Cast.Attackers, .. Cast.Extra]) : rng.Pick(HostileValues.AccountIds),
            "accountId" => rng.Pick([Cast.Victim, "VICTIM", .. Cast.Attackers, .. HostileValues.AccountIds]),
            _ => rng.Chance(0.5) ? "v1" : HostileValues.Garble(rng, rng.Next(1, 10)),
        });
        var path = Fill(route.Pattern, values, rng, hostile: true);
        if (rng.Chance(0.08))
        {
            (path, var how) = Twist(rng, path);
            mutations.Add(how);
        }
        var query = new List<string>();
        foreach (var parameter in route.Query.Where(_ => rng.Chance(0.6)))
        {
            query.Add(parameter + "=" + Percent(parameter == "limit" ? rng.Pick(HostileValues.Limits) : rng.Pick(HostileValues.Cursors), rng));
        }
        if (rng.Chance(0.08))
        {
            query.Add(rng.Pick(["limit=abc", "limit=1&limit=2", "cursor", "%ZZ=1", "x=%00", "api-version=", new string('q', 5000) + "=1", "a=b=c"]));
        }
        if (query.Count > 0)
        {
            path += "?" + string.Join('&', query);
        }
        var method = rng.Chance(0.12) ? rng.Pick(HostileValues.Methods) : route.Method;
        if (method != route.Method)
        {
            mutations.Add("method " + method);
        }
        var name = values.GetValueOrDefault("name") ?? AnyName(rng, account);
        byte[]? body = null;
        var contentType = rng.Chance(0.8) ? "application/json" : rng.Pick(HostileValues.ContentTypes);
        if (route.Body is { } fields || rng.Chance(0.1))
        {
            string mutation;
            (body, mutation) = HostileBodies.Hostile(rng, route.Body, new BodyContext(account ?? Cast.Unregistered, name, r => AnyName(r, account), HostNames(route)));
            mutations.Add(mutation);
        }
        var headers = new List<KeyValuePair<string, string>>();
        if ((method is "PATCH" or "PUT" or "DELETE" && rng.Chance(0.6)) || rng.Chance(0.05))
        {
            headers.Add(new("If-Match", rng.Next(3) switch { 0 => HostileRequest.OwnETag, 1 => HostileRequest.VictimETag, _ => rng.Pick(HostileValues.IfMatch) }));
        }
        if (rng.Chance(0.15))
        {
            headers.Add(new("Accept", rng.Pick(HostileValues.Accepts)));
        }
        if (rng.Chance(0.05))
        {
            headers.Add(new("Origin", rng.Pick(["https://control.example", "https://evil.example", "null"])));
        }
        return new HostileRequest(index, route.Host, method, path, route.Key, caller, kind, mutations.Count == 0 ? "values" : string.Join("; ", mutations))
        {
            Account = account,
            Authorization = auth,
            Headers = headers,
            Body = body,
            ContentType = body is null ? null : contentType,
            Chunked = body is not null && rng.Chance(0.1),
        };
    }

    private static HostileRequest Unknown(Random rng, int index, string host)
    {
        var (caller, kind, auth, account) = AnyCaller(rng);
        var path = rng.Pick(["/api", "/api/", "/api/nope", "/api/domains/a/b/c", "/api/admin", "/api/admin/accounts", "/.env", "/api/account/x",
            "/api/domains/x.example/ip-helper/nope", "/api/ip-helpers/x", "/api/admin/relay-map/x", "/api/openapi.yaml", "/api/reference/../openapi.json",
            "/%00", "/api/%ff", "/api/domains/%", "/api/health/x", "/CheckHelpers/x", "/api/admin/accounts/x/domains"]);
        return new HostileRequest(index, host, rng.Pick(HostileValues.Methods), path, $"{host} (no route)", caller, kind, "unknown route")
        {
            Account = account,
            Authorization = auth,
        };
    }

    private static bool HostNames(Route route) => route.Pattern.EndsWith("/ip-helper", StringComparison.Ordinal);

    private static string AnyName(Random rng, string? account) => rng.Next(10) switch
    {
        < 4 => HostileValues.Disguise(rng, rng.Pick(Cast.OwnNames(account ?? Cast.Attackers[0]))),
        < 6 => rng.Chance(0.7) ? HostileValues.Disguise(rng, rng.Pick(Cast.VictimExposed)) : rng.Pick(["mail.", "x.", "sub.sub."]) + rng.Pick(Cast.VictimExposed),
        6 => rng.Pick(Cast.OwnNames(rng.Pick(Cast.Attackers))),
        < 9 => rng.Pick(HostileValues.Names),
        _ => HostileValues.Garble(rng, rng.Next(1, 30)),
    };
}
