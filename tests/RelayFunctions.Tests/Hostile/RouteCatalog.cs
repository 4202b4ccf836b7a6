using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace RelayFunctions.Tests.Hostile;

/// <summary>A field of a request body as the OpenAPI document describes it.</summary>
internal sealed record BodyField(string Name, string Type, IReadOnlyList<string> Enum, bool Required);

/// <summary>
/// One route of one host: its method and pattern from the app's own endpoints, so a route added later is fuzzed without
/// anybody listing it; its query parameters and body fields from the OpenAPI document, where it has them.
/// </summary>
internal sealed record Route(string Host, string Method, string Pattern, IReadOnlyList<string> Parameters, IReadOnlyList<string> Query,
    IReadOnlyList<BodyField>? Body, bool Anonymous)
{
    public string Key => $"{Host} {Method} {Pattern}";

    public bool IsInvocation => Pattern == "/{functionName}";

    public bool IsAdmin => Pattern.StartsWith("/api/admin/", StringComparison.Ordinal);
}

internal static class RouteCatalog
{
    /// <summary>Every route endpoint of <paramref name="services"/>'s app, described with what the OpenAPI document says of it.</summary>
    public static IReadOnlyList<Route> Read(string host, IServiceProvider services, JsonElement openApi)
    {
        var routes = new List<Route>();
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").Trim('/');
            var parameters = endpoint.RoutePattern.Parameters.Select(p => p.Name).ToList();
            var anonymous = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null
                || endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>() is null;
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                var operation = Operation(openApi, pattern, method);
                routes.Add(new Route(host, method, pattern, parameters, QueryOf(operation), BodyOf(openApi, operation), anonymous));
            }
        }
        return routes;
    }

    private static JsonElement? Operation(JsonElement document, string pattern, string method) =>
        document.GetProperty("paths").TryGetProperty(pattern, out var path) && path.TryGetProperty(method.ToLowerInvariant(), out var operation)
            ? operation
            : null;

    private static List<string> QueryOf(JsonElement? operation) =>
        operation is { } o && o.TryGetProperty("parameters", out var parameters)
            ? parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!).ToList()
            : [];

    private static List<BodyField>? BodyOf(JsonElement document, JsonElement? operation)
    {
        if (operation is not { } o || !o.TryGetProperty("requestBody", out var body))
        {
            return null;
        }
        var schema = Resolve(document, body.GetProperty("content").EnumerateObject().First().Value.GetProperty("schema"));
        var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()!).ToHashSet() : [];
        var fields = new List<BodyField>();
        foreach (var property in schema.GetProperty("properties").EnumerateObject())
        {
            var (type, values) = TypeOf(document, property.Value);
            fields.Add(new BodyField(property.Name, type, values, required.Contains(property.Name)));
        }
        return fields;
    }

    /// <summary>"string", "integer", "boolean", "array" or "enum" (with its values), looking through $ref, oneOf and nullable types.</summary>
    private static (string Type, IReadOnlyList<string> Enum) TypeOf(JsonElement document, JsonElement schema)
    {
        schema = Resolve(document, schema);
        if (schema.TryGetProperty("enum", out var values))
        {
            return ("enum", values.EnumerateArray().Select(v => v.GetString()!).ToList());
        }
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            return oneOf.EnumerateArray().Select(s => TypeOf(document, s)).FirstOrDefault(t => t.Type != "null", ("string", []));
        }
        if (schema.TryGetProperty("type", out var type))
        {
            var name = type.ValueKind == JsonValueKind.Array
                ? type.EnumerateArray().Select(t => t.GetString()!).First(t => t != "null")
                : type.GetString()!;
            return (name, []);
        }
        return ("string", []);
    }

    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        while (schema.TryGetProperty("$ref", out var reference))
        {
            schema = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
        }
        return schema;
    }
}
