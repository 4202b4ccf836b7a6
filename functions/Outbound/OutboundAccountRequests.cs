using System.Reflection;
using RelayFunctions.Accounts;
using RelayFunctions.Api;
using RelayFunctions.Domains;

namespace RelayFunctions.Outbound;

/// <summary>Body of <c>POST /api/outbound-accounts</c>.</summary>
public sealed record OutboundAccountCreateRequest : OutboundSettingsRequest, IValidatable, IBindableFromHttpContext<OutboundAccountCreateRequest>
{
    public required Optional<OutboundType?> Type { get; init; }

    /// <summary>Single-address accounts: the address; it is also the login.</summary>
    public Optional<string?> Address { get; init; }

    /// <summary>Any-address and mail-server accounts: one of the caller's verified domains.</summary>
    public Optional<string?> Domain { get; init; }

    /// <summary>Mail-server accounts: the login's part before '@' (default <c>mailserver</c>).</summary>
    public Optional<string?> Name { get; init; }

    /// <summary>At least 5 characters, at most 72 bytes; or leave it out and send <c>generate: true</c>.</summary>
    public Optional<string?> Password { get; init; }

    /// <summary>Generate a strong password, shown once in the answer.</summary>
    public Optional<bool?> Generate { get; init; }

    public static ValueTask<OutboundAccountCreateRequest?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        JsonBody.ReadAsync<OutboundAccountCreateRequest>(context, maxEntries: MaxEntries);

    public void Validate(FieldErrors errors, HttpContext http) => ToAccount(LevelOf(http), errors);

    /// <summary>The account to create and its password (given or generated); null with errors added.</summary>
    public (NewOutboundAccount Account, string Password, bool Generated)? ToAccount(ServiceLevel level, FieldErrors errors)
    {
        if (Type.Value is null && Type.Errors.Count == 0)
        {
            errors.Add("type", $"Required: one of {string.Join(", ", OutboundTypes.Names)}.");
        }
        var type = Type.Value ?? OutboundType.SingleAddress;
        EmailAddress? address = null;
        DomainName? domain = null;
        string? login = null;
        if (type == OutboundType.SingleAddress && !errors.Has("type"))
        {
            // Postfix folds the case of table keys; the account keeps the one form it will see.
            if (!EmailAddress.TryParse(Address.Value?.ToLowerInvariant(), out address, out var error))
            {
                errors.Add("address", Address.Value is null ? "Required for a single-address account: the address it sends as." : error!);
            }
            else
            {
                domain = address.Domain;
                login = address.ToString();
            }
            Refuse(errors, Domain.Value is not null, "domain", "Not used by a single-address account: its domain is the address's.");
            Refuse(errors, Name.Value is not null, "name", "Only a mail-server account has a name.");
        }
        else if (!errors.Has("type"))
        {
            if (!DomainName.TryParse(Domain.Value, out domain, out var error))
            {
                errors.Add("domain", Domain.Value is null ? "Required: one of your verified mail domains." : error!);
            }
            Refuse(errors, Address.Value is not null, "address", "Only a single-address account has an address.");
            if (type == OutboundType.AnyAddress)
            {
                Refuse(errors, Name.Value is not null, "name", "Only a mail-server account has a name.");
                login = domain is null ? null : "@" + domain.Value;
            }
            else
            {
                var name = (Name.Value ?? "mailserver").Trim().ToLowerInvariant();
                if (name.Length > 64 || !EmailAddress.LocalPartPattern().IsMatch(name))
                {
                    errors.Add("name", "1–64 letters, digits and !#$%&'*+/=?^_`{|}~.- (no leading, trailing or double dots): the part of the login before '@'.");
                }
                login = domain is null ? null : $"{name}@{domain.Value}";
            }
        }

        // The login is a path segment of …/outbound-accounts/{login}: refused in the field it comes from.
        if (login is not null && login.Any(c => c is '/' or '\\' or '#' or '?'))
        {
            errors.Add(type == OutboundType.SingleAddress ? "address" : "name", "A login cannot hold '/', '\\', '#' or '?'.");
        }
        var password = NewPassword.Read(Password, Generate, errors);
        var settings = Apply(type, level, current: null, errors);
        return errors.Any ? null : (new NewOutboundAccount(type, login!, domain!, address, settings!), password!.Value.Password, password.Value.Generated);
    }

    private static void Refuse(FieldErrors errors, bool condition, string field, string message)
    {
        if (condition)
        {
            errors.Add(field, message);
        }
    }
}

/// <summary>Body of <c>PATCH /api/outbound-accounts/{login}</c> (merge patch: absent keeps, null clears).</summary>
public sealed record OutboundAccountPatchRequest : OutboundSettingsRequest, IValidatable, IBindableFromHttpContext<OutboundAccountPatchRequest>
{
    private const string Fixed = "Cannot be changed: create another account and delete this one.";
    private const string OtherRoute = "Change the password with PUT …/password.";

    private static readonly Dictionary<string, string> Refused = new()
    {
        ["type"] = Fixed,
        ["address"] = Fixed,
        ["domain"] = Fixed,
        ["name"] = Fixed,
        ["login"] = Fixed,
        ["password"] = OtherRoute,
        ["generate"] = OtherRoute,
    };

    public static ValueTask<OutboundAccountPatchRequest?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        JsonBody.ReadAsync<OutboundAccountPatchRequest>(context, Refused, MaxEntries);

    /// <summary>Each field on its own; how they go together with the stored account is <see cref="OutboundSettingsRequest.Apply"/>'s to check.</summary>
    public void Validate(FieldErrors errors, HttpContext http) => Read(LevelOf(http), errors);
}

/// <summary>Body of <c>PUT /api/outbound-accounts/{login}/password</c>: a password, or <c>generate: true</c>.</summary>
public sealed record PasswordRequest : IValidatable, IBindableFromHttpContext<PasswordRequest>
{
    public Optional<string?> Password { get; init; }

    public Optional<bool?> Generate { get; init; }

    public static ValueTask<PasswordRequest?> BindAsync(HttpContext context, ParameterInfo parameter) => JsonBody.ReadAsync<PasswordRequest>(context);

    public void Validate(FieldErrors errors, HttpContext http) => NewPassword.Read(Password, Generate, errors);
}
