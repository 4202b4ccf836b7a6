using System.Net;
using Microsoft.Extensions.Options;
using RelayFunctions.Destinations;

namespace RelayFunctions.Tests.Destinations;

[Trait("Category", "Fast")]
public sealed class DestinationPolicyTests
{
    private static DestinationPolicy Policy(params string[] allowed) =>
        new(Options.Create(new DestinationOptions { AllowedRanges = [.. allowed] }));

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("0.0.0.0")]
    [InlineData("169.254.10.10")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.254")]
    [InlineData("192.0.2.55")]
    [InlineData("198.51.100.7")]
    [InlineData("203.0.113.9")]
    [InlineData("198.18.0.1")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("192.0.0.8")]
    [InlineData("192.88.99.1")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("ff02::1")]
    [InlineData("2001:db8::1")]
    [InlineData("2002:c000:0204::1")]
    [InlineData("2001:0:4136:e378::1")]
    [InlineData("64:ff9b::1.2.3.4")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("3fff::1")]
    [InlineData("100::1")]
    public void SpecialPurposeAddressesAreRefused(string address)
    {
        Assert.False(Policy().IsAcceptable(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("1.2.3.4")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("192.0.32.10")]
    [InlineData("2606:4700::6810:85e5")]
    [InlineData("2a00:1450:4001:80b::200e")]
    public void PublicUnicastAddressesAreAccepted(string address)
    {
        Assert.True(Policy().IsAcceptable(IPAddress.Parse(address)));
    }

    [Fact]
    public void AnOperatorCanAllowExtraRanges()
    {
        var policy = Policy("127.0.0.0/8", "10.8.0.0/16", "fd00::/8");
        Assert.True(policy.IsAcceptable(IPAddress.Parse("127.0.0.1")));
        Assert.True(policy.IsAcceptable(IPAddress.Parse("10.8.3.4")));
        Assert.False(policy.IsAcceptable(IPAddress.Parse("10.9.3.4")));
        Assert.True(policy.IsAcceptable(IPAddress.Parse("fd12::1")));
    }

    [Fact]
    public void AMalformedAllowedRangeIsRefusedAtStartNamingTheSetting()
    {
        var errors = new RelayFunctions.Hosting.SettingErrors(DestinationOptions.Section);
        DestinationOptions.Check(new DestinationOptions { AllowedRanges = ["10.0.0.0/8", "10.0.0.0/33"] }, errors);
        Assert.StartsWith("Destinations__AllowedRanges__1: '10.0.0.0/33'", Assert.Single(errors.Messages));
    }

    [Theory]
    [InlineData("192.0.2.1", "192.0.2.1/32")]
    [InlineData(" 192.0.2.0/24 ", "192.0.2.0/24")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("2001:db8::1", "2001:db8::1/128")]
    [InlineData("192.0.2.77/24", "192.0.2.0/24")]
    [InlineData("2001:db8::1/32", "2001:db8::/32")]
    public void RangesParseAndNormalize(string text, string normalized)
    {
        Assert.True(Networks.TryParse(text, out var range));
        Assert.Equal(normalized, range.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3.4/33")]
    [InlineData("1.2.3.4/x")]
    [InlineData("fe80::1%eth0")]
    [InlineData("host.example")]
    public void MalformedRangesAreRefused(string text)
    {
        Assert.False(Networks.TryParse(text, out _));
    }
}
