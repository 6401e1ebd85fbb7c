using System.Globalization;
using System.Text.Json;
using PricingOptimizer.Pricing;
using PricingOptimizer.Simulation;
using PricingOptimizer.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Pricing;

public sealed class RecommenderTests
{
    private static readonly decimal[] Prices = [7.99m, 9.99m, 11.99m, 13.99m, 15.99m];

    /// <summary>Seeded per-price counts drawn from a known curve.</summary>
    private static IReadOnlyList<VariantStats> Stats(string curve = "logit:a=0.2,b=-0.12", int perPrice = 4000, int seed = 11, decimal[]? prices = null) =>
        Backtest.Draw(new BacktestSettings(DemandShape.Parse(curve), prices ?? Prices, perPrice, new RecommendationRequest(Goal.Revenue)), seed).Variants;

    private static Recommendation Recommend(IReadOnlyList<VariantStats> stats, RecommendationRequest request, string control = "p0", CharmOptions? charm = null,
        RecommendationOptions? options = null) =>
        new Recommender(options ?? new RecommendationOptions { Draws = 300 }, new CharmPricing(charm ?? new CharmOptions()))
            .Recommend("t", "exp", stats, control, request, "USD");

    private static string Money(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    [Fact]
    public void The_answer_carries_every_field_of_the_recommendation_contract()
    {
        var stats = Stats();
        var result = Recommend(stats, new RecommendationRequest(Goal.Revenue));
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result));
        foreach (var field in new[] { "experiment_id", "goal", "status", "model", "models", "optimal_price", "recommended_price", "charm_applied",
            "expected_value",
                     "expected_value_ci", "control_price", "control_expected_value", "best_tested_price", "best_tested_expected_value", "confidence",
                     "tested_price_range", "extrapolated", "reasoning", "next_steps" })
        {
            Assert.True(json.RootElement.TryGetProperty(field, out var value), field);
            Assert.NotEqual(JsonValueKind.Null, value.ValueKind);
        }

        foreach (var model in json.RootElement.GetProperty("models").EnumerateArray())
        {
            Assert.Equal(JsonValueKind.String, model.GetProperty("name").ValueKind);
            Assert.Equal(JsonValueKind.Number, model.GetProperty("weight").ValueKind);
            Assert.True(model.TryGetProperty("held_out_log_loss", out _));
            Assert.True(model.GetProperty("fits_data").ValueKind is JsonValueKind.True or JsonValueKind.False);
        }

        Assert.Equal("ok", result.Status);
        Assert.Equal([7.99m, 15.99m], result.TestedPriceRange!);
        Assert.False(result.Extrapolated);
        Assert.InRange(result.ExpectedValue!.Value, result.ExpectedValueCi![0], result.ExpectedValueCi[1]);
        Assert.InRange(result.Confidence!.Value, 0, 1);
        Assert.Equal(1, result.Models.Sum(m => m.Weight), 9);
        Assert.Contains(result.Models, m => m.Name == "isotonic");
        Assert.Equal(result.Model, result.Models.MaxBy(m => m.Weight)!.Name);

        // The naive rule's answer is the tested price with the best observed revenue per user, computed here by hand.
        var best = stats.MaxBy(v => (double)v.Price * v.Conversions / v.Users)!;
        Assert.Equal(best.Price, result.BestTestedPrice);
        Assert.Equal((double)best.Price * best.Conversions / best.Users, result.BestTestedExpectedValue!.Value, 12);

        // The reasoning cites the numbers it rests on.
        Assert.Contains(result.Reasoning, s => s.Contains(Money(result.OptimalPrice!.Value), StringComparison.Ordinal));
        Assert.Contains(result.Reasoning, s => s.Contains("stacking", StringComparison.Ordinal));
        Assert.Contains(result.Reasoning, s => s.Contains("bootstrap draws", StringComparison.Ordinal));
        Assert.Contains(result.Reasoning, s => s.Contains(Money(best.Price), StringComparison.Ordinal));
    }

    [Fact]
    public void Each_family_is_checked_against_the_observed_rates_and_one_that_misses_them_is_dropped()
    {
        // Two customer segments: a plateau between them no smooth two-parameter curve can follow at 20,000 users a price.
        var stats = Stats("segments:share=0.6,median1=10,sigma1=0.25,median2=30,sigma2=0.3,reach=0.35", perPrice: 20_000, prices: [8m, 12m, 18m, 24m, 30m]);
        var result = Recommend(stats, new RecommendationRequest(Goal.Revenue));
        Assert.Equal("ok", result.Status);
        var linear = result.Models.Single(m => m.Name == "linear");
        Assert.False(linear.FitsData);
        Assert.Equal(0, linear.Weight);
        Assert.True(result.Models.Where(m => !m.FitsData).All(m => m.Weight == 0));
        Assert.Contains(result.Reasoning, s => s.Contains("Dropped", StringComparison.Ordinal) && s.Contains("linear", StringComparison.Ordinal));
    }

    [Fact]
    public void A_charm_price_is_used_only_when_it_costs_almost_nothing_and_both_prices_are_shown()
    {
        var stats = Stats(perPrice: 20_000);
        var charmed = Recommend(stats, new RecommendationRequest(Goal.Revenue));
        Assert.True(new CharmPricing(new CharmOptions()).IsCharm(charmed.RecommendedPrice!.Value));
        Assert.NotNull(charmed.OptimalPrice);
        Assert.True(charmed.ExpectedValue >= charmed.OptimalExpectedValue * (1 - 0.002) - 1e-12);

        // Only whole amounts ending in 5 allowed: 5 and 15 are the nearest, far from the optimum near 11.
        var strict = new CharmOptions { Bands = [new CharmBand { Below = null, WholeEndings = [5] }] };
        var exact = Recommend(stats, new RecommendationRequest(Goal.Revenue), charm: strict);
        Assert.False(exact.CharmApplied);
        Assert.Equal(exact.OptimalPrice, exact.RecommendedPrice);
        Assert.Contains(exact.Reasoning, s => s.Contains("so the exact optimum is recommended", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_a_margin_it_never_leaves_the_tested_range_and_an_edge_optimum_asks_for_a_test_beyond_it()
    {
        // Demand so flat that revenue keeps rising far above the tested prices (true optimum near 50).
        var stats = Stats("logit:a=-1,b=-0.02");
        var result = Recommend(stats, new RecommendationRequest(Goal.Revenue));
        Assert.Equal("ok", result.Status);
        Assert.Equal(0, result.ExtrapolationMargin);
        Assert.False(result.Extrapolated);
        Assert.True(result.RecommendedPrice <= 15.99m && result.OptimalPrice <= 15.99m, $"{result.RecommendedPrice}");
        Assert.Contains(result.Reasoning, s => s.Contains("highest tested price", StringComparison.Ordinal));
        var step = Assert.Single(result.NextSteps, s => s.Contains("beyond the upper edge", StringComparison.Ordinal));
        Assert.Contains(Money(Math.Round(15.99m * 1.15m, 2)), step, StringComparison.Ordinal);
        Assert.Contains("users per price", step, StringComparison.Ordinal);

        // With an explicit margin the search goes further, and says so.
        var wider = Recommend(stats, new RecommendationRequest(Goal.Revenue, ExtrapolationMargin: 0.1));
        Assert.True(wider.RecommendedPrice > 15.99m && wider.RecommendedPrice <= 15.99m * 1.1m, $"{wider.RecommendedPrice}");
        Assert.True(wider.Extrapolated);
        Assert.Contains(wider.Reasoning, s => s.Contains("extrapolation margin of 10%", StringComparison.Ordinal));
    }

    [Fact]
    public void Profit_moves_the_price_up_and_conversions_respects_its_floor()
    {
        var stats = Stats(perPrice: 10_000);
        var revenue = Recommend(stats, new RecommendationRequest(Goal.Revenue));
        var profit = Recommend(stats, new RecommendationRequest(Goal.Profit, UnitCost: 4));
        Assert.True(profit.OptimalPrice > revenue.OptimalPrice);
        var truth = DemandShape.Parse("logit:a=0.2,b=-0.12");
        Assert.Equal((7.99 - 4) * truth.Rate(7.99), profit.ControlExpectedValue!.Value, 1);

        var conversions = Recommend(stats, new RecommendationRequest(Goal.Conversions, RevenueFloor: 2.6m));
        Assert.Equal("ok", conversions.Status);
        Assert.True(conversions.RecommendedPrice < revenue.OptimalPrice);
        Assert.True((double)conversions.RecommendedPrice!.Value * conversions.ExpectedValue!.Value >= 2.6 - 1e-9);

        var priceFloor = Recommend(stats, new RecommendationRequest(Goal.Conversions, PriceFloor: 9.50m));
        Assert.True(priceFloor.RecommendedPrice >= 9.50m);
        Assert.True(priceFloor.OptimalPrice >= 9.50m);
    }

    [Fact]
    public void Too_little_data_answers_insufficient_data_with_the_reason_not_a_guess()
    {
        var twoPrices = Recommend(Stats(prices: [9.99m, 12.99m]), new RecommendationRequest(Goal.Revenue));
        Assert.Equal("insufficient_data", twoPrices.Status);
        Assert.Null(twoPrices.RecommendedPrice);
        Assert.Contains("Only 2 tested prices have at least 100 users", twoPrices.Reasoning.Single(), StringComparison.Ordinal);

        var fewBuyers = Recommend(Stats("logit:a=-5,b=-0.12", perPrice: 150), new RecommendationRequest(Goal.Revenue));
        Assert.Equal("insufficient_data", fewBuyers.Status);
        Assert.Contains("conversions", fewBuyers.Reasoning.Single(), StringComparison.Ordinal);
        Assert.NotEmpty(fewBuyers.NextSteps);

        var unreachable = Recommend(Stats(), new RecommendationRequest(Goal.Conversions, RevenueFloor: 50m));
        Assert.Equal("insufficient_data", unreachable.Status);
        Assert.Contains("revenue floor", unreachable.Reasoning.Single(), StringComparison.Ordinal);

        var floorTooHigh = Recommend(Stats(), new RecommendationRequest(Goal.Conversions, PriceFloor: 40m));
        Assert.Contains("above the highest price the data support", floorTooHigh.Reasoning.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Requests_that_cannot_be_answered_as_asked_name_the_field()
    {
        Assert.Equal("unit_cost", new RecommendationRequest(Goal.Profit).Problem()?.Field);
        Assert.Equal("price_floor", new RecommendationRequest(Goal.Conversions).Problem()?.Field);
        Assert.Equal("unit_cost", new RecommendationRequest(Goal.Profit, UnitCost: -1).Problem()?.Field);
        Assert.Equal("extrapolation_margin", new RecommendationRequest(Goal.Revenue, ExtrapolationMargin: -0.1).Problem()?.Field);
        Assert.Equal("extrapolation_margin", new RecommendationRequest(Goal.Revenue, ExtrapolationMargin: double.NaN).Problem()?.Field);
        Assert.Null(new RecommendationRequest(Goal.Conversions, RevenueFloor: 1).Problem());
    }

    [Fact]
    public void The_same_data_and_seed_give_the_same_recommendation()
    {
        var stats = Stats(perPrice: 1500);
        var a = JsonSerializer.Serialize(Recommend(stats, new RecommendationRequest(Goal.Revenue)));
        var b = JsonSerializer.Serialize(Recommend(stats, new RecommendationRequest(Goal.Revenue)));
        Assert.Equal(a, b);
    }
}
