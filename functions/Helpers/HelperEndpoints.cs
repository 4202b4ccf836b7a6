using RelayFunctions.Api;
using RelayFunctions.Domains;

namespace RelayFunctions.Helpers;

/// <summary>The IP address helper of a domain: set it, read its status, check now, history, remove it.</summary>
public static class HelperEndpoints
{
    public static void MapHelperEndpoints(this RouteGroupBuilder scoped)
    {
        scoped.MapPut("/domains/{name}/ip-helper", PutAsync)
            .WithName("PutIpHelper").Accepts<HelperRequest>("application/json")
            .Produces<HelperView>().Produces<HelperView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);

        scoped.MapGet("/domains/{name}/ip-helper", async (string name, HttpContext http, Caller caller, HelperService service, CancellationToken ct) =>
            (await service.GetAsync(caller.AccountId, name, ct)).ToHttp(http, $"The IP helper of '{name}'", v => v, v => v.Helper.ETag))
            .WithName("GetIpHelper").Produces<HelperView>().ProducesProblem(StatusCodes.Status404NotFound);

        scoped.MapDelete("/domains/{name}/ip-helper", async (string name, HttpContext http, Caller caller, HelperService service, CancellationToken ct) =>
        {
            var outcome = await service.RemoveAsync(caller.AccountId, name, EntityTags.IfMatch(http.Request), ct);
            return outcome is Outcome<HelperView>.Ok ? TypedResults.NoContent() : outcome.ToHttp(http, $"The IP helper of '{name}'", v => v, v => v.Helper.ETag);
        }).WithName("DeleteIpHelper").Produces(StatusCodes.Status204NoContent);

        scoped.MapPost("/domains/{name}/ip-helper/check-now", async (string name, HttpContext http, Caller caller, HelperService service, CancellationToken ct) =>
        {
            var outcome = await service.RequestCheckAsync(caller.AccountId, name, ct);
            return outcome is Outcome<HelperView>.Ok ok
                ? TypedResults.Accepted($"/api/domains/{ok.Value.Domain}/ip-helper", ok.Value)
                : outcome.ToHttp(http, $"The IP helper of '{name}'", v => v, v => v.Helper.ETag);
        }).WithName("CheckIpHelperNow").Produces<HelperView>(StatusCodes.Status202Accepted);

        scoped.MapGet("/ip-helpers", async (Caller caller, HelperService service, CancellationToken ct) =>
            TypedResults.Ok(new HelperList(await service.ListAsync(caller.AccountId, ct))))
            .WithName("ListIpHelpers");

        scoped.MapGet("/domains/{name}/ip-helper/history", HistoryAsync)
            .WithName("IpHelperHistory").Produces<HistoryPage>().ProducesValidationProblem();
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
        string name, int? limit, string? cursor, HttpContext http, Caller caller, HelperService service, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (limit is < 1 or > 200)
        {
            errors.Add("limit", "Must be from 1 to 200.");
        }
        if (cursor is not null && !HelperHistory.IsCursor(cursor))
        {
            errors.Add("cursor", "Not a cursor this API returned.");
        }
        if (errors.Any)
        {
            return OutcomeResults.Invalid(errors);
        }
        var outcome = await service.HistoryAsync(caller.AccountId, name, limit ?? 50, cursor, ct);
        return outcome is Outcome<HistoryPage>.Ok ok
            ? TypedResults.Ok(ok.Value)
            : OutcomeResults.NotFound($"The IP helper of '{name}'");
    }
}

/// <summary>Body of <c>PUT /api/domains/{name}/ip-helper</c>.</summary>
public sealed record HelperRequest(string DestinationHost, int DestinationPort, bool? AlertOnChange, bool? AllowIpv6)
{
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
