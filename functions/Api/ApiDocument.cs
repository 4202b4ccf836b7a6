using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace RelayFunctions.Api;

/// <summary>
/// The OpenAPI document at <c>/api/openapi.json</c>, complete enough to generate a client from: the bearer scheme and
/// which operations need it, 401/403 on each of those, the <c>ETag</c>, <c>If-Match</c> and <c>Location</c> headers,
/// and a description of every tag. Endpoints declare what is theirs (summary, tag, responses, <see cref="WithETag"/>,
/// <see cref="WithIfMatch"/>); what every protected operation has in common is added here.
/// </summary>
public static class ApiDocument
{
    public const string Path = "/api/openapi.json";
    public const string ReferencePath = "/api/reference";
    private const string Bearer = "bearer";

    /// <summary>The tags, by resource, in the order the reference shows them.</summary>
    public static readonly (string Name, string Description)[] Tags =
    [
        ("Account", "The caller's own account and its preferences."),
        ("Domains", "Mail domains: where the relay sends the mail of each, or that it holds it."),
        ("IP helpers", "IP address helpers: follow a dynamic-DNS name and switch a domain between redirect and hold."),
        ("Outbound accounts", "Smarthost logins for sending mail through the relays: single address, any address of a domain, or a mail server."),
        ("Operators", "Operator routes (role `operator`): accounts, the relay map and the relays' temporary blocks."),
    ];

    public static IServiceCollection AddApiDocument(this IServiceCollection services) =>
        services.AddHttpContextAccessor().AddOpenApi("v1", o =>
        {
            o.ShouldInclude = d => d.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
            // A request field's schema is its value's, in place: no component of its own.
            o.CreateSchemaReferenceId = t => OptionalValue(t.Type) is null ? Microsoft.AspNetCore.OpenApi.OpenApiOptions.CreateDefaultSchemaReferenceId(t) : null;
            o.AddDocumentTransformer((document, context, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "RelayFunctions",
                    Version = "v1",
                    Description = "The control plane of a mail relay service: mail domains, IP address helpers, accounts and the relay map. "
                        + "Every route but /api/health needs a bearer token whose `account` claim names the caller's account. "
                        + "Errors are RFC 9457 problem details; resources carry an ETag, and changes honour If-Match.",
                    License = new OpenApiLicense { Name = "Proprietary", Url = new Uri("https://relay.example/terms") },
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A JWT from the service's identity provider; locally, `dotnet user-jwts create`.",
                };
                document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
                // The address the document was fetched from, without the trailing slash; behind a proxy that ends TLS,
                // with the scheme the caller used (X-Forwarded-Proto), not the plain HTTP the proxy forwarded.
                var forwarded = ForwardedScheme(context.ApplicationServices.GetService<IHttpContextAccessor>()?.HttpContext);
                foreach (var server in document.Servers ?? [])
                {
                    server.Url = server.Url?.TrimEnd('/');
                    if (forwarded is not null && Uri.TryCreate(server.Url, UriKind.Absolute, out var url) && url.Scheme != forwarded)
                    {
                        server.Url = new UriBuilder(url) { Scheme = forwarded, Port = url.IsDefaultPort ? -1 : url.Port }.Uri.ToString().TrimEnd('/');
                    }
                }
                return Task.CompletedTask;
            });
            o.AddDocumentTransformer((document, context, _) =>
            {
                RequestFields(document, context.ApplicationServices);
                return Task.CompletedTask;
            });
            o.AddSchemaTransformer(async (schema, context, cancellationToken) =>
            {
                // A request field is described by its value: Optional<T> only tells an absent field from a null one.
                if (OptionalValue(context.JsonTypeInfo.Type) is { } valueType)
                {
                    var value = await context.GetOrCreateSchemaAsync(Nullable.GetUnderlyingType(valueType) ?? valueType, null, cancellationToken);
                    schema.Type = value.Type;
                    schema.Format = value.Format;
                    schema.Enum = value.Enum;
                    schema.Items = value.Items;
                    schema.Pattern = value.Pattern;
                }

                // Our enums are strings in JSON (JsonStringEnumConverter); say so, for generators that need the type.
                if (schema.Enum is { Count: > 0 } && schema.Type is null)
                {
                    schema.Type = JsonSchemaType.String;
                }
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                var problem = new OpenApiSchemaReference(nameof(Microsoft.AspNetCore.Mvc.ProblemDetails), context.Document);
                operation.Responses ??= [];
                if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
                {
                    operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] }];
                    Problem(operation, "401", "No valid bearer token.", problem);
                    Problem(operation, "403", metadata.OfType<AuthorizeAttribute>().Any(a => a.Policy is not null)
                        ? "The token's role does not allow this."
                        : "The token names no registered account.", problem);
                }
                if (metadata.OfType<ETagMetadata>().Any())
                {
                    foreach (var (status, response) in operation.Responses.Where(r => r.Key.StartsWith('2') && r.Key != "204"))
                    {
                        Header(response, "ETag", "The resource's entity tag: send it back in If-Match to change the resource only if nobody else did.");
                    }
                }
                foreach (var (status, response) in operation.Responses.Where(r => r.Key is "201" or "202"))
                {
                    Header(response, "Location", "The address of the resource.");
                }
                if (metadata.OfType<IfMatchMetadata>().Any())
                {
                    operation.Parameters ??= [];
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = "If-Match",
                        In = ParameterLocation.Header,
                        Required = false,
                        Description = "The ETag the change is based on; 412 if the resource has changed since. `*` or absent: whatever it is now.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    });
                }
                return Task.CompletedTask;
            });
        });

    public static void MapApiDocument(this WebApplication app)
    {
        app.MapOpenApi(Path).AllowAnonymous();
        // The reference page and its script are served by the app itself, and read the document above. Nothing on it
        // reaches outside the machine: no fonts from Scalar's CDN, no AI chat, MCP, telemetry or developer toolbar
        // (Deploy, Share), and its client sends requests straight to the API, not through Scalar's proxy.
        app.MapScalarApiReference(ReferencePath, o => o
            .WithTitle("RelayFunctions API")
            .WithOpenApiRoutePattern(Path)
            .DisableDefaultFonts()
            .DisableAgent()
            .DisableMcp()
            .DisableTelemetry()
            .HideDeveloperTools()
            .AddPreferredSecuritySchemes(Bearer)).AllowAnonymous();
    }

    /// <summary>
    /// The fields of the request bodies as a client sends them: a field that is not required takes null (in a merge
    /// patch null clears it), a named value refers to its set (<c>DomainMode</c>…), and an <see cref="UndocumentedAttribute"/>
    /// field is left out.
    /// </summary>
    private static void RequestFields(OpenApiDocument document, IServiceProvider services)
    {
        var json = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        foreach (var type in typeof(ApiDocument).Assembly.GetTypes().Where(t => !t.IsAbstract && typeof(IValidatable).IsAssignableFrom(t)))
        {
            if (document.Components?.Schemas is not { } schemas || !schemas.TryGetValue(type.Name, out var found) || found is not OpenApiSchema { Properties: { } fields })
            {
                continue;
            }
            foreach (var property in json.GetTypeInfo(type).Properties)
            {
                if (OptionalValue(property.PropertyType) is not { } valueType || !fields.TryGetValue(property.Name, out var field))
                {
                    continue;
                }
                if (property.AttributeProvider?.IsDefined(typeof(UndocumentedAttribute), inherit: true) == true)
                {
                    fields.Remove(property.Name);
                    continue;
                }
                var value = Nullable.GetUnderlyingType(valueType) ?? valueType;
                if (value.IsEnum)
                {
                    var named = new OpenApiSchemaReference(value.Name, document);
                    fields[property.Name] = property.IsRequired
                        ? named
                        : new OpenApiSchema { OneOf = [new OpenApiSchema { Type = JsonSchemaType.Null }, named], Description = field.Description };
                }
                else if (!property.IsRequired && field is OpenApiSchema schema)
                {
                    schema.Type |= JsonSchemaType.Null;
                }
            }
        }
    }

    /// <summary>The T of <see cref="Optional{T}"/>; null for any other type.</summary>
    private static Type? OptionalValue(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Optional<>) ? type.GetGenericArguments()[0] : null;

    /// <summary>The first scheme of <c>X-Forwarded-Proto</c>, when it is http or https.</summary>
    private static string? ForwardedScheme(HttpContext? http)
    {
        var value = http?.Request.Headers["X-Forwarded-Proto"].ToString().Split(',')[0].Trim().ToLowerInvariant();
        return value is "http" or "https" ? value : null;
    }

    /// <summary>The successful responses carry the resource's <c>ETag</c>.</summary>
    public static TBuilder WithETag<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new ETagMetadata());

    /// <summary>The operation honours <c>If-Match</c> (412 when it no longer matches).</summary>
    public static TBuilder WithIfMatch<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new IfMatchMetadata()).ProducesProblem(StatusCodes.Status412PreconditionFailed);

    private static void Problem(OpenApiOperation operation, string status, string description, IOpenApiSchema schema)
    {
        operation.Responses!.TryAdd(status, new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = schema } },
        });
    }

    private static void Header(IOpenApiResponse response, string name, string description)
    {
        if (response is OpenApiResponse concrete)
        {
            concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
            concrete.Headers[name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
        }
    }

    private sealed record ETagMetadata;

    private sealed record IfMatchMetadata;
}

/// <summary>A request field that the OpenAPI document leaves out: one that is accepted, but changes nothing.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class UndocumentedAttribute : Attribute;
