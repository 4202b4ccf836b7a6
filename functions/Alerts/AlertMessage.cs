namespace RelayFunctions.Alerts;

/// <summary>A short alert to one recipient, with a plain-text body.</summary>
public sealed record AlertMessage(string To, string Subject, string Body)
{
    /// <summary>The recipient's domain: what logs show of the address, since the full address is personal data.</summary>
    public string RecipientDomain => To.LastIndexOf('@') is var at and >= 0 ? To[(at + 1)..].Trim().TrimEnd('>') : "(no domain)";
}
