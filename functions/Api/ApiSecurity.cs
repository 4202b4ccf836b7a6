using Microsoft.AspNetCore.Authentication.JwtBearer;
using RelayFunctions.Hosting;

namespace RelayFunctions.Api;

/// <summary>Bearer JWT authentication, the operator policy, and CORS for the SPA's origins.</summary>
public static class ApiSecurity
{
    public const string CorsPolicy = "spa";

    public static IServiceCollection AddApiSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddCheckedOptions<AuthOptions>(configuration, AuthOptions.Section, AuthOptions.Check);
        services.AddScoped<Caller>();
        // Token validation (Authority, ValidAudiences, ValidIssuer, and the signing keys that
        // `dotnet user-jwts` writes to user secrets) is bound from Authentication:Schemes:Bearer.
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o => o.MapInboundClaims = false);
        var operatorRole = configuration[$"{AuthOptions.Section}:OperatorRole"] ?? new AuthOptions().OperatorRole;
        services.AddAuthorizationBuilder()
            .AddPolicy(OperatorPolicy.Name, p => p.RequireAuthenticatedUser().RequireAssertion(c => OperatorPolicy.IsOperator(c.User, operatorRole)));

        var origins = configuration.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? [];
        services.AddCors(o => o.AddPolicy(CorsPolicy, p => p
            .WithOrigins(origins)
            .WithMethods("GET", "POST", "PUT", "PATCH", "DELETE")
            .WithHeaders("Authorization", "Content-Type", "If-Match")
            .WithExposedHeaders("ETag", "Location")));
        return services;
    }
}
