using PricingOptimizer.Analytics;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Statistics;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Statistics;

/// <summary>
/// Statistics contract rule 13: with <c>attribution_days</c> W only converts in [first assign, first assign + W days)
/// count; with <c>mature_only</c> only users whose window closed by the experiment's last event count.
/// </summary>
public sealed class AttributionWindowTests
{
    private static readonly DateTimeOffset T0 = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

    private static PricingEvent Assign(string user, string variant, double day) =>
        new($"a-{user}", EventType.Assign, "exp", variant, user, variant == "control" ? 10m : 12m, null, "USD", T0.AddDays(day));

    private static PricingEvent Buy(string id, string user, string variant, double day) =>
        new(id, EventType.Convert, "exp", variant, user, variant == "control" ? 10m : 12m, null, "USD", T0.AddDays(day));

    [Fact]
    public async Task Only_converts_inside_the_window_count_and_mature_only_keeps_users_whose_window_closed()
    {
        PricingEvent[] events =
        [
            Assign("a1", "control", 0), Buy("c1", "a1", "control", 1), Buy("c1b", "a1", "control", 10), // a renewal after the window
            Assign("a2", "control", 5), Buy("c2", "a2", "control", 7),
            Assign("a3", "control", 20), Buy("c3", "a3", "control", 26), // inside its window, but the window has not closed
            Assign("a4", "control", 1), Buy("c4", "a4", "control", 8), // exactly W days later: outside
            Assign("b1", "b", 0), Buy("d1", "b1", "b", 8),
            Assign("b2", "b", 2), Buy("d2", "b2", "b", 2.125),
            Assign("b3", "b", 25),
        ];
        await using var landed = new LandedLake();
        var lake = landed.Queries;
        await landed.LandAsync(events, T0);
        var readouts = new ReadoutService(lake, new LakeExperimentCatalog(lake));

        async Task<Dictionary<string, VariantReadout>> Read(int? days, bool mature)
        {
            var readout = await readouts.GetAsync("t", "exp", "control", new ReadoutOptions(AttributionDays: days, MatureOnly: mature), CancellationToken.None);
            Assert.Equal(days, readout.AttributionDays);
            Assert.Equal(mature && days is not null, readout.MatureOnly);
            return readout.Variants.ToDictionary(v => v.VariantId);
        }

        var all = await Read(null, false);
        Expect(all["control"], 4, 4, 50);
        Expect(all["b"], 3, 2, 24);
        var week = await Read(7, false);
        Expect(week["control"], 4, 3, 30);
        Expect(week["b"], 3, 1, 12);
        // The last event is a3's purchase on day 26: windows that began after day 19 are still open.
        var mature = await Read(7, true);
        Expect(mature["control"], 3, 2, 20);
        Expect(mature["b"], 2, 1, 12);
        // The unwindowed readout is still the summary's own after windowed reads.
        Expect((await Read(null, false))["control"], 4, 4, 50);

        var buyers = (await lake.ExperimentBuyersAsync("t", "exp", null, CancellationToken.None, new Attribution(7))).ToDictionary(b => b.VariantId);
        Assert.Equal(3, buyers["control"].Buyers);
        Assert.Equal(30, buyers["control"].Revenue, 9);

        // A new file folds in under the window too: b1 also bought on day 1.
        await landed.LandAsync([Buy("d1b", "b1", "b", 1)], T0);
        Expect((await Read(7, false))["b"], 3, 2, 24);
        Expect((await Read(null, false))["b"], 3, 2, 36);
    }

    [Fact]
    public void Windows_outside_the_rules_name_their_field()
    {
        Assert.Equal("attribution_days", new ReadoutOptions(AttributionDays: 0).Problem()?.Field);
        Assert.Equal("attribution_days", new ReadoutOptions(AttributionDays: Attribution.MaxDays + 1).Problem()?.Field);
        Assert.Equal("mature_only", new ReadoutOptions(MatureOnly: true).Problem()?.Field);
        Assert.Null(new ReadoutOptions(AttributionDays: 30, MatureOnly: true).Problem());
        Assert.Equal("attribution_days",
            new PricingOptimizer.Pricing.RecommendationRequest(PricingOptimizer.Pricing.Goal.Revenue, AttributionDays: -2).Problem()?.Field);
    }

    private static void Expect(VariantReadout v, long users, long conversions, decimal revenue)
    {
        Assert.Equal(users, v.Users);
        Assert.Equal(conversions, v.Conversions);
        Assert.Equal(revenue, v.Revenue);
    }
}
