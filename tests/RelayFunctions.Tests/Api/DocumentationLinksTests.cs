using System.Text;
using System.Text.RegularExpressions;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Api;

/// <summary>
/// The README is a front page of at most 200 lines, and every relative link of it and of docs/**/*.md leads somewhere:
/// to a file that exists and, for <c>file.md#anchor</c> (or <c>#anchor</c>), to a heading of that file.
/// </summary>
[Trait("Category", "Fast")]
public sealed partial class DocumentationLinksTests
{
    private static IEnumerable<string> Documents() =>
        new[] { Path.Combine(RepoRoot.Path, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(RepoRoot.Path, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal));

    [Fact]
    public void TheReadmeHasAtMost200Lines()
    {
        var lines = File.ReadAllText(Path.Combine(RepoRoot.Path, "README.md")).TrimEnd('\n').Split('\n').Length;
        Assert.True(lines <= 200, $"README.md has {lines} lines; the details belong in docs/");
    }

    [Fact]
    public void EveryRelativeLinkPointsAtAFileAndHeadingThatExist()
    {
        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var document in Documents())
        {
            var name = Path.GetRelativePath(RepoRoot.Path, document);
            foreach (var target in Links(File.ReadAllText(document)))
            {
                if (UriScheme().IsMatch(target))
                {
                    continue;
                }
                checkedLinks++;
                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var file = hash < 0 ? target : target[..hash];
                var anchor = hash < 0 ? null : target[(hash + 1)..];
                var path = file.Length == 0 ? document : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(document)!, Uri.UnescapeDataString(file)));
                if (!File.Exists(path) && !Directory.Exists(path))
                {
                    broken.Add($"{name}: ({target}): no such file");
                }
                else if (anchor is not null && (!path.EndsWith(".md", StringComparison.Ordinal) || !Anchors(File.ReadAllText(path)).Contains(anchor)))
                {
                    broken.Add($"{name}: ({target}): no such heading");
                }
            }
        }
        Assert.True(checkedLinks > 10, "too few links found: is the link pattern still right?");
        Assert.Empty(broken);
    }

    [Fact]
    public void AnchorsFollowGitHubsRules()
    {
        var anchors = Anchors("# Hosting: one executable, two hosts\n## What it creates, and who may do what\n```\n# not a heading\n```\n## Settings\n## Settings\n");
        Assert.Equal(["hosting-one-executable-two-hosts", "what-it-creates-and-who-may-do-what", "settings", "settings-1"], anchors);
    }

    /// <summary>The targets of the inline links outside code blocks and code spans.</summary>
    private static IEnumerable<string> Links(string markdown) =>
        InlineLink().Matches(CodeSpan().Replace(string.Join('\n', Prose(markdown)), "")).Select(m => m.Groups[1].Value);

    /// <summary>The anchors GitHub gives a file's headings: lowercase, punctuation dropped, spaces to '-', repeats numbered.</summary>
    private static List<string> Anchors(string markdown)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var anchors = new List<string>();
        foreach (var line in Prose(markdown))
        {
            var heading = Heading().Match(line);
            if (!heading.Success)
            {
                continue;
            }
            var slug = new StringBuilder();
            foreach (var c in heading.Groups[1].Value.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }
            var anchor = slug.ToString();
            var count = seen.GetValueOrDefault(anchor);
            seen[anchor] = count + 1;
            anchors.Add(count == 0 ? anchor : $"{anchor}-{count}");
        }
        return anchors;
    }

    /// <summary>The lines outside fenced code blocks.</summary>
    private static IEnumerable<string> Prose(string markdown)
    {
        var fenced = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }
            if (!fenced)
            {
                yield return line;
            }
        }
    }

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex("`[^`]*`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^#{1,6}\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex UriScheme();
}
