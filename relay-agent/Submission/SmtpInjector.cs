using System.Net.Sockets;
using System.Text;

namespace RelayAgent.Submission;

/// <summary>
/// Just enough SMTP to hand messages back to Postfix's re-injection listener on loopback, byte for byte (a MIME library
/// would re-serialise them): one connection, one transaction a copy.
/// </summary>
public sealed class SmtpInjector : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly StreamReader _reader;

    private SmtpInjector(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    public static async Task<SmtpInjector> ConnectAsync(string host, int port, CancellationToken ct)
    {
        var client = new TcpClient();
        await client.ConnectAsync(host, port, ct);
        var injector = new SmtpInjector(client);
        await injector.ExpectAsync(220, ct);
        await injector.CommandAsync("EHLO relayfilter", 250, ct);
        return injector;
    }

    /// <summary>
    /// Sends <paramref name="message"/> (LF or CRLF line ends) from <paramref name="sender"/> to every recipient, with
    /// <paramref name="header"/> (one complete header line, or null) put first. Any refusal is an <see cref="SmtpInjectionException"/>.
    /// </summary>
    public async Task SendAsync(string sender, IReadOnlyList<string> recipients, string? header, byte[] message, CancellationToken ct)
    {
        var utf8 = !Ascii(sender) || recipients.Any(r => !Ascii(r));
        var eightBit = message.Any(b => b >= 0x80);
        await CommandAsync($"MAIL FROM:<{sender}>{(eightBit ? " BODY=8BITMIME" : "")}{(utf8 ? " SMTPUTF8" : "")}", 250, ct);
        foreach (var recipient in recipients)
        {
            await CommandAsync($"RCPT TO:<{recipient}>", 250, ct);
        }
        await CommandAsync("DATA", 354, ct);
        using (var body = new MemoryStream(message.Length + 1024))
        {
            if (header is not null)
            {
                body.Write(Encoding.UTF8.GetBytes(header.TrimEnd('\r', '\n') + "\r\n"));
            }
            WriteDotStuffed(body, message);
            body.Write(".\r\n"u8);
            await _stream.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length), ct);
        }
        await ExpectAsync(250, ct);
    }

    /// <summary>CRLF line ends, a dot doubled at the start of a line, a last line ended.</summary>
    private static void WriteDotStuffed(Stream output, byte[] message)
    {
        var start = true;
        for (var i = 0; i < message.Length; i++)
        {
            var b = message[i];
            if (start && b == (byte)'.')
            {
                output.WriteByte((byte)'.');
            }
            if (b == (byte)'\n')
            {
                if (i == 0 || message[i - 1] != (byte)'\r')
                {
                    output.WriteByte((byte)'\r');
                }
                output.WriteByte(b);
                start = true;
                continue;
            }
            output.WriteByte(b);
            start = false;
        }
        if (!start)
        {
            output.Write("\r\n"u8);
        }
    }

    private async Task CommandAsync(string command, int expected, CancellationToken ct)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"), ct);
        await ExpectAsync(expected, ct);
    }

    private async Task ExpectAsync(int expected, CancellationToken ct)
    {
        var text = new StringBuilder();
        string? line;
        do
        {
            line = await _reader.ReadLineAsync(ct) ?? throw new SmtpInjectionException(0, "the connection closed");
            text.Append(line).Append(' ');
        }
        while (line.Length > 3 && line[3] == '-');
        if (!int.TryParse(line.AsSpan(0, Math.Min(3, line.Length)), out var code) || code != expected)
        {
            throw new SmtpInjectionException(code, text.ToString().Trim());
        }
    }

    private static bool Ascii(string text) => text.All(char.IsAscii);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.WriteAsync("QUIT\r\n"u8.ToArray());
        }
        catch (IOException)
        {
            // Closing anyway.
        }
        _client.Dispose();
    }
}

public sealed class SmtpInjectionException(int code, string reply) : Exception($"re-injection refused: {reply}")
{
    public int Code { get; } = code;
}
