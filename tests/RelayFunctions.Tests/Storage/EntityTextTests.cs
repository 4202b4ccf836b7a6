using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Storage;

/// <summary>The size estimate against what the Tables SDK really sends to Azurite.</summary>
public sealed class EntityTextTests
{
    /// <summary>Measures each request body the SDK sends.</summary>
    private sealed class BodySizes : HttpPipelineSynchronousPolicy
    {
        public long Last { get; private set; }

        public override void OnSendingRequest(HttpMessage message)
        {
            using var buffer = new MemoryStream();
            message.Request.Content?.WriteTo(buffer, default);
            Last = buffer.Length;
        }
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("&")]
    [InlineData("<'>+")]
    [InlineData("\u00fc\u00e9")]
    [InlineData("\"\\")]
    public async Task TheEstimateIsWhatTheSdkSends(string characters)
    {
        var sizes = new BodySizes();
        var options = new TableClientOptions();
        options.AddPolicy(sizes, HttpPipelinePosition.PerCall);
        var table = new TableServiceClient(Azurite.ConnectionString, options).GetTableClient(Azurite.NewPrefix() + "Sizes");
        await table.CreateIfNotExistsAsync();

        var now = DateTimeOffset.UtcNow;
        var name = DomainName.Parse("size.example");
        var recipients = Enumerable.Range(0, 300).Select(i => $"{string.Concat(Enumerable.Repeat(characters, 10))}{i}@size.example").ToArray();
        var settings = new DomainSettings(DomainMode.Redirect, new Destination("192.0.32.10", 25), recipients, DomainSettings.DefaultMessageSizeLimit);
        var entity = DomainStore.ToEntity("acct", name, settings, DomainVerification.New(now), now);

        await table.AddEntityAsync(entity);

        var estimate = EntityText.RequestBytes(entity);
        Assert.InRange(estimate, sizes.Last, sizes.Last + 100);
        Assert.True(EntityText.SizeOf(entity) >= sizes.Last);
    }
}
