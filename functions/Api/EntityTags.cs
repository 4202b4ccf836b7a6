using System.Buffers.Text;
using System.Text;
using Azure;
using Microsoft.Net.Http.Headers;

namespace RelayFunctions.Api;

/// <summary>
/// HTTP entity tags for stored resources. A Table ETag is weak-looking (<c>W/"datetime'…'"</c>), and If-Match
/// compares strongly, so the API shows it as an opaque strong tag and turns it back on the way in.
/// </summary>
public static class EntityTags
{
    public static string ToHttp(ETag storageTag) =>
        "\"" + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(storageTag.ToString())) + "\"";

    /// <summary>A tag that matches nothing: what an If-Match this API never issued becomes.</summary>
    public static readonly ETag Never = new("never");

    /// <summary>
    /// The If-Match precondition: none (null), any (<c>*</c>), or one tag. A tag this API never issued can
    /// never match: it becomes <see cref="Never"/> and fails with 412.
    /// </summary>
    public static ETag? IfMatch(HttpRequest request)
    {
        var header = request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0)
        {
            return null;
        }
        if (header == "*")
        {
            return ETag.All;
        }
        if (EntityTagHeaderValue.TryParse(header, out var tag) && !tag.IsWeak)
        {
            var inner = tag.Tag.AsSpan(1, tag.Tag.Length - 2);
            try
            {
                var decoded = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(inner));
                return decoded.StartsWith("W/\"", StringComparison.Ordinal) ? new ETag(decoded) : Never;
            }
            catch (FormatException)
            {
            }
        }
        return Never;
    }

    /// <summary>Does the caller's precondition hold against the stored tag? No precondition always holds.</summary>
    public static bool Satisfied(ETag? ifMatch, ETag current) =>
        ifMatch is not { } tag || tag == ETag.All || tag == current;

    public static void Set(HttpResponse response, ETag storageTag) => response.Headers.ETag = ToHttp(storageTag);
}
