using System.Text;
using RelayAgent;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>The delta file's lines, as the agent reads them: what it accepts, and what makes a delta corrupt.</summary>
[Trait("Category", "Fast")]
public sealed class MapDeltaTests
{
    [Fact]
    public void PutsKeepTheRestOfTheLineAsTheValueAndDeletesHaveNone()
    {
        var delta = Parse("+ transport a.example smtp:[name.example]:2525, [127.0.0.1]:9\n- relay_domains b.example\n+ message_size_limits a.example 2097152\n");

        Assert.Equal(
            [new MapChange("transport", "a.example", "smtp:[name.example]:2525, [127.0.0.1]:9"), new MapChange("relay_domains", "b.example", null), new MapChange("message_size_limits", "a.example", "2097152")],
            delta.Changes);
    }

    [Fact]
    public void AnEmptyDeltaChangesNothing() => Assert.Empty(Parse("").Changes);

    [Theory]
    [InlineData("+ passwd alice@a.example x\n")] // not a table a delta changes line by line
    [InlineData("+ transport a.example\n")] // a put without a value
    [InlineData("- transport a.example smtp:[192.0.2.1]:25\n")] // a delete with a value
    [InlineData("* transport a.example x\n")]
    [InlineData("+ transport a.example x\n- transport a.example\n")] // a key twice in one table
    [InlineData("+ transport a.example x\r\n")]
    public void AMalformedLineMakesTheDeltaCorrupt(string text) => Assert.Throws<InvalidDataException>(() => Parse(text));

    [Fact]
    public void ADeltaMayCarryOnlyTheOutboundTablesWhole()
    {
        Assert.Equal(["passwd"], MapDelta.Parse(2, 1, new Dictionary<string, byte[]> { ["delta"] = [], ["passwd"] = [] }).Tables.Keys);
        Assert.Throws<InvalidDataException>(() => MapDelta.Parse(2, 1, new Dictionary<string, byte[]> { ["delta"] = [], ["transport"] = [] }));
        Assert.Throws<InvalidDataException>(() => MapDelta.Parse(2, 1, new Dictionary<string, byte[]> { ["passwd"] = [] }));
    }

    private static MapDelta Parse(string text) => MapDelta.Parse(2, 1, new Dictionary<string, byte[]> { ["delta"] = Encoding.UTF8.GetBytes(text) });
}
