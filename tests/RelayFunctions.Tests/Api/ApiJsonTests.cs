using System.Net;
using System.Text;
using System.Text.Json;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Api;

/// <summary>Tests read answers as view records; a member the answer leaves out fails the read instead of reading as null.</summary>
[Trait("Category", "Fast")]
public sealed class ApiJsonTests
{
    private sealed record Probe(string? Reason, int Count);

    private static HttpResponseMessage Answer(string json) =>
        new(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    [Fact]
    public async Task AWrittenNullReadsAsNull()
    {
        var probe = await Answer("""{"reason":null,"count":3}""").ReadViewAsync<Probe>();
        Assert.Null(probe.Reason);
        Assert.Equal(3, probe.Count);
    }

    [Fact]
    public async Task AMemberLeftOutFailsTheRead()
    {
        var e = await Assert.ThrowsAsync<JsonException>(() => Answer("""{"count":3}""").ReadViewAsync<Probe>());
        Assert.Contains("reason", e.Message, StringComparison.Ordinal);
    }
}
