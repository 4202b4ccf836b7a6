namespace RelayFunctions.Hosting;

/// <summary>
/// A queue message or invocation that this app did not write and cannot read. Under the Functions host it is answered
/// with 400, not 500: the invocation fails all the same (so the message is retried and then poisoned), but it is the
/// message that is wrong, not the app.
/// </summary>
public sealed class MalformedMessageException(string message) : Exception(message);
