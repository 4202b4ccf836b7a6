namespace RelayFunctions.Accounts;

/// <summary>
/// What each service level allows. The seed fixes one BCC recipient and one mirror for Personal and Personal Plus; the
/// rest is this service's choice. The daily quota counts submitted messages plus the BCC and mirror copies made of them.
/// </summary>
public sealed record ServiceLimits(int BccRecipients, int Mirrors, int DailyMessages, bool AlternateFilters)
{
    public static ServiceLimits For(ServiceLevel level) => level switch
    {
        ServiceLevel.Personal => new(1, 1, 200, false),
        ServiceLevel.PersonalPlus => new(1, 1, 1_000, false),
        ServiceLevel.Standard => new(5, 5, 5_000, true),
        ServiceLevel.Professional => new(10, 10, 20_000, true),
        _ => new(25, 25, 100_000, true),
    };

    /// <summary>The lowest level that allows <paramref name="count"/> of something, for error messages.</summary>
    public static ServiceLevel LowestFor(Func<ServiceLimits, int> what, int count) =>
        Enum.GetValues<ServiceLevel>().FirstOrDefault(l => what(For(l)) >= count, ServiceLevel.Enterprise);
}
