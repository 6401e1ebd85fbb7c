using System.Text.Json;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;
using PricingOptimizer.Tests.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Pricing;

public sealed class PriceResponseTests
{
    private static (List<VariantStats> Stats, JsonElement Expected) ReferenceCase2()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(ReferenceCaseTests.ReferenceFolder, "case-2.expected.json")));
        var expected = document.RootElement.Clone();
        var stats = expected.GetProperty("variants").EnumerateArray()
            .Select(v => new VariantStats(v.GetProperty("variant_id").GetString()!, v.GetProperty("price").GetDecimal(), v.GetProperty("users").GetInt64(),
                v.GetProperty("conversions").GetInt64(), v.GetProperty("revenue").GetDecimal(), 0))
            .ToList();
        return (stats, expected);
    }

    [Fact]
    public void The_curve_is_the_contracts_log_log_fit()
    {
        var (stats, expected) = ReferenceCase2();
        var curve = PriceResponse.Fit(stats, out var reason);
        Assert.Null(reason);
        var slope = expected.GetProperty("elasticity").GetProperty("slope").GetDouble();
        Assert.Equal(slope, curve!.Slope, 9);
        var ci = expected.GetProperty("elasticity").GetProperty("slope_ci");
        Assert.Equal(ci[0].GetDouble(), curve.SlopeCi[0], 9);
        Assert.Equal(ci[1].GetDouble(), curve.SlopeCi[1], 9);
        Assert.Equal(39m, curve.TestedLow);
        Assert.Equal(69m, curve.TestedHigh);
    }

    [Fact]
    public void The_band_holds_the_observed_rates_and_is_narrowest_inside_the_tested_range()
    {
        var (stats, _) = ReferenceCase2();
        var curve = PriceResponse.Fit(stats, out _)!;
        foreach (var v in stats)
        {
            var point = curve.At(v.Price);
            var observed = (double)v.Conversions / v.Users;
            Assert.InRange(observed, point.Low * 0.9, point.High * 1.1);
            Assert.True(point.Low < point.Rate && point.Rate < point.High);
        }

        var points = curve.Curve(31);
        Assert.Equal(31, points.Count);
        var widths = points.Select(p => Math.Log(p.High) - Math.Log(p.Low)).ToList();
        var narrowest = widths.IndexOf(widths.Min());
        Assert.InRange(narrowest, 1, 29);
        Assert.True(widths[0] > widths[narrowest] && widths[^1] > widths[narrowest]);
        Assert.True(points.Zip(points.Skip(1)).All(pair => pair.Second.Rate < pair.First.Rate)); // demand falls with price here
    }

    [Fact]
    public void Fewer_than_three_usable_prices_give_no_curve_and_say_why()
    {
        var stats = new List<VariantStats> { new("a", 10, 100, 10, 100, 1000), new("b", 12, 100, 0, 0, 0), new("c", 14, 100, 8, 112, 1568) };
        Assert.Null(PriceResponse.Fit(stats, out var reason));
        Assert.Contains("three prices", reason, StringComparison.Ordinal);
    }
}
