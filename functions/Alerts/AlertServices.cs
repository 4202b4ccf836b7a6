namespace RelayFunctions.Alerts;

/// <summary>Registers the one <see cref="IAlertSender"/> that <c>Alerts:Transport</c> names.</summary>
public static class AlertServices
{
    public static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(AlertOptions.Section);
        services.AddOptions<AlertOptions>().Bind(section);

        // Checked while the app is being built, so a wrong setting stops startup instead of the first alert.
        var options = section.Get<AlertOptions>() ?? new AlertOptions();
        switch (options.Transport?.Trim().ToLowerInvariant())
        {
            case "none" or "" or null:
                services.AddSingleton<IAlertSender, NoAlertSender>();
                break;
            case "smtp":
                ValidateSmtp(options);
                services.AddSingleton<IAlertSender, SmtpAlertSender>();
                break;
            case "acs":
                ValidateAcs(options);
                services.AddSingleton<IAlertSender, AcsEmailAlertSender>();
                break;
            default:
                throw new InvalidOperationException(
                    $"Alerts:Transport '{options.Transport}' is not a transport: use none, smtp or acs.");
        }
        return services;
    }

    private static void ValidateSmtp(AlertOptions options)
    {
        var smtp = options.Smtp;
        Require(!string.IsNullOrWhiteSpace(smtp.Host), "Alerts:Smtp:Host must be set when Alerts:Transport is smtp.");
        Require(smtp.Port is > 0 and <= 65535, $"Alerts:Smtp:Port {smtp.Port} is not a port.");
        Require(SmtpAlertSender.TryParseSecurity(smtp.Security, out _),
            $"Alerts:Smtp:Security '{smtp.Security}' is not one of auto, starttls, tls, none.");
        Require(smtp.Timeout > TimeSpan.Zero, "Alerts:Smtp:Timeout must be positive.");
    }

    private static void ValidateAcs(AlertOptions options)
    {
        var acs = options.Acs;
        Require(acs.Endpoint is { IsAbsoluteUri: true },
            "Alerts:Acs:Endpoint must be set to the resource's endpoint (https://<resource>.communication.azure.com) when Alerts:Transport is acs.");
        Require(string.IsNullOrWhiteSpace(acs.AccessKey) || IsBase64(acs.AccessKey),
            "Alerts:Acs:AccessKey is not base64; copy the key from the resource's Keys page, or leave it empty to use Entra ID.");
        // Azure.Core refuses to send a bearer token over plain HTTP.
        Require(!string.IsNullOrWhiteSpace(acs.AccessKey) || acs.Endpoint!.Scheme == Uri.UriSchemeHttps,
            "Alerts:Acs:Endpoint must be https to authenticate with Entra ID.");
        Require(!string.IsNullOrWhiteSpace(acs.ApiVersion), "Alerts:Acs:ApiVersion must not be empty.");
        Require(acs.Timeout > TimeSpan.Zero, "Alerts:Acs:Timeout must be positive.");
    }

    private static bool IsBase64(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
