using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RelayFunctions.Alerts;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Alerts;

/// <summary>The Azure Communication Services transport against a local HTTP endpoint that records what it receives.</summary>
[Trait("Category", "Fast")]
public sealed class AcsEmailAlertSenderTests
{
    // Any 32 bytes; the test signs with them independently of the policy under test.
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly AlertMessage Alert = new("owner@acme.example", "Routing changed for acme.example", "acme.example is now on hold.");

    [Fact]
    public async Task AnAcceptedSendIsTheDocumentedRequestSignedWithTheAccessKey()
    {
        await using var acs = await FakeAcsEndpoint.StartAsync();

        await Sender(acs.Endpoint).SendAsync(Alert, CancellationToken.None);

        var request = Assert.Single(acs.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/emails:send?api-version=2023-03-31", request.Target);
        Assert.StartsWith("application/json", request.Headers["Content-Type"]);
        Assert.True(Guid.TryParse(request.Headers["Operation-Id"], out _));
        Assert.True(Guid.TryParse(request.Headers["x-ms-client-request-id"], out _));

        var json = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("alerts@relay.example", json.GetProperty("senderAddress").GetString());
        Assert.Equal("[relay] Routing changed for acme.example", json.GetProperty("content").GetProperty("subject").GetString());
        Assert.Equal("acme.example is now on hold.", json.GetProperty("content").GetProperty("plainText").GetString());
        Assert.Equal("owner@acme.example", Assert.Single(json.GetProperty("recipients").GetProperty("to").EnumerateArray()).GetProperty("address").GetString());

        var date = request.Headers["x-ms-date"];
        Assert.Equal("Tue, 04 Mar 2025 05:06:07 GMT", date);
        var contentHash = Convert.ToBase64String(SHA256.HashData(request.Body));
        Assert.Equal(contentHash, request.Headers["x-ms-content-sha256"]);
        var toSign = $"POST\n{request.Target}\n{date};{request.Headers["Host"]};{contentHash}";
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes(toSign)));
        Assert.Equal($"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}", request.Headers["Authorization"]);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(500)]
    public async Task AnErrorStatusIsADefiniteFailure(int status)
    {
        await using var acs = await FakeAcsEndpoint.StartAsync();
        acs.Enqueue(status, """{"error":{"code":"Denied","message":"No."}}""");

        var failure = await Assert.ThrowsAsync<AlertDeliveryException>(() => Sender(acs.Endpoint).SendAsync(Alert, CancellationToken.None));

        Assert.True(failure.Definite);
        Assert.Contains(status.ToString(), failure.Message);
        Assert.Single(acs.Requests);
    }

    [Fact]
    public async Task AThrottledSendIsRetriedAfterTheRetryAfterAndThenAccepted()
    {
        await using var acs = await FakeAcsEndpoint.StartAsync();
        acs.Enqueue(429, headers: new() { ["Retry-After"] = "1" });

        await Sender(acs.Endpoint).SendAsync(Alert, CancellationToken.None);

        Assert.Equal(2, acs.Requests.Count);
        Assert.Equal(acs.Requests[0].Headers["Operation-Id"], acs.Requests[1].Headers["Operation-Id"]);
    }

    [Fact]
    public async Task ATimeoutIsNotADefiniteFailure()
    {
        await using var acs = await FakeAcsEndpoint.StartAsync();
        acs.Enqueue(202, delay: TimeSpan.FromSeconds(10));

        var failure = await Assert.ThrowsAsync<AlertDeliveryException>(
            () => Sender(acs.Endpoint, timeout: TimeSpan.FromMilliseconds(500)).SendAsync(Alert, CancellationToken.None));

        Assert.False(failure.Definite);
        Assert.IsAssignableFrom<OperationCanceledException>(failure.InnerException);
        Assert.Single(acs.Requests);
    }

    [Fact]
    public async Task ARefusedConnectionIsADefiniteFailure()
    {
        var nobodyListens = new Uri($"http://127.0.0.1:{Azurite.FreePort()}");

        var failure = await Assert.ThrowsAsync<AlertDeliveryException>(() => Sender(nobodyListens).SendAsync(Alert, CancellationToken.None));

        Assert.True(failure.Definite);
    }

    private static AcsEmailAlertSender Sender(Uri endpoint, TimeSpan? timeout = null) =>
        new(Options.Create(new AlertOptions
        {
            Transport = "acs",
            From = "alerts@relay.example",
            Acs = new() { Endpoint = endpoint, AccessKey = Convert.ToBase64String(Key), Timeout = timeout ?? TimeSpan.FromSeconds(10) },
        }), new FakeTimeProvider(new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero)), NullLogger<AcsEmailAlertSender>.Instance);
}
