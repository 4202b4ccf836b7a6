namespace RelayFunctions.Alerts;

/// <summary>How alert e-mails leave the app: section <c>Alerts</c>.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary><c>none</c> (alerts are only logged), <c>smtp</c> or <c>acs</c> (Azure Communication Services Email).</summary>
    public string Transport { get; set; } = "none";

    /// <summary>Sender address; with ACS it must be a verified sender of the resource's linked domain.</summary>
    public string From { get; set; } = "relay-alerts@localhost";

    /// <summary>Put in brackets before every subject, so recipients can filter alerts; empty for none.</summary>
    public string Tag { get; set; } = "relay";

    /// <summary>The wait before the first retry of an alert the mail service did not take; it doubles with each retry.</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait between retries.</summary>
    public TimeSpan MaximumRetry { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an alert is retried before it is given up (logged as an error).</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromDays(2);

    public SmtpOptions Smtp { get; set; } = new();

    public AcsOptions Acs { get; set; } = new();

    public string TaggedSubject(string subject) => string.IsNullOrWhiteSpace(Tag) ? subject : $"[{Tag}] {subject}";

    public sealed class SmtpOptions
    {
        public string? Host { get; set; }

        public int Port { get; set; } = 25;

        /// <summary>
        /// <c>auto</c> (TLS on connect for port 465, otherwise STARTTLS when offered), <c>starttls</c> (required),
        /// <c>tls</c> (TLS on connect) or <c>none</c>.
        /// </summary>
        public string Security { get; set; } = "auto";

        /// <summary>Authenticates when set.</summary>
        public string? Username { get; set; }

        public string? Password { get; set; }

        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
    }

    public sealed class AcsOptions
    {
        /// <summary>The resource's endpoint, <c>https://&lt;resource&gt;.communication.azure.com</c>.</summary>
        public Uri? Endpoint { get; set; }

        /// <summary>The resource's access key (base64); empty to authenticate with Entra ID (DefaultAzureCredential).</summary>
        public string? AccessKey { get; set; }

        public string ApiVersion { get; set; } = "2023-03-31";

        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
    }
}
