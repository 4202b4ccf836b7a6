using RelayFunctions.Api;
using RelayFunctions.Domains;

namespace RelayFunctions.IpHelpers;

/// <summary>The IP address helper of a domain: set it, read its status, check now, history, remove it.</summary>
public static class HelperEndpoints
{
    public static void MapHelperEndpoints(this RouteGroupBuilder scoped)
    {
        var helper = scoped.MapGroup("/domains/{name}/ip-helper").WithTags("IP helpers");
        helper.MapPut("", PutAsync)
            .WithName("PutIpHelper").WithSummary("Attaches an IP helper to a domain, or replaces its settings.").Accepts<HelperRequest>("application/json")
            .Produces<HelperView>().Produces<HelperView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).WithETag().WithIfMatch();

        helper.MapGet("", async (string name, HttpContext http, Caller caller, HelperService service, CancellationToken ct) =>
            (await service.GetAsync(caller.AccountId, name, ct)).ToHttp(http, $"The IP helper of '{name}'", v => v, v => v.Helper.ETag))
            .WithName("GetIpHelper").WithSummary("A domain's IP helper: its settings and the last check.")
            .Produces<HelperView>().ProducesProblem(StatusCodes.Status404NotFound).WithETag();

        helper.MapDelete("", async (string name, HttpContext http, Caller caller, HelperService service, CancellationToken ct) =>
        {
            var outcome = await service.RemoveAsync(caller.AccountId, name, EntityTags.IfMatch(http.Request), ct);
            return outcome is Outcome<HelperView>.Ok ? TypedResults.NoContent() : outcome.ToHttp(http, $"The IP helper of '{name}'", v => v, v => v.Helper.ETag);
        }).WithName("DeleteIpHelper").WithSummary("Removes a domain's IP helper; the domain keeps its current routing.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).WithIfMatch();

        helper.MapPost("/check-now", async (string name, HttpContext http, Caller caller, HelperService service, CancellationToken ct) =>
        {
            var outcome = await service.RequestCheckAsync(caller.AccountId, name, ct);
            return outcome is Outcome<HelperView>.Ok ok
                ? TypedResults.Accepted($"/api/domains/{ok.Value.Domain}/ip-helper", ok.Value)
                : outcome.ToHttp(http, $"The IP helper of '{name}'", v => v, v => v.Helper.ETag);
        }).WithName("CheckIpHelperNow").WithSummary("Asks for a check at the next tick (about a minute); it does not check on the spot.")
            .Produces<HelperView>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        helper.MapGet("/history", HistoryAsync)
            .WithName("IpHelperHistory").WithSummary("Checks that changed something and every mode change, newest first.")
            .Produces<HistoryPage>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        scoped.MapGet("/ip-helpers", async (Caller caller, HelperService service, CancellationToken ct) =>
            TypedResults.Ok(new HelperList(await service.ListAsync(caller.AccountId, ct))))
            .WithName("ListIpHelpers").WithTags("IP helpers").WithSummary("The caller's IP helpers with their status.");
    }

    private static async Task<IResult> PutAsync(string name, HttpContext http, Caller caller, HelperService service, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var settings = body.Errors.Any ? null : HelperRequest.Read(body);
        if (settings is null)
        {
            return OutcomeResults.Invalid(body.Errors);
        }
        var outcome = await service.PutAsync(caller.AccountId, name, settings, EntityTags.IfMatch(http.Request), ct);
        return outcome.ToHttp(http, $"Domain '{name}'", v => v, v => v.Helper.ETag, v => $"/api/domains/{v.Domain}/ip-helper");
    }

    private static async Task<IResult> HistoryAsync(
        string name, string? limit, string? cursor, HttpContext http, Caller caller, HelperService service, CancellationToken ct)
    {
        // Query values are read by hand, so that a wrong one gets a problem naming it instead of a bare 400.
        var errors = new FieldErrors();
        var size = 50;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out size) || size is < 1 or > 200))
        {
            errors.Add("limit", "Must be a whole number from 1 to 200.");
        }
        if (cursor is not null && !HelperHistory.IsCursor(cursor))
        {
            errors.Add("cursor", "Not a cursor this API returned.");
        }
        if (errors.Any)
        {
            return OutcomeResults.Invalid(errors);
        }
        var outcome = await service.HistoryAsync(caller.AccountId, name, size, cursor, ct);
        return outcome is Outcome<HistoryPage>.Ok ok
            ? TypedResults.Ok(ok.Value)
            : OutcomeResults.NotFound($"The IP helper of '{name}'");
    }
}

/// <summary>Body of <c>PUT /api/domains/{name}/ip-helper</c>.</summary>
public sealed record HelperRequest
{
    /// <summary>The fully qualified name to follow, e.g. <c>mail.example.dyndns.org</c>.</summary>
    public required string DestinationHost { get; init; }

    /// <summary>1–65535: where the domain's mail goes on the address the name resolves to.</summary>
    public required int DestinationPort { get; init; }

    /// <summary>Send an e-mail to the account's alert address when the routing changes; default false.</summary>
    public bool? AlertOnChange { get; init; }

    /// <summary>Also follow AAAA records; default false.</summary>
    public bool? AllowIpv6 { get; init; }

    public static HelperSettings? Read(JsonBody body)
    {
        var (_, host) = body.String("destinationHost");
        var (_, port) = body.Integer("destinationPort");
        var (_, alert) = body.Boolean("alertOnChange");
        var (_, ipv6) = body.Boolean("allowIpv6");
        DomainName? parsed = null;
        if (host is null)
        {
            body.Errors.Add("destinationHost", "Required: the fully qualified name of your mail server, e.g. mail.example.dyndns.org.");
        }
        else if (!DomainName.TryParse(host, out parsed, out var error))
        {
            body.Errors.Add("destinationHost", error!);
        }
        if (port is null or < 1 or > 65535)
        {
            body.Errors.Add("destinationPort", "Required: a port from 1 to 65535.");
        }
        body.RejectUnknownFields();
        return body.Errors.Any ? null : new HelperSettings(parsed!, (int)port!.Value, alert ?? false, ipv6 ?? false);
    }
}
