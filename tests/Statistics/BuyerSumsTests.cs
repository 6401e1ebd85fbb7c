using PricingOptimizer.Events;
using PricingOptimizer.Pricing.Buyers;
using PricingOptimizer.Tests.Fixtures;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Statistics;

/// <summary>
/// What a recommendation's revenue-per-buyer models fit comes from the warm summary by the readout's counting rules: a
/// buyer's revenue sums their converts at or after the first assign, units are a convert's quantity (else revenue ÷
/// price), the cap is the readout's, and a new file folds in.
/// </summary>
public sealed class BuyerSumsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);

    private static PricingEvent Assign(string user, string variant) =>
        new($"a-{user}-{variant}", EventType.Assign, "exp", variant, user, variant == "a" ? 10m : 20m, null, "USD", T0);

    private static PricingEvent Convert(string id, string user, string variant, decimal? revenue, double hours, string? quantity = null) =>
        new(id, EventType.Convert, "exp", variant, user, variant == "a" ? 10m : 20m, revenue, "USD", T0.AddHours(hours),
            quantity is null ? null : new Dictionary<string, string> { ["quantity"] = quantity });

    [Fact]
    public async Task Buyer_sums_follow_the_readout_rules_with_quantities_caps_and_new_files()
    {
        PricingEvent[] first =
        [
            Assign("u1", "a"), Convert("c1", "u1", "a", 30m, 1, "3"), // a basket of three: units 3
            Assign("u2", "a"), Convert("c2a", "u2", "a", null, 1), Convert("c2b", "u2", "a", null, 2), // a renewal: two purchases at the price
            Assign("u3", "a"), Convert("c3", "u3", "a", 12m, 1), // an add-on: units 12 ÷ 10
            Assign("u4", "a"), Convert("c4", "u4", "a", 10m, -1), // bought before the assign: not counted
            Assign("u5", "b"), Convert("c5", "u5", "b", null, 1, "abc"), Convert("c5", "u5", "b", null, 1, "abc"), // a retry; a quantity that is no number
            Assign("u6", "a"), Assign("u6", "b"), Convert("c6", "u6", "a", 100m, 1, "10"), // saw both prices: excluded
            Assign("u7", "b"), Convert("c7", "u7", "b", 50m, 1, "2"),
            Assign("u8", "b"), Convert("c8", "u8", "b", null, 1, "0"), // quantity 0 is no quantity: units 20 ÷ 20
        ];
        await using var lake = new LandedLake();
        var queries = lake.Queries;
        await lake.LandAsync(first, T0);

        var sums = (await queries.ExperimentBuyersAsync("t", "exp", null, CancellationToken.None)).ToDictionary(b => b.VariantId);
        Expect(sums["a"], 3, 62, 900 + 400 + 144, 6.2, 9 + 4 + 1.44, 90 + 40 + 14.4);
        Expect(sums["b"], 3, 90, 400 + 2500 + 400, 4, 1 + 4 + 1, 20 + 100 + 20);

        // Capped at the median of the counted users' positive revenues (12, 20, 20, 20, 30, 50 → 20): a capped buyer's units shrink in proportion.
        var capped = (await queries.ExperimentBuyersAsync("t", "exp", 0.5, CancellationToken.None)).ToDictionary(b => b.VariantId);
        Expect(capped["a"], 3, 20 + 20 + 12, 400 + 400 + 144, 2 + 2 + 1.2, 4 + 4 + 1.44, 40 + 40 + 14.4);
        Expect(capped["b"], 3, 60, 1200, 1 + 0.8 + 1, 1 + 0.64 + 1, 20 + 16 + 20);

        // A later file: u3 buys again (8.00: units 0.8), u4 buys after the assign.
        await lake.LandAsync([Convert("c3b", "u3", "a", 8m, 3), Convert("c4b", "u4", "a", null, 2)], T0);
        var folded = (await queries.ExperimentBuyersAsync("t", "exp", null, CancellationToken.None)).ToDictionary(b => b.VariantId);
        Expect(folded["a"], 4, 62 + 8 + 10, 900 + 400 + 400 + 100, 6.2 + 0.8 + 1, 9 + 4 + 4 + 1, 90 + 40 + 40 + 10);
        Assert.Equal(sums["b"], folded["b"]);
    }

    private static void Expect(BuyerSums actual, long buyers, double revenue, double squares, double units, double unitSquares, double cross)
    {
        Assert.Equal(buyers, actual.Buyers);
        Assert.Equal(revenue, actual.Revenue, 1e-9);
        Assert.Equal(squares, actual.RevenueSquares, 1e-9);
        Assert.Equal(units, actual.Units, 1e-9);
        Assert.Equal(unitSquares, actual.UnitsSquares, 1e-9);
        Assert.Equal(cross, actual.RevenueUnits, 1e-9);
    }
}
