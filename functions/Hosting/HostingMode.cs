namespace RelayFunctions.Hosting;

/// <summary>
/// The Functions host starts the app with <c>FUNCTIONS_CUSTOMHANDLER_PORT</c> set and drives the triggers
/// itself; without it the app is standalone and runs its own timer and queue runners.
/// </summary>
public sealed record HostingMode(int? CustomHandlerPort)
{
    public const string PortSetting = "FUNCTIONS_CUSTOMHANDLER_PORT";

    public bool IsCustomHandler => CustomHandlerPort is not null;

    public static HostingMode From(IConfiguration configuration)
    {
        var raw = configuration[PortSetting];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return new HostingMode((int?)null);
        }
        if (!int.TryParse(raw, out var port) || port is < 1 or > 65535)
        {
            throw new InvalidOperationException($"{PortSetting} must be a TCP port number, not '{raw}'.");
        }
        return new HostingMode(port);
    }
}
