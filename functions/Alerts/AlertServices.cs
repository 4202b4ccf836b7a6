using RelayFunctions.Hosting;

namespace RelayFunctions.Alerts;

/// <summary>Registers the one <see cref="IAlertSender"/> that <c>Alerts:Transport</c> names; its settings are checked at start.</summary>
public static class AlertServices
{
    public static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(AlertOptions.Section);
        services.AddOptions<AlertOptions>().Bind(section).Checked(AlertOptions.Section, Check);
        services.AddSingleton<AlertOnce>();
        services.AddSingleton<IQueueFunction, RetryAlertsFunction>();
        switch (section[nameof(AlertOptions.Transport)]?.Trim().ToLowerInvariant())
        {
            case "smtp":
                services.AddSingleton<IAlertSender, SmtpAlertSender>();
                break;
            case "acs":
                services.AddSingleton<IAlertSender, AcsEmailAlertSender>();
                break;
            default:
                // "none", or a wrong name that the start-time check refuses.
                services.AddSingleton<IAlertSender, NoAlertSender>();
                break;
        }
        return services;
    }

    internal static void Check(AlertOptions options, SettingErrors errors)
    {
        var transport = options.Transport?.Trim().ToLowerInvariant();
        errors.Require(transport is "none" or "smtp" or "acs" or "" or null, nameof(AlertOptions.Transport), $"'{options.Transport}' is not a transport: use none, smtp or acs.");
        errors.Require(Accounts.EmailAddress.TryParse(options.From, out _, out _) || options.From?.EndsWith("@localhost", StringComparison.Ordinal) == true,
            nameof(AlertOptions.From), $"'{options.From}' is not an e-mail address.");
        errors.Require(options.FirstRetry >= TimeSpan.FromSeconds(1), nameof(AlertOptions.FirstRetry), $"must be at least 1 second (is {options.FirstRetry}).");
        // A queue message stays invisible for at most 7 days.
        errors.Require(options.MaximumRetry >= options.FirstRetry && options.MaximumRetry <= TimeSpan.FromDays(7), nameof(AlertOptions.MaximumRetry),
            $"must be from FirstRetry to 7 days (is {options.MaximumRetry}).");
        errors.Positive(options.RetryFor, nameof(AlertOptions.RetryFor));
        if (transport == "smtp")
        {
            var smtp = options.Smtp;
            errors.Require(!string.IsNullOrWhiteSpace(smtp.Host), "Smtp__Host", "must be set when Alerts__Transport is smtp.");
            errors.Require(smtp.Port is > 0 and <= 65535, "Smtp__Port", $"{smtp.Port} is not a port.");
            errors.Require(SmtpAlertSender.TryParseSecurity(smtp.Security, out _), "Smtp__Security", $"'{smtp.Security}' is not one of auto, starttls, tls, none.");
            errors.Positive(smtp.Timeout, "Smtp__Timeout");
        }
        if (transport == "acs")
        {
            var acs = options.Acs;
            errors.Require(acs.Endpoint is { IsAbsoluteUri: true }, "Acs__Endpoint",
                "must be the resource's endpoint (https://<resource>.communication.azure.com) when Alerts__Transport is acs.");
            errors.Require(string.IsNullOrWhiteSpace(acs.AccessKey) || IsBase64(acs.AccessKey), "Acs__AccessKey",
                "is not base64; copy the key from the resource's Keys page, or leave it empty to use Entra ID.");
            // Azure.Core refuses to send a bearer token over plain HTTP.
            errors.Require(!string.IsNullOrWhiteSpace(acs.AccessKey) || acs.Endpoint is not { IsAbsoluteUri: true } || acs.Endpoint.Scheme == Uri.UriSchemeHttps,
                "Acs__Endpoint", "must be https to authenticate with Entra ID.");
            errors.Require(!string.IsNullOrWhiteSpace(acs.ApiVersion), "Acs__ApiVersion", "must not be empty.");
            errors.Positive(acs.Timeout, "Acs__Timeout");
        }
    }

    private static bool IsBase64(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);
}
