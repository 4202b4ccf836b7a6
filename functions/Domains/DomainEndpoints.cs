using RelayFunctions.Api;
using RelayFunctions.Domains.Verification;
using RelayFunctions.IpHelpers;

namespace RelayFunctions.Domains;

/// <summary>The caller's mail domains: list, create, read, change (merge patch with If-Match), delete.</summary>
public static class DomainEndpoints
{
    public static void MapDomainEndpoints(this RouteGroupBuilder scoped)
    {
        var domains = scoped.MapGroup("/domains").WithTags("Domains");
        domains.MapGet("", async (Caller caller, DomainStore store, DomainViews views, CancellationToken cancellationToken) =>
        {
            var list = await store.ListAsync(caller.AccountId, cancellationToken);
            return TypedResults.Ok(new DomainList(list.Select(views.From).ToList()));
        }).WithName("ListDomains").WithSummary("The caller's mail domains.");

        domains.MapPost("", CreateAsync)
            .WithName("CreateDomain").WithSummary("Registers a mail domain.").Accepts<DomainCreateRequest>("application/json")
            .Produces<DomainView>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict)
            .WithETag();

        domains.MapGet("/{name}", async (string name, HttpContext http, Caller caller, DomainStore store, DomainViews views, CancellationToken cancellationToken) =>
        {
            var domain = DomainName.TryParse(name, out var parsed, out _) ? await store.FindAsync(caller.AccountId, parsed, cancellationToken) : null;
            return domain is null
                ? OutcomeResults.NotFound($"Domain '{name}'")
                : new Outcome<MailDomain>.Ok(domain).ToHttp(http, name, views.From, d => d.ETag);
        }).WithName("GetDomain").WithSummary("One of the caller's mail domains.")
            .Produces<DomainView>().ProducesProblem(StatusCodes.Status404NotFound).WithETag();

        domains.MapPatch("/{name}", PatchAsync)
            .WithName("UpdateDomain").WithSummary("Changes a mail domain (JSON merge patch: absent keeps, null clears).")
            .Accepts<DomainPatchRequest>("application/merge-patch+json", "application/json")
            .Produces<DomainView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).WithETag().WithIfMatch();

        domains.MapDelete("/{name}", DeleteAsync)
            .WithName("DeleteDomain").WithSummary("Deletes a mail domain and its IP helper.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).WithIfMatch();
    }

    private static async Task<IResult> CreateAsync(
        HttpContext http, Caller caller, DomainStore domains, DomainRequest request, DomainViews views, HelperService helpers, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync(http.Request, cancellationToken);
        if (body.Errors.Any)
        {
            return OutcomeResults.Invalid(body.Errors);
        }
        var (name, settings) = request.ReadCreate(body);
        if (body.Errors.Any)
        {
            return OutcomeResults.Invalid(body.Errors);
        }
        var outcome = await domains.CreateAsync(caller.AccountId, name!, settings!, cancellationToken);
        await FollowHostNameAsync(outcome, helpers, cancellationToken);
        return outcome.ToHttp(http, $"Domain '{name}'", views.From, d => d.ETag, d => $"/api/domains/{d.Name}");
    }

    private static async Task<IResult> PatchAsync(
        string name, HttpContext http, Caller caller, DomainStore domains, DomainRequest request, HelperStore helpers,
        HelperService helperService, DomainViews views, CancellationToken cancellationToken)
    {
        if (!DomainName.TryParse(name, out var parsed, out _))
        {
            return OutcomeResults.NotFound($"Domain '{name}'");
        }
        var body = await JsonBody.ReadAsync(http.Request, cancellationToken);
        if (body.Errors.Any)
        {
            return OutcomeResults.Invalid(body.Errors);
        }
        var outcome = await domains.UpdateAsync(caller.AccountId, parsed, EntityTags.IfMatch(http.Request), current =>
        {
            var settings = request.ReadPatch(body, current);
            return settings is null
                ? new Outcome<DomainSettings>.Invalid(body.Errors.ToDictionary())
                : new Outcome<DomainSettings>.Ok(settings);
        }, cancellationToken);
        // An IP helper serves only redirect and hold domains: any other mode removes it.
        if (outcome is Outcome<MailDomain>.Ok { Value.Settings.Mode: not (DomainMode.Redirect or DomainMode.Hold) })
        {
            await helpers.RemoveForDomainAsync(caller.AccountId, parsed, cancellationToken);
        }
        else if (outcome is Outcome<MailDomain>.Ok && RoutingFields.Any(body.Has))
        {
            // The helper's next check must see the routing as it is now, not as its last check left it.
            await helpers.TouchAsync(caller.AccountId, parsed, cancellationToken);
        }
        await FollowHostNameAsync(outcome, helperService, cancellationToken);
        return outcome.ToHttp(http, $"Domain '{name}'", views.From, d => d.ETag);
    }

    private static readonly string[] RoutingFields = ["mode", "destinationHost", "destinationPort"];

    private static async Task<IResult> DeleteAsync(
        string name, HttpContext http, Caller caller, DomainStore domains, HelperStore helpers, CancellationToken cancellationToken)
    {
        if (!DomainName.TryParse(name, out var parsed, out _))
        {
            return OutcomeResults.NotFound($"Domain '{name}'");
        }
        var outcome = await domains.DeleteAsync(caller.AccountId, parsed, EntityTags.IfMatch(http.Request), cancellationToken);
        if (outcome is not Outcome<MailDomain>.Ok)
        {
            return outcome.ToHttp(http, $"Domain '{name}'", d => d, d => d.ETag);
        }
        await helpers.RemoveForDomainAsync(caller.AccountId, parsed, cancellationToken);
        return TypedResults.NoContent();
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

/// <summary>Body of <c>POST /api/domains</c> (read field by field by <see cref="DomainRequest"/>; this type describes it).</summary>
public sealed record DomainCreateRequest
{
    /// <summary>The domain, e.g. <c>example.com</c>; internationalized names are accepted.</summary>
    public required string Name { get; init; }

    public required DomainMode Mode { get; init; }

    /// <summary>A host name or public IP address; required in redirect mode.</summary>
    public string? DestinationHost { get; init; }

    /// <summary>1–65535; required in redirect mode.</summary>
    public int? DestinationPort { get; init; }

    /// <summary>Valid recipients (<c>user@domain</c> or the catch-all <c>@domain</c>); empty accepts every recipient.</summary>
    public IReadOnlyList<string>? Recipients { get; init; }

    /// <summary>Bytes, from 1 MiB to 100 MiB; default 10 MB.</summary>
    public long? MessageSizeLimit { get; init; }
}

/// <summary>Body of <c>PATCH /api/domains/{name}</c> (merge patch: absent keeps, null clears).</summary>
public sealed record DomainPatchRequest
{
    public DomainMode? Mode { get; init; }

    public string? DestinationHost { get; init; }

    public int? DestinationPort { get; init; }

    public IReadOnlyList<string>? Recipients { get; init; }

    public long? MessageSizeLimit { get; init; }
}
