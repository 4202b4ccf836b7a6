using Azure;
using Microsoft.AspNetCore.Http;
using RelayFunctions.Api;

namespace RelayFunctions.Tests.Api;

[Trait("Category", "Fast")]
public sealed class EntityTagsTests
{
    private static ETag? IfMatch(string? header)
    {
        var context = new DefaultHttpContext();
        if (header is not null)
        {
            context.Request.Headers.IfMatch = header;
        }
        return EntityTags.IfMatch(context.Request);
    }

    [Fact]
    public void AStorageTagRoundTripsAsAStrongHttpTag()
    {
        var storage = new ETag("W/\"datetime'2026-11-23T03%3A48%3A15.5953717Z'\"");
        var http = EntityTags.ToHttp(storage);
        Assert.StartsWith("\"", http);
        Assert.DoesNotContain("W/", http);
        Assert.Equal(storage, IfMatch(http));
    }

    [Fact]
    public void PreconditionsAreAbsentAnyOrNeverForTagsWeDidNotIssue()
    {
        Assert.Null(IfMatch(null));
        Assert.Equal(ETag.All, IfMatch("*"));
        Assert.Equal(EntityTags.Never, IfMatch("\"garbage\""));
        Assert.Equal(EntityTags.Never, IfMatch("W/\"weak\""));
        Assert.False(EntityTags.Satisfied(EntityTags.Never, new ETag("W/\"x\"")));
        Assert.True(EntityTags.Satisfied(null, new ETag("W/\"x\"")));
        Assert.True(EntityTags.Satisfied(ETag.All, new ETag("W/\"x\"")));
    }
}
