using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Azure.Data.Tables;

namespace RelayFunctions.Storage;

/// <summary>
/// JSON too long for one Table property (64 KiB: 32,000 UTF-16 characters here) spread over numbered properties, and
/// the size Azure counts for an entity (1 MiB at most), so a write that Azure would refuse is refused before it is sent
/// — with what the caller can fix named, not as a 500. Azurite accepts what Azure refuses, so tests alone would not tell.
/// </summary>
public static class EntityText
{
    public const int ChunkSize = 32_000;

    /// <summary>The largest entity Azure Table storage stores.</summary>
    public const int MaxEntityBytes = 1024 * 1024;

    /// <summary>
    /// The largest entity a caller's change may leave: 90% of <see cref="MaxEntityBytes"/>. The rest is for the fields
    /// the system writes later on its own (a domain's verification state and reasons), which must never fail for want
    /// of room: a domain stored just under the limit once could not take its next check's result.
    /// </summary>
    public const int MaxWrittenBytes = MaxEntityBytes / 10 * 9;

    /// <summary>Relaxed escaping: '&amp;', '+' and the like stay one character instead of six (<c>\u0026</c>).</summary>
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write<T>(TableEntity entity, string countProperty, string prefix, T value)
    {
        var json = JsonSerializer.Serialize(value, Json);
        var chunks = json.Chunk(ChunkSize).Select(c => new string(c)).ToArray();
        entity[countProperty] = chunks.Length;
        for (var i = 0; i < chunks.Length; i++)
        {
            entity[$"{prefix}{i}"] = chunks[i];
        }
    }

    public static T? Read<T>(TableEntity entity, string countProperty, string prefix)
    {
        var json = new StringBuilder();
        for (var i = 0; i < (entity.GetInt32(countProperty) ?? 0); i++)
        {
            json.Append(entity.GetString($"{prefix}{i}"));
        }
        return json.Length == 0 ? default : JsonSerializer.Deserialize<T>(json.ToString(), Json);
    }

    /// <summary>
    /// The entity's size: the larger of what Azure counts (<see cref="StoredBytes"/>) and what the SDK sends
    /// (<see cref="RequestBytes"/>, which Azurite counts). Text full of '&amp;', '&lt;', '+' or non-ASCII letters takes six
    /// bytes a character on the wire, so a list well under the stored limit can still be refused.
    /// </summary>
    public static long SizeOf(TableEntity entity) => Math.Max(StoredBytes(entity), RequestBytes(entity));

    /// <summary>
    /// The bytes of the JSON body the Tables SDK sends for the entity, written the way it writes it: a
    /// <see cref="Utf8JsonWriter"/> with the default encoder (which escapes '&amp;', '&lt;', '&gt;', '\'', '+', '"' and
    /// every non-ASCII character as <c>\uXXXX</c>), 64-bit numbers and times as strings with an <c>@odata.type</c> beside them.
    /// </summary>
    public static long RequestBytes(TableEntity entity)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in entity)
            {
                if (name is "Timestamp" or "odata.etag")
                {
                    continue;
                }
                var type = value switch
                {
                    long => "Edm.Int64",
                    DateTimeOffset or DateTime => "Edm.DateTime",
                    Guid => "Edm.Guid",
                    byte[] => "Edm.Binary",
                    _ => null,
                };
                switch (value)
                {
                    case null:
                        writer.WriteNull(name);
                        break;
                    case bool b:
                        writer.WriteBoolean(name, b);
                        break;
                    case int i:
                        writer.WriteNumber(name, i);
                        break;
                    case double d:
                        writer.WriteNumber(name, d);
                        break;
                    case byte[] bytes:
                        writer.WriteBase64String(name, bytes);
                        break;
                    case DateTimeOffset t:
                        writer.WriteString(name, t.UtcDateTime.ToString("o", CultureInfo.InvariantCulture));
                        break;
                    case DateTime t:
                        writer.WriteString(name, t.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture));
                        break;
                    default:
                        writer.WriteString(name, Convert.ToString(value, CultureInfo.InvariantCulture));
                        break;
                }
                if (type is not null)
                {
                    writer.WriteString(name + "@odata.type", type);
                }
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenCount;
    }

    /// <summary>The entity's size as Azure counts it (keys, property names and values in UTF-16, plus fixed overheads).</summary>
    public static long StoredBytes(TableEntity entity)
    {
        long size = 4 + (entity.PartitionKey.Length + entity.RowKey.Length) * 2;
        foreach (var (name, value) in entity)
        {
            if (name is "PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")
            {
                continue;
            }
            size += 8 + (name.Length * 2) + value switch
            {
                string s => 4 + (s.Length * 2L),
                byte[] b => 4 + b.Length,
                bool => 1,
                int => 4,
                long or double or DateTimeOffset or DateTime => 8,
                Guid => 16,
                _ => 8,
            };
        }
        return size;
    }
}
