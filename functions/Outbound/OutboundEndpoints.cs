using Microsoft.AspNetCore.Http.HttpResults;
using RelayFunctions.Accounts;
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
        var accounts = scoped.MapGroup("/outbound-accounts").WithTags("Outbound accounts").AddEndpointFilter<ValidationFilter>();
        accounts.MapGet("", async (Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct) =>
        {
            var held = (await domains.ListAsync(caller.AccountId, ct)).ToDictionary(d => d.Name);
            return TypedResults.Ok(new OutboundAccountList((await store.ListAsync(caller.AccountId, ct))
                .Select(a => OutboundAccountView.From(a, held.GetValueOrDefault(a.Domain))).ToList()));
        })
            .WithName("ListOutboundAccounts").WithSummary("The caller's outbound accounts.");

        accounts.MapPost("", CreateAsync)
            .WithName("CreateOutboundAccount").WithSummary("Creates an outbound account on one of the caller's verified domains.")
            .Accepts<OutboundAccountCreateRequest>("application/json").WithETag();

        accounts.MapGet("/{login}", async (string login, HttpContext http, Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct) =>
        {
            var account = await store.FindAsync(caller.AccountId, login.ToLowerInvariant(), ct);
            var domain = account is null ? null : await domains.FindAsync(caller.AccountId, account.Domain, ct);
            return account.ToFound(http, $"Outbound account '{login}'", a => OutboundAccountView.From(a, domain), a => a.ETag);
        }).WithName("GetOutboundAccount").WithSummary("One outbound account.").WithETag();

        accounts.MapPatch("/{login}", PatchAsync)
            .WithName("UpdateOutboundAccount").WithSummary("Changes an outbound account's settings (JSON merge patch: absent keeps, null clears).")
            .Accepts<OutboundAccountPatchRequest>("application/merge-patch+json", "application/json").WithETag().WithIfMatch();

        accounts.MapPut("/{login}/password", PasswordAsync)
            .WithName("ChangeOutboundPassword").WithSummary("Sets a new password, given or generated (a generated one is shown once, in this answer).")
            .Accepts<PasswordRequest>("application/json").WithETag().WithIfMatch();

        accounts.MapDelete("/{login}", async (string login, HttpContext http, Caller caller, OutboundStore store, CancellationToken ct) =>
            (await store.DeleteAsync(caller.AccountId, login.ToLowerInvariant(), EntityTags.IfMatch(http.Request), ct)).ToDeleted($"Outbound account '{login}'"))
            .WithName("DeleteOutboundAccount").WithSummary("Deletes an outbound account; its login stops working at once on every relay.").WithIfMatch();
    }

    private static async Task<Results<Created<OutboundAccountView>, ConflictProblem, ValidationProblem>> CreateAsync(
        OutboundAccountCreateRequest request, HttpContext http, Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct)
    {
        var (account, password, generated) = request.ToAccount(caller.Account.ServiceLevel, new FieldErrors())!.Value;
        var errors = new FieldErrors();
        var domain = await domains.FindAsync(caller.AccountId, account.Domain, ct);
        if (domain is not { Verification.IsPublished: true })
        {
            errors.Add(account.Type == OutboundType.SingleAddress ? "address" : "domain",
                $"{account.Domain.Unicode} is not one of your verified mail domains: add it and prove that you control it first.");
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }
        if (await MirrorErrorsAsync(request, errors, caller.AccountId, domains, ct))
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }
        var outcome = await store.CreateAsync(caller.AccountId, account, Hash(password), ct);
        return outcome.ToCreated(http, a => OutboundAccountView.From(a, domain, generated ? password : null), a => a.ETag,
            a => $"/api/outbound-accounts/{Uri.EscapeDataString(a.Login)}");
    }

    private static async Task<Results<Ok<OutboundAccountView>, NotFoundProblem, ConflictProblem, PreconditionFailedProblem, ValidationProblem>> PatchAsync(
        string login, OutboundAccountPatchRequest request, HttpContext http, Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (await MirrorErrorsAsync(request, errors, caller.AccountId, domains, ct))
        {
            return TypedResults.ValidationProblem(errors.ToDictionary());
        }
        var outcome = await store.UpdateAsync(caller.AccountId, login.ToLowerInvariant(), EntityTags.IfMatch(http.Request), current =>
            request.Apply(current.Type, caller.Account.ServiceLevel, current.Settings, errors) is { } settings
                ? new Outcome<OutboundAccount>.Ok(current with
                {
                    Settings = settings,
                    // New filters are looked up at once.
                    Resolution = settings.Filters == current.Settings.Filters ? current.Resolution : current.Resolution with { NextLookup = null },
                })
                : new Outcome<OutboundAccount>.Invalid(errors.ToDictionary()), ct);
        return await ViewAsync(outcome, http, $"Outbound account '{login}'", caller, domains, null, ct);
    }

    private static async Task<Results<Ok<OutboundAccountView>, NotFoundProblem, ConflictProblem, PreconditionFailedProblem, ValidationProblem>> PasswordAsync(
        string login, PasswordRequest request, HttpContext http, Caller caller, OutboundStore store, DomainStore domains, CancellationToken ct)
    {
        var (password, generated) = NewPassword.Read(request.Password, request.Generate, new FieldErrors())!.Value;
        var hash = Hash(password);
        var outcome = await store.UpdateAsync(caller.AccountId, login.ToLowerInvariant(), EntityTags.IfMatch(http.Request),
            current => new Outcome<OutboundAccount>.Ok(current with { PasswordHash = hash }), ct);
        return await ViewAsync(outcome, http, $"Outbound account '{login}'", caller, domains, generated ? password : null, ct);
    }

    /// <summary>The answer for one login, with whether it is on the relays (which depends on its domain).</summary>
    private static async Task<Results<Ok<OutboundAccountView>, NotFoundProblem, ConflictProblem, PreconditionFailedProblem, ValidationProblem>> ViewAsync(
        Outcome<OutboundAccount> outcome, HttpContext http, string what, Caller caller, DomainStore domains, string? generatedPassword, CancellationToken ct)
    {
        var domain = outcome is Outcome<OutboundAccount>.Ok ok ? await domains.FindAsync(caller.AccountId, ok.Value.Domain, ct) : null;
        return outcome.ToChanged(http, what, a => OutboundAccountView.From(a, domain, generatedPassword), a => a.ETag);
    }

    private static string Hash(string password) => HashScheme + BCrypt.Net.BCrypt.HashPassword(password, WorkFactor);

    /// <summary>
    /// A mirror is a mailbox of the caller's own: its domain must be one of the caller's verified domains. True when one
    /// is not (errors added). Each domain is read once.
    /// </summary>
    private static async Task<bool> MirrorErrorsAsync(OutboundSettingsRequest request, FieldErrors errors, string accountId, DomainStore domains, CancellationToken ct)
    {
        var mirrors = request.Mirrors.Value ?? [];
        var verified = new Dictionary<DomainName, bool>();
        var refused = false;
        for (var i = 0; i < mirrors.Count; i++)
        {
            if (!EmailAddress.TryParse(mirrors[i], out var address, out _))
            {
                continue;
            }
            if (!verified.TryGetValue(address.Domain, out var ok))
            {
                verified[address.Domain] = ok = await domains.FindAsync(accountId, address.Domain, ct) is { Verification.IsPublished: true };
            }
            if (!ok)
            {
                errors.Add($"mirrors[{i}]", $"{address.Domain.Unicode} is not one of your verified mail domains: a mirror is a mailbox of your own.");
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
            a.Resolution.Addresses.ToDictionary(kv => OutboundSettingsRequest.FieldOf(kv.Key), kv => (IReadOnlyList<string>)kv.Value.Select(ip => ip.ToString()).ToList()),
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
