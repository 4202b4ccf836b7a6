using System.Runtime.Versioning;
using RelayAgent.Submission;

namespace RelayFunctions.Tests.Outbound;

/// <summary>The agent follows Postfix's mail log as <c>tail -F</c> would: from its end, through rotation and truncation.</summary>
[SupportedOSPlatform("linux")]
[Trait("Category", "Fast")]
public sealed class MailLogTailTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mail-log-").FullName;

    private string Log => Path.Combine(_dir, "postfix.log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LinesLoggedBeforeTheFirstReadAreSkippedAndAHalfWrittenLineWaitsForItsEnd()
    {
        File.WriteAllText(Log, "old 1\nold 2\n");
        using var tail = new MailLogTail(Log);
        Assert.Empty(tail.ReadLines());

        File.AppendAllText(Log, "new 1\nnew ");
        Assert.Equal(["new 1"], tail.ReadLines());
        File.AppendAllText(Log, "2\r\n");
        Assert.Equal(["new 2"], tail.ReadLines());
        Assert.Empty(tail.ReadLines());
    }

    [Fact]
    public void ARotatedLogIsReadToItsEndAndTheNewOneFromItsStart()
    {
        File.WriteAllText(Log, "");
        using var tail = new MailLogTail(Log);
        tail.ReadLines();

        File.AppendAllText(Log, "before rotation\n");
        File.Move(Log, Log + ".1");
        File.AppendAllText(Log + ".1", "late in the old file\n");
        File.WriteAllText(Log, "first of the new file\n");

        Assert.Equal(["before rotation", "late in the old file", "first of the new file"], tail.ReadLines());
        File.AppendAllText(Log, "second\n");
        Assert.Equal(["second"], tail.ReadLines());
    }

    [Fact]
    public void ATruncatedLogIsReadFromItsStart()
    {
        File.WriteAllText(Log, "a long line that was there before\n");
        using var tail = new MailLogTail(Log);
        tail.ReadLines();

        File.WriteAllText(Log, "after\n");

        Assert.Equal(["after"], tail.ReadLines());
    }

    [Fact]
    public void ALogThatIsNotThereYetIsReadFromItsStartWhenItAppears()
    {
        using var tail = new MailLogTail(Log);
        Assert.Empty(tail.ReadLines());

        File.WriteAllText(Log, "first\n");
        Assert.Equal(["first"], tail.ReadLines());

        File.Delete(Log);
        Assert.Empty(tail.ReadLines());
        File.WriteAllText(Log, "again\n");
        Assert.Equal(["again"], tail.ReadLines());
    }
}
