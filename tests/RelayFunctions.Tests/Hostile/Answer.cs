using System.Text;

namespace RelayFunctions.Tests.Hostile;

/// <summary>What came back for one request (of a burst, the first), with what it was judged to have done wrong.</summary>
internal sealed record Answer(HostileRequest Request, int Status, string? MediaType, string Body, byte[]? SentBody, IReadOnlyList<string> Problems)
{
    public TimeSpan Elapsed { get; init; }

    public string Describe(RequestLog log)
    {
        var text = new StringBuilder(Request.Describe(SentBody));
        text.Append($"\n   -> {Status} {MediaType}: {Shorten(Body, 400)}");
        foreach (var problem in Problems)
        {
            text.Append($"\n   !! {problem}");
        }
        foreach (var entry in log.For(Request.Index).Take(3))
        {
            text.Append($"\n   log: {Shorten(entry, 600)}");
        }
        return text.ToString();
    }

    private static string Shorten(string text, int max) => StorageAudit.Show(text, max);
}
