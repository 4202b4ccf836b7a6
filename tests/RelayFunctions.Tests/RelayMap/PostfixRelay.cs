namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// The tests that drive the one private Postfix (Infrastructure.Relay) and its map folder: they run one after
/// another, or two agents would write the same tables.
/// </summary>
public static class PostfixRelay
{
    public const string Collection = "Postfix relay";
}
