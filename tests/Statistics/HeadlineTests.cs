using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Tests.Statistics;

/// <summary>The decision sentences a pricing manager reads first: each verdict, with the contract's own figures in it.</summary>
public sealed class HeadlineTests
{
    private static VariantReadout Variant(string id, decimal price, double? lift, double[]? ci, double? chance) =>
        new(id, price, 1_000, 200, 0.2, [0.18, 0.22], 200 * price, (double)(0.2m * price), null, null, null, null, null, null, null, null)
        {
            RevenueLift = lift,
            RevenueLiftCi = ci,
            RevenueChanceToBeatControl = chance,
        };

    private static Readout Of(params VariantReadout[] variants) => new("t", "e", "a", 0.5, 0, variants, null, []);

    [Fact]
    public void A_challenger_whose_interval_clears_zero_is_named_the_winner_with_its_lift_interval_and_chance()
    {
        var headline = ReadoutHeadline.For(Of(Variant("a", 9.99m, null, null, null), Variant("b", 11.99m, 0.066, [0.021, 0.111], 0.983),
            Variant("c", 13.99m, 0.01, [-0.05, 0.07], 0.6)));
        Assert.Equal("b (11.99) earns +6.6% revenue per user over the control a (9.99) (95% interval +2.1% to +11.1%), 98% likely better.", headline);
    }

    [Fact]
    public void A_control_every_challenger_trails_is_said_to_earn_the_most()
    {
        var headline = ReadoutHeadline.For(Of(Variant("a", 9.99m, null, null, null), Variant("b", 11.99m, -0.08, [-0.12, -0.04], 0.01),
            Variant("c", 13.99m, -0.2, [-0.25, -0.15], 0.0)));
        Assert.StartsWith("The control a (9.99) earns the most revenue per user: every other price earns less (the closest, b (11.99), -8.0%", headline,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_intervals_are_no_winner_yet_and_a_broken_split_comes_first()
    {
        var readout = Of(Variant("a", 9.99m, null, null, null), Variant("b", 11.99m, 0.03, [-0.02, 0.08], 0.88)) with { SrmPValue = 0.0001 };
        var headline = ReadoutHeadline.For(readout);
        Assert.StartsWith("Check the assignment first", headline, StringComparison.Ordinal);
        Assert.EndsWith("No clear winner yet on revenue per user: the best-looking, b (11.99), is +3.0% against the control a (9.99) " +
            "(95% interval -2.0% to +8.0%), 88% likely better.", headline, StringComparison.Ordinal);
    }

    [Fact]
    public void On_the_conversions_goal_the_headline_reads_the_conversion_rate()
    {
        var winner = Variant("b", 8.99m, -0.01, [-0.06, 0.04], 0.4) with { Lift = 0.12, LiftCi = [0.05, 0.19], ChanceToBeatControl = 0.999 };
        var readout = Of(Variant("a", 9.99m, null, null, null), winner);
        Assert.Equal("b (8.99) converts +12.0% more users than the control a (9.99) (95% interval +5.0% to +19.0%), 100% likely better.",
            ReadoutHeadline.For(readout, onConversions: true));
        // The same readout on revenue per user: no clear winner.
        Assert.StartsWith("No clear winner yet on revenue per user: the best-looking, b (8.99), is -1.0%", ReadoutHeadline.For(readout),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Too_few_users_to_compare_says_so_with_the_counts()
    {
        var headline = ReadoutHeadline.For(Of(Variant("a", 9.99m, null, null, null), Variant("b", 11.99m, null, null, null)));
        Assert.Equal("Too early to compare: 2,000 users and 400 buyers so far; each price needs 30 users beside the control's.", headline);
    }

    [Fact]
    public void A_recommendation_reads_as_the_price_to_charge_its_change_interval_and_confidence()
    {
        var recommendation = new Recommendation
        {
            TenantId = "t", ExperimentId = "e", Goal = Goal.Revenue, Status = "ok", RecommendedPrice = 11.95m, ExpectedValue = 3.33,
            ExpectedValueCi = [3.165, 3.533], ControlPrice = 7.99m, ControlExpectedValue = 3.128, Confidence = 0.966, Currency = "USD",
        };
        Assert.Equal("Charge 11.95 USD: +6.5% revenue per user against the control's 7.99 (3.330 vs 3.128, 95% interval 3.165–3.533), " +
            "97% likely better than today's price.", RecommendationHeadline.For(recommendation));
        Assert.StartsWith("Keep 7.99 USD, the control's price", RecommendationHeadline.For(recommendation with { RecommendedPrice = 7.99m }),
            StringComparison.Ordinal);
        Assert.Equal("No price yet: There are 12 conversions among 300 users; a price curve needs at least 100.",
            RecommendationHeadline.For(recommendation with { Status = "insufficient_data", Reasoning = ["There are 12 conversions among 300 users; a price curve needs at least 100."] }));
    }
}
