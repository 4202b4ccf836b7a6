using System.Text.Json;
using RelayFunctions.Hosting;
using RelayShared;

namespace RelayFunctions.Outbound;

/// <summary>A message of the BCC bounces queue read as the queue trigger must: malformed, it is poison, not retried.</summary>
public static class BccBounceMessage
{
    extension(BccBounce)
    {
        public static BccBounce Parse(string json)
        {
            try
            {
                return BccBounce.FromJson(json) ?? throw new MalformedMessageException("A BCC bounce names the account key and the BCC id.");
            }
            catch (JsonException e)
            {
                throw new MalformedMessageException($"Not a BCC bounce: {e.Message}");
            }
        }
    }
}
