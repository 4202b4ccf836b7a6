using RelayFunctions.Accounts;
using RelayFunctions.Domains;

namespace RelayFunctions.Tests.Domains;

[Trait("Category", "Fast")]
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
    [InlineData("\uFF41\uFF42\uFF43.example", "abc.example")]
    [InlineData("bu\u0308cher.example", "xn--bcher-kva.example")]
    [InlineData("xn--BCHER-KVA.example", "xn--bcher-kva.example")]
    [InlineData("fa\u00DF.example", "xn--fa-hia.example")]
    [InlineData("\u200Bexam\u00ADple.com", "example.com")]
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
    [InlineData("xn--z.example")]
    [InlineData("xn--.example")]
    [InlineData("ab--cd.example")]
    [InlineData("a\u200Db.example")]
    [InlineData("a\u200Cb.example")]
    [InlineData("a\u202Eb.example")]
    [InlineData("\u0915\u094D\u200D\u0937.example")] // a joiner after a virama: valid IDNA 2008, still invisible
    [InlineData("\u0915\u094D\u200C\u0937.example")]
    [InlineData("xn--11b2ezcw70k.example")] // the same, in punycode
    [InlineData("exa\u00ADmple\u0000.com")]
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

    [Fact]
    public void DecomposedAndComposedFormsAreOneName()
    {
        Assert.Equal(DomainName.Parse("bu\u0308cher.example"), DomainName.Parse("b\u00FCcher.example"));
        Assert.Equal("b\u00FCcher.example", DomainName.Parse("bu\u0308cher.example").Unicode);
    }

    [Theory]
    [InlineData("\u0430cme.example", "acme.example")]
    [InlineData("g\u043E\u043Egle.example", "google.example")]
    [InlineData("rnail.example", "mail.example")]
    public void ConfusableNamesShareASkeleton(string a, string b) =>
        Assert.Equal(Confusables.Skeleton(DomainName.Parse(a)), Confusables.Skeleton(DomainName.Parse(b)));

    [Fact]
    public void DifferentNamesHaveDifferentSkeletons() =>
        Assert.NotEqual(Confusables.Skeleton(DomainName.Parse("acme.example")), Confusables.Skeleton(DomainName.Parse("acne.example")));

    [Theory]
    [InlineData("co.uk", true, null)]
    [InlineData("acme.co.uk", false, "acme.co.uk")]
    [InlineData("mail.acme.co.uk", false, "acme.co.uk")]
    [InlineData("in-addr.arpa", true, null)]
    [InlineData("github.io", true, null)]
    [InlineData("me.github.io", false, "me.github.io")]
    [InlineData("lists.acme.example", false, "acme.example")]
    [InlineData("bar.ck", true, null)]
    [InlineData("foo.bar.ck", false, "foo.bar.ck")]
    [InlineData("www.ck", false, "www.ck")]
    [InlineData("x.www.ck", false, "www.ck")]
    public void ThePublicSuffixListGivesSuffixesAndRegistrableDomains(string name, bool suffix, string? registrable)
    {
        var parsed = DomainName.Parse(name);
        Assert.Equal(suffix, PublicSuffixList.Embedded.IsPublicSuffix(parsed));
        Assert.Equal(registrable, PublicSuffixList.Embedded.RegistrableDomain(parsed));
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
    [InlineData("#alice@example.com", false)]
    [InlineData("al#ice@example.com", true)]
    [InlineData("alice@exa\u200Dmple.com", false)]
    [InlineData("alice\n@example.com", false)] // '$' would match before the newline; '\z' does not
    public void EmailAddressesArePlainMailboxes(string input, bool valid)
    {
        Assert.Equal(valid, EmailAddress.TryParse(input, out _, out _));
    }
}
