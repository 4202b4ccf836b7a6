using RelayFunctions.Api;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;

namespace RelayFunctions.Outbound;

/// <summary>The caller's outbound (smarthost) accounts: list, create, read, change, change the password, delete.</summary>
public static class OutboundEndpoints
{
    /// <summary>Dovecot's scheme prefix, then the bcrypt hash (BCrypt.Net-Next's HashPassword, which Dovecot verifies).</summary>
    public const string HashScheme = "{BLF-CRYPT}";
    private const int WorkFactor = 10;

    public static void MapOutboundEndpoints(this RouteGroupBuilder scoped)
    {
        var accounts = scoped.MapGroup("/outbound-accounts").WithTags("Outbound accounts");
        accounts.MapGet("", async (Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct) =>
        {
            var held = (await domains.ListAsync(caller.AccountId, ct)).ToDictionary(d => d.Name);
            return TypedResults.Ok(new OutboundAccountList((await store.ListAsync(caller.AccountId, ct))
                .Select(a => OutboundAccountView.From(a, held.GetValueOrDefault(a.Domain))).ToList()));
        })
            .WithName("ListOutboundAccounts").WithSummary("The caller's outbound accounts.");

        accounts.MapPost("", CreateAsync)
            .WithName("CreateOutboundAccount").WithSummary("Creates an outbound account on one of the caller's verified domains.")
            .Accepts<OutboundAccountCreateRequest>("application/json")
            .Produces<OutboundAccountView>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict).WithETag();

        accounts.MapGet("/{login}", async (string login, HttpContext http, Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct) =>
            await store.FindAsync(caller.AccountId, login.ToLowerInvariant(), ct) is { } account
                ? await ViewAsync(new Outcome<OutboundAccount>.Ok(account), http, login, caller, domains, null, ct)
                : OutcomeResults.NotFound($"Outbound account '{login}'"))
            .WithName("GetOutboundAccount").WithSummary("One outbound account.").Produces<OutboundAccountView>().ProducesProblem(StatusCodes.Status404NotFound).WithETag();

        accounts.MapPatch("/{login}", PatchAsync)
            .WithName("UpdateOutboundAccount").WithSummary("Changes an outbound account's settings (JSON merge patch: absent keeps, null clears).")
            .Accepts<OutboundAccountPatchRequest>("application/merge-patch+json", "application/json")
            .Produces<OutboundAccountView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).WithETag().WithIfMatch();

        accounts.MapPut("/{login}/password", PasswordAsync)
            .WithName("ChangeOutboundPassword").WithSummary("Sets a new password, given or generated (a generated one is shown once, in this answer).")
            .Accepts<PasswordRequest>("application/json")
            .Produces<OutboundAccountView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).WithETag().WithIfMatch();

        accounts.MapDelete("/{login}", async (string login, HttpContext http, Caller caller, OutboundStore store, CancellationToken ct) =>
        {
            var outcome = await store.DeleteAsync(caller.AccountId, login.ToLowerInvariant(), EntityTags.IfMatch(http.Request), ct);
            return outcome is Outcome<OutboundAccount>.Ok ? TypedResults.NoContent() : outcome.ToHttp(http, $"Outbound account '{login}'", a => a, a => a.ETag);
        }).WithName("DeleteOutboundAccount").WithSummary("Deletes an outbound account; its login stops working at once on every relay.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).WithIfMatch();
    }

    private static async Task<IResult> CreateAsync(
        HttpContext http, Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        if (body.Errors.Any)
        {
            return OutcomeResults.Invalid(body.Errors);
        }
        var request = OutboundRequest.ReadCreate(body, caller.Account.ServiceLevel);
        if (request is null)
        {
            return OutcomeResults.Invalid(body.Errors);
        }
        var field = request.Type == OutboundType.SingleAddress ? "address" : "domain";
        var domain = await domains.FindAsync(caller.AccountId, request.Domain, ct);
        if (domain is not { Verification.IsPublished: true })
        {
            body.Errors.Add(field, $"{request.Domain.Unicode} is not one of your verified mail domains: add it and prove that you control it first.");
            return OutcomeResults.Invalid(body.Errors);
        }
        if (await MirrorErrorsAsync(body, caller.AccountId, domains, ct))
        {
            return OutcomeResults.Invalid(body.Errors);
        }
        var outcome = await store.CreateAsync(caller.AccountId, request, Hash(request.Password), ct);
        return outcome.ToHttp(http, $"Outbound account '{request.Login}'",
            a => OutboundAccountView.From(a, domain, request.Generated ? request.Password : null), a => a.ETag,
            a => $"/api/outbound-accounts/{Uri.EscapeDataString(a.Login)}");
    }

    private static async Task<IResult> PatchAsync(string login, HttpContext http, Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        if (body.Errors.Any || await MirrorErrorsAsync(body, caller.AccountId, domains, ct))
        {
            return OutcomeResults.Invalid(body.Errors);
        }
        var outcome = await store.UpdateAsync(caller.AccountId, login.ToLowerInvariant(), EntityTags.IfMatch(http.Request), current =>
            OutboundRequest.ReadPatch(body, current, caller.Account.ServiceLevel) is { } settings
                ? new Outcome<OutboundAccount>.Ok(current with
                {
                    Settings = settings,
                    // New filters are looked up at once.
                    Resolution = settings.Filters == current.Settings.Filters ? current.Resolution : current.Resolution with { NextLookup = null },
                })
                : new Outcome<OutboundAccount>.Invalid(body.Errors.ToDictionary()), ct);
        return await ViewAsync(outcome, http, $"Outbound account '{login}'", caller, domains, null, ct);
    }

    private static async Task<IResult> PasswordAsync(
        string login, HttpContext http, Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var (password, generated) = body.Errors.Any ? (null, false) : OutboundRequest.ReadPasswordChange(body);
        if (password is null)
        {
            return OutcomeResults.Invalid(body.Errors);
        }
        var hash = Hash(password);
        var outcome = await store.UpdateAsync(caller.AccountId, login.ToLowerInvariant(), EntityTags.IfMatch(http.Request),
            current => new Outcome<OutboundAccount>.Ok(current with { PasswordHash = hash }), ct);
        return await ViewAsync(outcome, http, $"Outbound account '{login}'", caller, domains, generated ? password : null, ct);
    }

    /// <summary>The answer for one login, with whether it is on the relays (which depends on its domain).</summary>
    private static async Task<IResult> ViewAsync(
        Outcome<OutboundAccount> outcome, HttpContext http, string what, Caller caller, DomainStore domains, string? generatedPassword, CancellationToken ct)
    {
        var domain = outcome is Outcome<OutboundAccount>.Ok ok ? await domains.FindAsync(caller.AccountId, ok.Value.Domain, ct) : null;
        return outcome.ToHttp(http, what, a => OutboundAccountView.From(a, domain, generatedPassword), a => a.ETag);
    }

    private static string Hash(string password) => HashScheme + BCrypt.Net.BCrypt.HashPassword(password, WorkFactor);

    /// <summary>
    /// A mirror is a mailbox of the caller's own: its domain must be one of the caller's verified domains. True when one
    /// is not, or the list is longer than any level allows (refused before any domain is read). Each domain is read once.
    /// </summary>
    private static async Task<bool> MirrorErrorsAsync(JsonBody body, string accountId, DomainStore domains, CancellationToken ct)
    {
        var (_, mirrors) = body.StringList("mirrors", OutboundRequest.MaxListEntries(l => l.Mirrors));
        if (body.Errors.Any)
        {
            return true;
        }
        var verified = new Dictionary<DomainName, bool>();
        var refused = false;
        for (var i = 0; i < (mirrors?.Count ?? 0); i++)
        {
            if (!Accounts.EmailAddress.TryParse(mirrors![i], out var address, out _))
            {
                continue;
            }
            if (!verified.TryGetValue(address.Domain, out var ok))
            {
                verified[address.Domain] = ok = await domains.FindAsync(accountId, address.Domain, ct) is { Verification.IsPublished: true };
            }
            if (!ok)
            {
                body.Errors.Add($"mirrors[{i}]", $"{address.Domain.Unicode} is not one of your verified mail domains: a mirror is a mailbox of your own.");
                refused = true;
            }
        }
        return refused;
    }
}

public sealed record OutboundAccountList(IReadOnlyList<OutboundAccountView> Accounts);

/// <summary>The header a mirror copy carries: match its value in a Sieve rule to file the copy into your "Sent" folder.</summary>
public sealed record MirrorHeaderView(string Name, string Value);

/// <summary>
/// An outbound account as the API shows it, in the shape requests use (the four source filters as set: an address, a CIDR
/// network, a host name, or the family's loopback address, that family disabled). Never the password, nor its hash; a
/// generated password once, when it is made.
/// </summary>
public sealed record OutboundAccountView(
    string Login,
    OutboundType Type,
    string Domain,
    string? Address,
    bool Enabled,
    bool OnRelays,
    string? OffRelaysReason,
    string? Ipv4Filter,
    string? Ipv6Filter,
    string? AlternateIpv4Filter,
    string? AlternateIpv6Filter,
    IReadOnlyDictionary<string, IReadOnlyList<string>> ResolvedAddresses,
    DateTimeOffset? LastLookup,
    DateTimeOffset? NextLookup,
    string? LookupReason,
    bool AllowIdentities,
    bool AllowSubdomains,
    IReadOnlyList<string> BccRecipients,
    IReadOnlyList<string> Mirrors,
    MirrorHeaderView MirrorHeader,
    IReadOnlyList<RemovedBcc> RemovedBccRecipients,
    SubmissionErrors SubmissionErrors,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    string? GeneratedPassword)
{
    /// <param name="domain">The login's domain as its account holds it, or null when the account no longer has it.</param>
    public static OutboundAccountView From(OutboundAccount a, MailDomain? domain, string? generatedPassword = null)
    {
        var f = a.Settings.Filters;
        var offReason = WhyOffRelays(a, domain);
        return new OutboundAccountView(
            a.Login, a.Type, a.Domain.Value, a.Address?.ToString(), a.Settings.Enabled, offReason is null, offReason,
            f.Ipv4?.Text, f.Ipv6?.Text, f.AlternateIpv4?.Text, f.AlternateIpv6?.Text,
            a.Resolution.Addresses.ToDictionary(kv => OutboundRequest.FilterFields.Single(x => x.Slot == kv.Key).Field, kv => (IReadOnlyList<string>)kv.Value.Select(ip => ip.ToString()).ToList()),
            a.Resolution.LastLookup, a.Resolution.NextLookup, a.Resolution.Reason,
            a.Settings.AllowIdentities, a.Settings.AllowSubdomains,
            a.Settings.BccRecipients.Select(b => b.Address.ToString()).ToList(), a.Settings.Mirrors.Select(m => m.ToString()).ToList(),
            new MirrorHeaderView(OutboundHeaders.Mirror, a.MirrorToken), a.RemovedBcc, a.Settings.SubmissionErrors,
            a.Created, a.Updated, generatedPassword);
    }

    /// <summary>
    /// Why the relays do not know the login, or null when they do (a disabled login is on the relays: it authenticates and
    /// is told it is disabled). The relay map publishes a login only while its account holds its domain, verified
    /// (RelayMapBuilder.OutboundFilesAsync).
    /// </summary>
    public static string? WhyOffRelays(OutboundAccount a, MailDomain? domain) => domain switch
    {
        null => $"Not on the relays: its domain {a.Domain.Unicode} is no longer one of your mail domains. Add it again and prove that you control it, or delete this login.",
        { Verification.IsPublished: false } => $"Not on the relays: its domain {a.Domain.Unicode} is not verified ({VerificationStates.ToName(domain.Verification.State)}). It returns once the domain is proven again.",
        _ => null,
    };
}

/// <summary>The headers the relays add to copies.</summary>
public static class OutboundHeaders
{
    public const string Bcc = "X-Relay-BCC";
    public const string Mirror = "X-Relay-AuthMirror";
}

/// <summary>Body of <c>POST /api/outbound-accounts</c>.</summary>
public sealed record OutboundAccountCreateRequest
{
    public required OutboundType Type { get; init; }

    /// <summary>Single-address accounts: the address; it is also the login.</summary>
    public string? Address { get; init; }

    /// <summary>Any-address and mail-server accounts: one of the caller's verified domains.</summary>
    public string? Domain { get; init; }

    /// <summary>Mail-server accounts: the login's part before '@' (default <c>mailserver</c>).</summary>
    public string? Name { get; init; }

    /// <summary>At least 5 characters, at most 72 bytes; or leave it out and send <c>generate: true</c>.</summary>
    public string? Password { get; init; }

    /// <summary>Generate a strong password, shown once in the answer.</summary>
    public bool? Generate { get; init; }

    public bool? Enabled { get; init; }

    public string? Ipv4Filter { get; init; }

    public string? Ipv6Filter { get; init; }

    /// <summary>Service level Standard and higher.</summary>
    public string? AlternateIpv4Filter { get; init; }

    /// <summary>Service level Standard and higher.</summary>
    public string? AlternateIpv6Filter { get; init; }

    /// <summary>Single-address accounts: any local part of the domain.</summary>
    public bool? AllowIdentities { get; init; }

    /// <summary>Single- and any-address accounts: any subdomain of the domain too.</summary>
    public bool? AllowSubdomains { get; init; }

    /// <summary>Addresses that get a separate copy of every submission (Personal and Personal Plus: one).</summary>
    public IReadOnlyList<string>? BccRecipients { get; init; }

    /// <summary>Mailboxes in the caller's own verified domains that get a copy marked with the mirror header (Personal and Personal Plus: one).</summary>
    public IReadOnlyList<string>? Mirrors { get; init; }

    /// <summary><c>automatic</c> (4xx for temporary errors such as DNS, 5xx for permanent ones) or <c>always-5xx</c>.</summary>
    public string? SubmissionErrors { get; init; }
}

/// <summary>Body of <c>PATCH /api/outbound-accounts/{login}</c> (merge patch: absent keeps, null clears).</summary>
public sealed record OutboundAccountPatchRequest
{
    public bool? Enabled { get; init; }

    public string? Ipv4Filter { get; init; }

    public string? Ipv6Filter { get; init; }

    public string? AlternateIpv4Filter { get; init; }

    public string? AlternateIpv6Filter { get; init; }

    public bool? AllowIdentities { get; init; }

    public bool? AllowSubdomains { get; init; }

    public IReadOnlyList<string>? BccRecipients { get; init; }

    public IReadOnlyList<string>? Mirrors { get; init; }

    public string? SubmissionErrors { get; init; }
}

/// <summary>Body of <c>PUT /api/outbound-accounts/{login}/password</c>: a password, or <c>generate: true</c>.</summary>
public sealed record PasswordRequest
{
    public string? Password { get; init; }

    public bool? Generate { get; init; }
}
