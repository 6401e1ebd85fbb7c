using System.ComponentModel.DataAnnotations;
using PricingOptimizer.Pricing;

namespace PricingOptimizer.Tests.Pricing;

public sealed class CharmPricingTests
{
    private readonly CharmPricing charm = new(new CharmOptions());

    [Theory]
    [InlineData("7.37", "6.99,7.99")]
    [InlineData("9.99", "9.99,10.95,10.99")] // 9.99 is itself a charm price; above 10 the next band's endings apply
    [InlineData("12.37", "11.95,11.99,12.95,12.99")]
    [InlineData("99.50", "98.95,98.99,99.95,99.99,105,109")]
    [InlineData("143.20", "135,139,145,149")]
    [InlineData("150", "145,149,155,159")]
    public void Candidates_are_the_nearest_allowed_endings_below_and_above_in_each_band(string price, string expected) =>
        Assert.Equal(expected.Split(',').Select(x => decimal.Parse(x, System.Globalization.CultureInfo.InvariantCulture)),
            charm.Candidates(decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("7.37", "6.99")]
    [InlineData("7.60", "7.99")]
    [InlineData("12.37", "11.99")]
    [InlineData("12.97", "12.95")]
    [InlineData("143.20", "145")]
    [InlineData("147", "145")] // a tie between 145 and 149 goes to the lower price
    public void Nearest_picks_the_closest_charm_price(string price, string expected) =>
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            charm.Nearest(decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("8.99", true)]
    [InlineData("8.95", false)]
    [InlineData("48.95", true)]
    [InlineData("149", true)]
    [InlineData("149.99", false)]
    [InlineData("150", false)]
    public void A_price_is_charm_when_its_band_allows_its_ending(string price, bool expected) =>
        Assert.Equal(expected, charm.IsCharm(decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Bands_can_be_configured_and_bad_bands_are_refused()
    {
        var custom = new CharmPricing(new CharmOptions { Bands = [new() { Below = 50m, Cents = [90] }, new() { WholeEndings = [0] }] });
        Assert.Equal(29.90m, custom.Nearest(30.02m));
        Assert.Equal(60m, custom.Nearest(58m));

        var bad = new CharmOptions { Bands = [new() { Below = 10m, Cents = [99] }] };
        var errors = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(bad, new ValidationContext(bad), errors, validateAllProperties: true));
        Assert.Contains(errors, e => e.ErrorMessage!.Contains("top band", StringComparison.Ordinal));
    }
}
