using RelayFunctions.Accounts;
using RelayFunctions.Api;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.Health;
using RelayFunctions.IpHelpers;
using RelayFunctions.Outbound;
using RelayFunctions.RelayMap;

namespace RelayFunctions.Hosting;

/// <summary>The HTTP pipeline and every route. Both hosts serve the same <c>/api</c> surface.</summary>
public static class AppPipeline
{
    public static WebApplication UseRelayFunctions(this WebApplication app)
    {
        var mode = app.Services.GetRequiredService<HostingMode>();
        if (mode.IsCustomHandler)
        {
            // The Functions host talks to us on loopback only, on the port it chose.
            app.Urls.Clear();
            app.Urls.Add($"http://127.0.0.1:{mode.CustomHandlerPort}");
        }
        else if (app.Urls.Count == 0 && string.IsNullOrEmpty(app.Configuration["ASPNETCORE_URLS"]) && string.IsNullOrEmpty(app.Configuration["urls"]))
        {
            app.Urls.Add("http://127.0.0.1:7071");
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors(ApiSecurity.CorsPolicy);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRequestTimeouts();

        var api = app.MapGroup("/api");
        api.MapHealthEndpoints();
        app.MapApiDocument();

        var scoped = api.MapGroup("").RequireAuthorization().AddEndpointFilter<CallerFilter>();
        scoped.MapAccountEndpoints();
        scoped.MapDomainEndpoints();
        scoped.MapVerificationEndpoints();
        scoped.MapOutboundEndpoints();
        scoped.MapUsageEndpoints();
        scoped.MapHelperEndpoints();

        var admin = api.MapGroup("/admin").RequireAuthorization(OperatorPolicy.Name);
        admin.MapAdminAccountEndpoints();
        admin.MapAdminVerificationEndpoints();
        admin.MapRelayMapEndpoints();
        admin.MapRelayBlockEndpoints();

        if (mode.IsCustomHandler)
        {
            app.MapFunctionInvocations();
        }
        return app;
    }
}
