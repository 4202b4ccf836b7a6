using RelayFunctions.Destinations;
using RelayFunctions.Outbound;

namespace RelayFunctions.Tests.Destinations;

/// <summary>Addresses from input are read in one form only: never octal, hex, short or packed IPv4.</summary>
[Trait("Category", "Fast")]
public sealed class IpAddressesTests
{
    [Theory]
    [InlineData("192.0.2.1", "192.0.2.1")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("10.0.100.9", "10.0.100.9")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("2001:DB8:0:0:0:0:0:1", "2001:db8::1")]
    [InlineData("::", "::")]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1")]
    public void DottedQuadDecimalAndIpv6HexGroupsAreAddresses(string text, string expected)
    {
        Assert.True(IpAddresses.TryParse(text, out var address));
        Assert.Equal(expected, address.ToString());
    }

    [Theory]
    [InlineData("010.2.3.4")]
    [InlineData("08.8.8.8")]
    [InlineData("1.2.3")]
    [InlineData("1.2")]
    [InlineData("134744072")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("0x08080808")]
    [InlineData("8.8.2056")]
    [InlineData("256.1.1.1")]
    [InlineData("1.2.3.4.")]
    [InlineData(" 1.2.3.4")]
    [InlineData("1.2.3.4:25")]
    [InlineData("[2001:db8::1]")]
    [InlineData("[2001:db8::1]:25")]
    [InlineData("fe80::1%1")]
    [InlineData("fe80::1%eth0")]
    [InlineData("::ffff:010.2.3.4")]
    [InlineData("::ffff:1.2.3")]
    [InlineData("")]
    public void EveryOtherFormIsRefused(string text)
    {
        Assert.False(IpAddresses.TryParse(text, out _));
    }

    [Theory]
    [InlineData("010.2.3.4/32")]
    [InlineData("1.2.3/32")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("10.0.0.0/08")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.0.0.0/ 8")]
    [InlineData("2001:db8::/032")]
    public void NetworksReadTheSameStrictForms(string text)
    {
        Assert.False(Networks.TryParse(text, out _));
    }

    [Theory]
    [InlineData("192.0.2.0/24", "192.0.2.0/24")]
    [InlineData("192.0.2.77/24", "192.0.2.0/24")]
    [InlineData("198.51.100.7", "198.51.100.7/32")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    public void StrictNetworksStillParse(string text, string expected)
    {
        Assert.True(Networks.TryParse(text, out var network));
        Assert.Equal(expected, network.Value.ToString());
    }

    [Theory]
    [InlineData("010.2.3.4")]
    [InlineData("1.2.3")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("010.2.3.4/32")]
    public void AFilterInALenientFormIsRefusedNotReadAsAnotherAddress(string text)
    {
        Assert.Null(SourceFilter.Parse(text, FilterSlot.Ipv4, out var error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("192.0.2.53", "192.0.2.53:0")]
    [InlineData("192.0.2.53:5353", "192.0.2.53:5353")]
    [InlineData("[2001:db8::53]:53", "[2001:db8::53]:53")]
    [InlineData("2001:db8::53", "[2001:db8::53]:0")]
    public void EndpointsAreAddressAndPort(string text, string expected)
    {
        Assert.True(IpAddresses.TryParseEndpoint(text, out var endpoint));
        Assert.Equal(expected, endpoint.ToString());
    }

    [Theory]
    [InlineData("010.0.0.53:53")]
    [InlineData("1.2.3:53")]
    [InlineData("192.0.2.53:053")]
    [InlineData("192.0.2.53:65536")]
    [InlineData("[2001:db8::53]53")]
    [InlineData("[192.0.2.53")]
    public void EndpointsInOtherFormsAreRefused(string text)
    {
        Assert.False(IpAddresses.TryParseEndpoint(text, out _));
    }
}
