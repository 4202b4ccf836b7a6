using Microsoft.AspNetCore.Http.HttpResults;
using RelayFunctions.Api;
using RelayFunctions.Destinations;
using RelayFunctions.Domains.Verification;
using RelayFunctions.IpHelpers;

namespace RelayFunctions.Domains;

/// <summary>The caller's mail domains: list, create, read, change (merge patch with If-Match), delete.</summary>
public static class DomainEndpoints
{
    public static void MapDomainEndpoints(this RouteGroupBuilder scoped)
    {
        var domains = scoped.MapGroup("/domains").WithTags("Domains").AddEndpointFilter<ValidationFilter>();
        domains.MapGet("", async (Caller caller, DomainStore store, DomainViews views, CancellationToken cancellationToken) =>
        {
            var list = await store.ListAsync(caller.AccountId, cancellationToken);
            return TypedResults.Ok(new DomainList(list.Select(views.From).ToList()));
        }).WithName("ListDomains").WithSummary("The caller's mail domains.");

        domains.MapPost("", CreateAsync)
            .WithName("CreateDomain").WithSummary("Registers a mail domain.").Accepts<DomainCreateRequest>("application/json").WithETag();

        domains.MapGet("/{name}", async (string name, HttpContext http, Caller caller, DomainStore store, DomainViews views, CancellationToken cancellationToken) =>
        {
            var domain = DomainName.TryParse(name, out var parsed, out _) ? await store.FindAsync(caller.AccountId, parsed, cancellationToken) : null;
            return domain.ToFound(http, $"Domain '{name}'", views.From, d => d.ETag);
        }).WithName("GetDomain").WithSummary("One of the caller's mail domains.").WithETag();

        domains.MapPatch("/{name}", PatchAsync)
            .WithName("UpdateDomain").WithSummary("Changes a mail domain (JSON merge patch: absent keeps, null clears).")
            .Accepts<DomainPatchRequest>("application/merge-patch+json", "application/json").WithETag().WithIfMatch();

        domains.MapDelete("/{name}", DeleteAsync)
            .WithName("DeleteDomain").WithSummary("Deletes a mail domain and its IP helper.").WithIfMatch();
    }

    private static async Task<Results<Created<DomainView>, ConflictProblem, ValidationProblem>> CreateAsync(
        DomainCreateRequest request, HttpContext http, Caller caller, DomainStore domains, DestinationPolicy destinations, DomainViews views,
        HelperService helpers, CancellationToken cancellationToken)
    {
        var (name, settings) = request.ToDomain(destinations, new FieldErrors())!.Value;
        var outcome = await domains.CreateAsync(caller.AccountId, name, settings, cancellationToken);
        await FollowHostNameAsync(outcome, helpers, cancellationToken);
        return outcome.ToCreated(http, views.From, d => d.ETag, d => $"/api/domains/{d.Name}");
    }

    private static async Task<Results<Ok<DomainView>, NotFoundProblem, ConflictProblem, PreconditionFailedProblem, ValidationProblem>> PatchAsync(
        string name, DomainPatchRequest request, HttpContext http, Caller caller, DomainStore domains, DestinationPolicy destinations, HelperStore helpers,
        HelperService helperService, DomainViews views, CancellationToken cancellationToken)
    {
        if (!DomainName.TryParse(name, out var parsed, out _))
        {
            return NotFoundProblem.InAccount($"Domain '{name}'");
        }
        var outcome = await domains.UpdateAsync(caller.AccountId, parsed, EntityTags.IfMatch(http.Request), current =>
        {
            var errors = new FieldErrors();
            var settings = request.Apply(current.Name, current.Settings, destinations, errors);
            return settings is null
                ? new Outcome<DomainSettings>.Invalid(errors.ToDictionary())
                : new Outcome<DomainSettings>.Ok(settings);
        }, cancellationToken);
        // An IP helper serves only redirect and hold domains: any other mode removes it.
        if (outcome is Outcome<MailDomain>.Ok { Value.Settings.Mode: not (DomainMode.Redirect or DomainMode.Hold) })
        {
            await helpers.RemoveForDomainAsync(caller.AccountId, parsed, cancellationToken);
        }
        else if (outcome is Outcome<MailDomain>.Ok && request.ChangesRouting())
        {
            // The helper's next check must see the routing as it is now, not as its last check left it.
            await helpers.TouchAsync(caller.AccountId, parsed, cancellationToken);
        }
        await FollowHostNameAsync(outcome, helperService, cancellationToken);
        return outcome.ToChanged(http, $"Domain '{name}'", views.From, d => d.ETag);
    }

    private static async Task<Results<NoContent, NotFoundProblem, ConflictProblem, PreconditionFailedProblem>> DeleteAsync(
        string name, HttpContext http, Caller caller, DomainStore domains, HelperStore helpers, CancellationToken cancellationToken)
    {
        if (!DomainName.TryParse(name, out var parsed, out _))
        {
            return NotFoundProblem.InAccount($"Domain '{name}'");
        }
        var outcome = await domains.DeleteAsync(caller.AccountId, parsed, EntityTags.IfMatch(http.Request), cancellationToken);
        if (outcome is Outcome<MailDomain>.Ok)
        {
            await helpers.RemoveForDomainAsync(caller.AccountId, parsed, cancellationToken);
        }
        return outcome.ToDeleted($"Domain '{name}'");
    }

    /// <summary>
    /// A redirect to a host name is never published as a name, which Postfix would resolve itself (to any address,
    /// and with a bounce on NXDOMAIN): an IP helper follows it, created for it or pointed at it, and until its first
    /// check resolves a public address the domain's mail is held.
    /// </summary>
    private static async Task FollowHostNameAsync(Outcome<MailDomain> outcome, HelperService helpers, CancellationToken cancellationToken)
    {
        if (outcome is Outcome<MailDomain>.Ok { Value: { Settings: { Mode: DomainMode.Redirect, Destination: { Address: null } to } } domain })
        {
            await helpers.FollowAsync(domain.AccountId, domain.Name, DomainName.Parse(to.Host), to.Port, cancellationToken);
        }
    }
}

public sealed record DomainList(IReadOnlyList<DomainView> Domains);

/// <summary>A domain as the API shows it, with where it stands in proving its account controls it.</summary>
public sealed record DomainView(
    string Name, string DisplayName, DomainMode Mode, string? DestinationHost, int? DestinationPort,
    IReadOnlyList<string> Recipients, long MessageSizeLimit, VerificationView Verification, DateTimeOffset Created, DateTimeOffset Updated);
