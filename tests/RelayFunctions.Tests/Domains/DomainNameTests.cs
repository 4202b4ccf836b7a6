using RelayFunctions.Accounts;
using RelayFunctions.Domains;

namespace RelayFunctions.Tests.Domains;

public sealed class DomainNameTests
{
    [Theory]
    [InlineData("Example.COM", "example.com")]
    [InlineData("example.com.", "example.com")]
    [InlineData(" mail.example.org ", "mail.example.org")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("BÜCHER.example", "xn--bcher-kva.example")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("a-b.c-d.example", "a-b.c-d.example")]
    [InlineData("123.example", "123.example")]
    public void ValidNamesAreCanonicalized(string input, string canonical)
    {
        Assert.True(DomainName.TryParse(input, out var name, out var error), error);
        Assert.Equal(canonical, name.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("localhost")]
    [InlineData("-bad.example")]
    [InlineData("bad-.example")]
    [InlineData("under_score.example")]
    [InlineData("two..dots.example")]
    [InlineData("space in.example")]
    [InlineData("192.0.2.1")]
    [InlineData("[192.0.2.1]")]
    [InlineData("example.123")]
    public void InvalidNamesAreRefusedWithAReason(string input)
    {
        Assert.False(DomainName.TryParse(input, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void ALabelLongerThan63CharactersIsRefused()
    {
        Assert.False(DomainName.TryParse(new string('a', 64) + ".example", out _, out _));
        Assert.True(DomainName.TryParse(new string('a', 63) + ".example", out _, out _));
    }

    [Fact]
    public void ANameLongerThan253CharactersIsRefused()
    {
        Assert.False(DomainName.TryParse(string.Join(".", Enumerable.Repeat("abcdefghij", 24)) + ".example", out _, out var error));
        Assert.Contains("253", error);
    }

    [Fact]
    public void ANameContainsItselfAndItsSubdomainsOnly()
    {
        var parent = DomainName.Parse("example.com");
        Assert.True(parent.Contains(DomainName.Parse("example.com")));
        Assert.True(parent.Contains(DomainName.Parse("mail.example.com")));
        Assert.False(parent.Contains(DomainName.Parse("badexample.com")));
        Assert.False(parent.Contains(DomainName.Parse("example.org")));
    }

    [Theory]
    [InlineData("alice@example.com", true)]
    [InlineData("first.last+tag@sub.example.com", true)]
    [InlineData("alice@bücher.example", true)]
    [InlineData("Alice <alice@example.com>", false)]
    [InlineData("alice@", false)]
    [InlineData("@example.com", false)]
    [InlineData("a..b@example.com", false)]
    [InlineData(".a@example.com", false)]
    [InlineData("alice@localhost", false)]
    public void EmailAddressesArePlainMailboxes(string input, bool valid)
    {
        Assert.Equal(valid, EmailAddress.TryParse(input, out _, out _));
    }
}
