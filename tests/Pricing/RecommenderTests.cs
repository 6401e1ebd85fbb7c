using System.Text.Json;
using PricingOptimizer.Pricing;
using PricingOptimizer.Simulation;

namespace PricingOptimizer.Tests.Pricing;

public sealed class RecommenderTests
{
    private static readonly DateTimeOffset End = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static List<DemandObservation> Users(double intercept = 0.2, double slope = -0.12, int perPrice = 4000, int seed = 11, decimal[]? prices = null) =>
        DemandSimulator.Users(new SimulationSettings
        {
            Intercept = intercept,
            Slope = slope,
            UsersPerPrice = perPrice,
            Seed = seed,
            Prices = prices is null ? [7.99m, 9.99m, 11.99m, 13.99m, 15.99m] : [.. prices],
        }, End);

    private static Recommendation Recommend(List<DemandObservation> users, RecommendationRequest request, string control = "p0", CharmOptions? charm = null,
        RecommendationOptions? options = null) =>
        new Recommender(options ?? new RecommendationOptions { Draws = 2000 }, new CharmPricing(charm ?? new CharmOptions()))
            .Recommend("t", "exp", users, control, request, [], "USD");

    [Fact]
    public void The_answer_carries_every_field_of_the_recommendation_contract()
    {
        var result = Recommend(Users(), new RecommendationRequest(Goal.Revenue));
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result));
        foreach (var field in new[] { "experiment_id", "goal", "status", "model", "optimal_price", "recommended_price", "charm_applied", "expected_value",
                     "expected_value_ci", "control_price", "control_expected_value", "confidence", "tested_price_range", "reasoning", "next_steps" })
        {
            Assert.True(json.RootElement.TryGetProperty(field, out var value), field);
            Assert.NotEqual(JsonValueKind.Null, value.ValueKind);
        }

        Assert.Equal("ok", result.Status);
        Assert.Equal([7.99m, 15.99m], result.TestedPriceRange!);
        Assert.InRange(result.ExpectedValue!.Value, result.ExpectedValueCi![0], result.ExpectedValueCi[1]);
        Assert.InRange(result.Confidence!.Value, 0, 1);
        Assert.Equal(2, result.ModelComparison.Count);
        Assert.Equal(1, result.ModelWeights!.Values.Sum(), 9);
        // The reasoning cites the numbers it rests on.
        Assert.Contains(result.Reasoning, s => s.Contains(result.OptimalPrice!.Value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Contains(result.Reasoning, s => s.Contains("log-loss", StringComparison.Ordinal));
        Assert.Contains(result.Reasoning, s => s.Contains("posterior draws", StringComparison.Ordinal));
    }

    [Fact]
    public void A_charm_price_is_used_only_inside_the_optimum_s_interval_and_both_prices_are_shown()
    {
        var users = Users(perPrice: 20_000);
        var charmed = Recommend(users, new RecommendationRequest(Goal.Revenue));
        Assert.True(new CharmPricing(new CharmOptions()).IsCharm(charmed.RecommendedPrice!.Value));
        Assert.NotNull(charmed.OptimalPrice);
        Assert.NotNull(charmed.OptimalExpectedValue);

        // Only whole amounts ending in 5 allowed: 5 and 15 are the nearest, far from the optimum near 11 on a tight curve.
        var strict = new CharmOptions { Bands = [new CharmBand { Below = null, WholeEndings = [5] }] };
        var exact = Recommend(users, new RecommendationRequest(Goal.Revenue), charm: strict);
        Assert.False(exact.CharmApplied);
        Assert.Equal(exact.OptimalPrice, exact.RecommendedPrice);
        Assert.Contains(exact.Reasoning, s => s.Contains("No charm price", StringComparison.Ordinal));
    }

    [Fact]
    public void It_never_goes_beyond_the_tested_range_by_more_than_the_margin_and_says_so()
    {
        // Demand so flat that revenue keeps rising far above the tested prices (true optimum near 50).
        var users = Users(intercept: -1, slope: -0.02);
        var result = Recommend(users, new RecommendationRequest(Goal.Revenue), options: new RecommendationOptions { Draws = 1000, ExtrapolationMargin = 0.05 });
        Assert.Equal("ok", result.Status);
        Assert.True(result.OptimalPrice <= 15.99m * 1.05m, $"{result.OptimalPrice}");
        Assert.True(result.RecommendedPrice <= 15.99m * 1.05m, $"{result.RecommendedPrice}");
        Assert.Contains(result.Reasoning, s => s.Contains("edge of the allowed prices", StringComparison.Ordinal));
        Assert.Contains(result.NextSteps, s => s.Contains("beyond the tested range", StringComparison.Ordinal));
    }

    [Fact]
    public void Profit_moves_the_price_up_and_conversions_respects_its_floor()
    {
        var users = Users(perPrice: 10_000);
        var revenue = Recommend(users, new RecommendationRequest(Goal.Revenue));
        var profit = Recommend(users, new RecommendationRequest(Goal.Profit, UnitCost: 4));
        Assert.True(profit.OptimalPrice > revenue.OptimalPrice);
        var truth = new LogitDemand(0.2, -0.12);
        Assert.Equal(truth.ValuePerUser((double)profit.ControlPrice!.Value, 4), profit.ControlExpectedValue!.Value, 1);

        var conversions = Recommend(users, new RecommendationRequest(Goal.Conversions, RevenueFloor: 2.6m));
        Assert.Equal("ok", conversions.Status);
        Assert.True(conversions.RecommendedPrice < revenue.OptimalPrice);
        var rate = conversions.ExpectedValue!.Value;
        Assert.True((double)conversions.RecommendedPrice!.Value * rate >= 2.6 - 1e-9);

        var priceFloor = Recommend(users, new RecommendationRequest(Goal.Conversions, PriceFloor: 9.50m));
        Assert.True(priceFloor.RecommendedPrice >= 9.50m);
        Assert.True(priceFloor.OptimalPrice >= 9.50m);
    }

    [Fact]
    public void Too_little_data_answers_insufficient_data_with_the_reason_not_a_guess()
    {
        var twoPrices = Recommend(Users(prices: [9.99m, 12.99m]), new RecommendationRequest(Goal.Revenue));
        Assert.Equal("insufficient_data", twoPrices.Status);
        Assert.Null(twoPrices.RecommendedPrice);
        Assert.Contains("2 tested price(s)", twoPrices.Reasoning.Single(), StringComparison.Ordinal);

        var fewBuyers = Recommend(Users(intercept: -5, perPrice: 150), new RecommendationRequest(Goal.Revenue));
        Assert.Equal("insufficient_data", fewBuyers.Status);
        Assert.Contains("conversions", fewBuyers.Reasoning.Single(), StringComparison.Ordinal);
        Assert.NotEmpty(fewBuyers.NextSteps);

        var unreachable = Recommend(Users(), new RecommendationRequest(Goal.Conversions, RevenueFloor: 50m));
        Assert.Equal("insufficient_data", unreachable.Status);
        Assert.Contains("revenue floor", unreachable.Reasoning.Single(), StringComparison.Ordinal);

        var floorTooHigh = Recommend(Users(), new RecommendationRequest(Goal.Conversions, PriceFloor: 40m));
        Assert.Contains("above the highest price the data supports", floorTooHigh.Reasoning.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Requests_that_cannot_be_answered_as_asked_name_the_field()
    {
        Assert.Equal("unit_cost", new RecommendationRequest(Goal.Profit).Problem()?.Field);
        Assert.Equal("price_floor", new RecommendationRequest(Goal.Conversions).Problem()?.Field);
        Assert.Equal("unit_cost", new RecommendationRequest(Goal.Profit, UnitCost: -1).Problem()?.Field);
        Assert.Null(new RecommendationRequest(Goal.Conversions, RevenueFloor: 1).Problem());
    }

    [Fact]
    public void The_same_data_and_seed_give_the_same_recommendation()
    {
        var users = Users(perPrice: 1500);
        var a = JsonSerializer.Serialize(Recommend(users, new RecommendationRequest(Goal.Revenue)));
        var b = JsonSerializer.Serialize(Recommend(users, new RecommendationRequest(Goal.Revenue)));
        Assert.Equal(a, b);
    }
}
