using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using RelayFunctions.Api;
using RelayFunctions.Domains;

namespace RelayFunctions.IpHelpers;

/// <summary>The IP address helper of a domain: set it, read its status, check now, history, remove it.</summary>
public static class HelperEndpoints
{
    public static void MapHelperEndpoints(this RouteGroupBuilder scoped)
    {
        var helper = scoped.MapGroup("/domains/{name}/ip-helper").WithTags("IP helpers").AddEndpointFilter<ValidationFilter>();
        helper.MapPut("", async (string name, HelperRequest request, HttpContext http, Caller caller, HelperService service, CancellationToken ct) =>
        {
            var outcome = await service.PutAsync(caller.AccountId, name, request.ToSettings(new FieldErrors())!, EntityTags.IfMatch(http.Request), ct);
            return outcome.ToPut(http, $"Domain '{name}'", v => v, v => v.Helper.ETag, v => $"/api/domains/{v.Domain}/ip-helper");
        }).WithName("PutIpHelper").WithSummary("Attaches an IP helper to a domain, or replaces its settings.").Accepts<HelperRequest>("application/json")
            .WithETag().WithIfMatch();

        helper.MapGet("", async (string name, HttpContext http, Caller caller, HelperService service, CancellationToken ct) =>
            (await service.GetAsync(caller.AccountId, name, ct)).ToRead(http, $"The IP helper of '{name}'", v => v, v => v.Helper.ETag))
            .WithName("GetIpHelper").WithSummary("A domain's IP helper: its settings and the last check.").WithETag();

        helper.MapDelete("", async (string name, HttpContext http, Caller caller, HelperService service, CancellationToken ct) =>
            (await service.RemoveAsync(caller.AccountId, name, EntityTags.IfMatch(http.Request), ct)).ToDeleted($"The IP helper of '{name}'"))
            .WithName("DeleteIpHelper").WithSummary("Removes a domain's IP helper; the domain keeps its current routing.").WithIfMatch();

        helper.MapPost("/check-now", async Task<Results<Accepted<HelperView>, NotFoundProblem, ConflictProblem>> (
            string name, Caller caller, HelperService service, CancellationToken ct) =>
            await service.RequestCheckAsync(caller.AccountId, name, ct) switch
            {
                Outcome<HelperView>.Ok ok => TypedResults.Accepted($"/api/domains/{ok.Value.Domain}/ip-helper", ok.Value),
                Outcome<HelperView>.Conflict c => new ConflictProblem(c.Reason),
                _ => NotFoundProblem.InAccount($"The IP helper of '{name}'"),
            })
            .WithName("CheckIpHelperNow").WithSummary("Asks for a check at the next tick (about a minute); it does not check on the spot.");

        helper.MapGet("/history", HistoryAsync)
            .WithName("IpHelperHistory").WithSummary("Checks that changed something and every mode change, newest first.");

        scoped.MapGet("/ip-helpers", async (Caller caller, HelperService service, CancellationToken ct) =>
            TypedResults.Ok(new HelperList(await service.ListAsync(caller.AccountId, ct))))
            .WithName("ListIpHelpers").WithTags("IP helpers").WithSummary("The caller's IP helpers with their status.");
    }

    private static async Task<Results<Ok<HistoryPage>, ValidationProblem, NotFoundProblem>> HistoryAsync(
        string name, string? limit, string? cursor, Caller caller, HelperService service, CancellationToken ct)
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
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }
        var outcome = await service.HistoryAsync(caller.AccountId, name, size, cursor, ct);
        return outcome is Outcome<HistoryPage>.Ok ok
            ? TypedResults.Ok(ok.Value)
            : NotFoundProblem.InAccount($"The IP helper of '{name}'");
    }
}

/// <summary>Body of <c>PUT /api/domains/{name}/ip-helper</c>.</summary>
public sealed record HelperRequest : IValidatable, IBindableFromHttpContext<HelperRequest>
{
    /// <summary>The fully qualified name to follow, e.g. <c>mail.example.dyndns.org</c>.</summary>
    public required Optional<string?> DestinationHost { get; init; }

    /// <summary>1–65535: where the domain's mail goes on the address the name resolves to.</summary>
    public required Optional<int?> DestinationPort { get; init; }

    /// <summary>Send an e-mail to the account's alert address when the routing changes; default false.</summary>
    public Optional<bool?> AlertOnChange { get; init; }

    /// <summary>Also follow AAAA records; default false.</summary>
    public Optional<bool?> AllowIpv6 { get; init; }

    public static ValueTask<HelperRequest?> BindAsync(HttpContext context, ParameterInfo parameter) => JsonBody.ReadAsync<HelperRequest>(context);

    public void Validate(FieldErrors errors, HttpContext http) => ToSettings(errors);

    /// <summary>The helper's settings; null with errors added.</summary>
    public HelperSettings? ToSettings(FieldErrors errors)
    {
        DomainName? host = null;
        if (DestinationHost.Value is not { } text)
        {
            errors.Add("destinationHost", "Required: the fully qualified name of your mail server, e.g. mail.example.dyndns.org.");
        }
        else if (!DomainName.TryParse(text, out host, out var error))
        {
            errors.Add("destinationHost", error!);
        }
        if (DestinationPort.Value is not (>= 1 and <= 65535))
        {
            errors.Add("destinationPort", "Required: a port from 1 to 65535.");
        }
        return errors.Any ? null : new HelperSettings(host!, DestinationPort.Value!.Value, AlertOnChange.Value ?? false, AllowIpv6.Value ?? false);
    }
}
