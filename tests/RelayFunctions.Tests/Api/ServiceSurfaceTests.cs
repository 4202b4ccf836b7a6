using System.Net;
using RelayFunctions.Health;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Api;

public sealed class ServiceSurfaceTests : IClassFixture<AppFactory>
{
    private readonly AppFactory _app;

    public ServiceSurfaceTests(AppFactory app) => _app = app;

    [Fact]
    public async Task HealthIsAnonymousAndReportsEachStorageService()
    {
        var response = await _app.CreateClient().GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await response.ReadViewAsync<HealthEndpoints.HealthView>();
        Assert.Equal("healthy", report.Status);
        foreach (var service in new[] { "tables", "queues", "blobs" })
        {
            Assert.Equal("healthy", report.Checks[service].Status);
        }
    }

    [Fact]
    public async Task HealthSaysUnhealthyWhenStorageIsUnreachable()
    {
        var deadPort = Azurite.FreePort();
        var dead = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:{deadPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{deadPort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{deadPort}/devstoreaccount1;";
        await using var app = new AppFactory([new("AzureWebJobsStorage", dead)]);
        var response = await app.CreateClient().GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var report = await response.ReadViewAsync<HealthEndpoints.HealthView>();
        Assert.Equal("unhealthy", report.Status);
        Assert.Equal("unhealthy", report.Checks["tables"].Status);
    }

    [Fact]
    public async Task CorsAllowsOnlyTheConfiguredSpaOrigins()
    {
        var client = _app.CreateClient();
        var allowed = new HttpRequestMessage(HttpMethod.Options, "/api/domains");
        allowed.Headers.Add("Origin", "https://control.example");
        allowed.Headers.Add("Access-Control-Request-Method", "PATCH");
        allowed.Headers.Add("Access-Control-Request-Headers", "authorization,if-match,content-type");
        var yes = await client.SendAsync(allowed);
        Assert.Equal("https://control.example", yes.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("PATCH", yes.Headers.GetValues("Access-Control-Allow-Methods").Single());

        var other = new HttpRequestMessage(HttpMethod.Options, "/api/domains");
        other.Headers.Add("Origin", "https://evil.example");
        other.Headers.Add("Access-Control-Request-Method", "DELETE");
        var no = await client.SendAsync(other);
        Assert.False(no.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task UnknownRoutesAnswerProblemDetails()
    {
        await (await _app.ClientFor("anyone").GetAsync("/api/no-such-thing")).AssertProblemAsync(HttpStatusCode.NotFound);
    }
}
