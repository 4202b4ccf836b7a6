using System.Text.Json;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// The values a successful change answers with are the values it stored: an account's addresses, a domain's name,
/// destination and recipients, a helper's host. Those the request sent are checked as the stored rows are, at once,
/// because a later request may overwrite them (an account has one row) before the audit at the end reads it.
/// </summary>
internal static class AnswerAudit
{
    public static IEnumerable<string> Check(string answer, byte[]? request)
    {
        JsonElement root;
        HashSet<string> sent;
        try
        {
            root = JsonDocument.Parse(answer).RootElement;
            var body = JsonDocument.Parse(request ?? []).RootElement;
            sent = body.ValueKind == JsonValueKind.Object ? body.EnumerateObject().Select(p => p.Name).ToHashSet() : [];
        }
        catch (JsonException)
        {
            yield break;
        }
        var found = new List<string>();
        Walk(root, sent, found.Add);
        foreach (var problem in found)
        {
            yield return "stored and answered: " + problem;
        }
    }

    private static void Walk(JsonElement element, HashSet<string> sent, Action<string> bad)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Walk(item, sent, bad);
            }
            return;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        foreach (var email in new[] { "primaryEmail", "alertEmail", "postmasterEmail" }.Where(sent.Contains))
        {
            if (String(element, email) is { } text)
            {
                StorageAudit.Email(email, text, required: false, bad);
            }
        }
        var isDomain = element.TryGetProperty("verification", out _);
        var name = isDomain && String(element, "name") is { } n ? StorageAudit.Name("name", n, sent.Contains("name") ? bad : _ => { }) : null;
        if (sent.Contains("destinationHost") && String(element, "destinationHost") is { } host)
        {
            StorageAudit.Host("destinationHost", host, bad);
        }
        if (sent.Contains("recipients") && name is not null && element.TryGetProperty("recipients", out var recipients) && recipients.ValueKind == JsonValueKind.Array)
        {
            StorageAudit.Recipients([.. recipients.EnumerateArray().Select(r => r.GetString() ?? "")], name, bad);
        }
        foreach (var property in element.EnumerateObject().Where(p => p.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array))
        {
            Walk(property.Value, sent, bad);
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
