using RelayFunctions.Api;
using RelayFunctions.Hosting;
using RelayFunctions.Storage;
using RelayShared;

namespace RelayFunctions.Outbound;

/// <summary>
/// Queue trigger: a BCC recipient whose copy bounced is removed from its outbound account, and the account keeps why
/// (<see cref="OutboundAccount.RemovedBcc"/>, shown by the API), as the seed promises. A bounce for a recipient already
/// gone (a replay, an older copy) changes nothing.
/// </summary>
public sealed partial class BccBouncesFunction(OutboundStore store, TimeProvider time, ILogger<BccBouncesFunction> logger) : QueueFunction<BccBounce>(FunctionName, StorageNames.BccBouncesQueue, BccBounce.Parse)
{
    public const string FunctionName = "BccBounces";

    protected override async Task RunAsync(BccBounce bounce, CancellationToken cancellationToken)
    {
        if (await store.FindByKeyAsync(bounce.Key, cancellationToken) is not var (accountId, login))
        {
            return;
        }
        var outcome = await store.UpdateAsync(accountId, login, null, current =>
        {
            if (current.Settings.BccRecipients.FirstOrDefault(b => b.Id == bounce.BccId) is not { } gone)
            {
                return null;
            }
            var reason = $"Copies to it bounced ({bounce.Status ?? "no status"}{(bounce.Diagnostic is null ? "" : $": {bounce.Diagnostic}")}).";
            return new Outcome<OutboundAccount>.Ok(current with
            {
                Settings = current.Settings with { BccRecipients = current.Settings.BccRecipients.Where(b => b != gone).ToList() },
                RemovedBcc = [.. current.RemovedBcc.TakeLast(OutboundStore.RemovedBccKept - 1), new RemovedBcc(gone.Address.ToString(), time.GetUtcNow(), reason)],
            });
        }, cancellationToken);
        if (outcome is Outcome<OutboundAccount>.Ok ok && ok.Value.RemovedBcc.LastOrDefault() is { } removed)
        {
            Log.Removed(logger, login, removed.Address, removed.Reason);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "BCC recipient {Address} of {Login} removed: {Reason}")]
        public static partial void Removed(ILogger logger, string login, string address, string reason);
    }
}
