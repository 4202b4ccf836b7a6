using System.Net.Sockets;
using System.Text;

namespace RelayAgent.Submission;

/// <summary>
/// Asks Postfix's verify(8) service about a sender address, as smtpd's <c>reject_unverified_sender</c> does
/// (reference outbound.md §4): the unix socket <c>private/verify</c> in the queue directory, Postfix's attribute protocol
/// (name NUL value NUL … NUL). A query starts a probe when the cache (<c>address_verify_map</c>) has no answer.
/// </summary>
public sealed class VerifyClient(string queueDirectory)
{
    public enum Status
    {
        Deliverable = 0,
        Deferred = 1,
        Undeliverable = 2,
        InProgress = 3,
    }

    public async Task<(Status Status, string Reason)> QueryAsync(string address, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(queueDirectory, "private", "verify")), ct);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await ReadAttributesAsync(stream, ct); // the service's announcement
        await stream.WriteAsync(Encoding.UTF8.GetBytes($"request\0query\0address\0{address}\0\0"), ct);
        var reply = await ReadAttributesAsync(stream, ct);
        if (reply.GetValueOrDefault("status") != "0" || !int.TryParse(reply.GetValueOrDefault("recipient_status"), out var status) || status is < 0 or > 3)
        {
            throw new IOException($"verify(8) answered {string.Join(' ', reply.Select(kv => $"{kv.Key}={kv.Value}"))}");
        }
        return ((Status)status, reply.GetValueOrDefault("reason") ?? "");
    }

    private static async Task<Dictionary<string, string>> ReadAttributesAsync(Stream stream, CancellationToken ct)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            var name = await ReadStringAsync(stream, ct);
            if (name.Length == 0)
            {
                return attributes;
            }
            attributes[name] = await ReadStringAsync(stream, ct);
        }
    }

    private static async Task<string> ReadStringAsync(Stream stream, CancellationToken ct)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one, ct) == 0)
            {
                throw new IOException("verify(8) closed the connection");
            }
            if (one[0] == 0)
            {
                return Encoding.UTF8.GetString(bytes.ToArray());
            }
            bytes.Add(one[0]);
        }
    }
}
