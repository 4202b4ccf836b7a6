using System.Reflection;
using RelayFunctions.Api;
using RelayFunctions.Destinations;

namespace RelayFunctions.Domains;

/// <summary>Body of <c>POST /api/domains</c>.</summary>
public sealed record DomainCreateRequest : DomainSettingsRequest, IValidatable, IBindableFromHttpContext<DomainCreateRequest>
{
    /// <summary>The domain, e.g. <c>example.com</c>; internationalized names are accepted.</summary>
    public required Optional<string?> Name { get; init; }

    /// <summary>How the relay handles the domain's mail.</summary>
    public required override Optional<DomainMode?> Mode { get; init; }

    public static ValueTask<DomainCreateRequest?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        JsonBody.ReadAsync<DomainCreateRequest>(context, maxEntries: MaxEntries);

    public void Validate(FieldErrors errors, HttpContext http) =>
        ToDomain(http.RequestServices.GetRequiredService<DestinationPolicy>(), errors);

    /// <summary>The domain's name and settings; null with errors added.</summary>
    public (DomainName Name, DomainSettings Settings)? ToDomain(DestinationPolicy destinations, FieldErrors errors)
    {
        DomainName? name = null;
        if (Name.Value is not { } text)
        {
            errors.Add("name", "A domain name is required.");
        }
        else if (!DomainName.TryParse(text, out name, out var error))
        {
            errors.Add("name", error!);
        }
        else if (PublicSuffixList.Embedded.IsPublicSuffix(name))
        {
            errors.Add("name", $"{name.Unicode} is a public suffix, under which anyone registers their own domains: register yours, such as example.{name.Unicode}.");
            name = null;
        }
        if (!Mode.IsPresent)
        {
            errors.Add("mode", $"Required: one of {string.Join(", ", DomainModes.Names)}.");
        }
        var settings = Apply(name, current: null, destinations, errors);
        return name is null || settings is null ? null : (name, settings);
    }
}

/// <summary>Body of <c>PATCH /api/domains/{name}</c> (merge patch: absent keeps, null clears).</summary>
public sealed record DomainPatchRequest : DomainSettingsRequest, IValidatable, IBindableFromHttpContext<DomainPatchRequest>
{
    /// <summary>How the relay handles the domain's mail.</summary>
    public override Optional<DomainMode?> Mode { get; init; }

    /// <summary>
    /// The domain's own name, accepted as it is (in any case or form, such as the body of a GET sent back); any other
    /// name is a rename, which is refused. Not in the document: there is nothing to change with it.
    /// </summary>
    [Undocumented]
    public Optional<string?> Name { get; init; }

    public static ValueTask<DomainPatchRequest?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        JsonBody.ReadAsync<DomainPatchRequest>(context, maxEntries: MaxEntries);

    /// <summary>
    /// Each field on its own, and the name against the one in the path (a path that names no domain is not found);
    /// how the fields go together with the stored domain is <see cref="DomainSettingsRequest.Apply"/>'s to check.
    /// </summary>
    public void Validate(FieldErrors errors, HttpContext http)
    {
        DomainName.TryParse(http.GetRouteValue("name") as string, out var domain, out _);
        if (Name.IsPresent && domain is not null && (!DomainName.TryParse(Name.Value, out var named, out _) || named != domain))
        {
            errors.Add("name", "A domain cannot be renamed; create the new name and delete the old one.");
        }
        Read(domain, http.RequestServices.GetRequiredService<DestinationPolicy>(), errors);
    }
}
