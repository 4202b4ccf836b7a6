namespace RelayFunctions.Tests.Hostile;

/// <summary>The relay map checker of the hostile suite reads a delta as a delta: <c>+ table key value</c> and <c>- table key</c>.</summary>
[Trait("Category", "Fast")]
public sealed class RelayMapAuditTests
{
    private static List<string> Audit(string file, string text)
    {
        var bad = new List<string>();
        RelayMapAudit.Lines(file, text, bad.Add);
        return bad;
    }

    [Fact]
    public void ADeltaOfPutsAndDeletesIsValid()
    {
        var delta = """
            + transport lists.mallory.co.uk hold:[127.0.0.1]:9
            + transport .lists.mallory.co.uk smtp:[192.0.32.10]:25
            + relay_domains lists.mallory.co.uk OK
            + relay_recipients @lists.mallory.co.uk OK
            + message_size_limits lists.mallory.co.uk 10485760
            - transport old.mallory.co.uk
            - relay_recipients a@old.mallory.co.uk

            """.Replace("\r", "");
        Assert.Empty(Audit("delta", delta));
    }

    [Theory]
    [InlineData("+ transport lists.mallory.co.uk")]
    [InlineData("- transport")]
    [InlineData("* transport lists.mallory.co.uk relay:")]
    [InlineData("+ passwd a b")]
    [InlineData("+ transport lists.mallory.co.uk relay: extra")]
    [InlineData("+ transport lists.mallory.co.uk smtp:[10.0.0.1]:25")]
    [InlineData("+ transport lists.mallory.co.uk error:x")]
    [InlineData("+ message_size_limits lists.mallory.co.uk ten")]
    [InlineData("+ relay_recipients #a@lists.mallory.co.uk OK")]
    [InlineData("- relay_domains bad_name.example")]
    public void ABadDeltaLineIsReported(string line)
    {
        Assert.NotEmpty(Audit("delta", line + "\n"));
    }

    [Fact]
    public void ASnapshotLineIsStillOneKeyAndOneValue()
    {
        Assert.Empty(Audit("transport", "lists.mallory.co.uk hold:[127.0.0.1]:9\n"));
        Assert.NotEmpty(Audit("transport", "+ transport lists.mallory.co.uk hold:[127.0.0.1]:9\n"));
    }
}
