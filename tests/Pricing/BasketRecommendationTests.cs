using System.Text.Json;
using PricingOptimizer.Pricing;
using PricingOptimizer.Pricing.Buyers;
using PricingOptimizer.Simulation;
using PricingOptimizer.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Pricing;

/// <summary>
/// Recommendation contract v3: the goal value per user is P(buy | p) × what a buyer pays at p, as the readout counts it,
/// so baskets, renewals and add-ons that depend on the price move the recommendation, and where every buyer pays the
/// price once nothing changes.
/// </summary>
public sealed class BasketRecommendationTests
{
    private static readonly decimal[] Prices = [5.49m, 6.49m, 7.99m, 9.49m, 10.99m];

    private static BacktestSettings Shop(string units, Goal goal = Goal.Revenue, string curve = "logit:a=0.2,b=-0.12", decimal[]? prices = null,
        int users = 5000)
    {
        prices ??= Prices;
        return new BacktestSettings(DemandShape.Parse(curve), prices, users, new RecommendationRequest(goal, goal == Goal.Profit ? prices[0] / 2 : null),
            Runs: 1, Seed: 1, ControlIndex: 2, Units: BuyerShape.Parse(units));
    }

    private static Recommender Recommender(int draws = 200) => new(new RecommendationOptions { Draws = draws }, new CharmPricing(new CharmOptions()));

    [Fact]
    public void Where_every_buyer_pays_the_price_once_revenue_is_the_price_times_the_demand_curve()
    {
        // Same demand draws (same seed) for both goals: the conversions goal's value curve is the mean buying rate, so the
        // revenue curve must be exactly the price times it at every price.
        var settings = Shop("one");
        var (variants, buyers) = Backtest.Draw(settings, 7);
        var revenue = Recommender().Recommend("t", "e", variants, "p2", new RecommendationRequest(Goal.Revenue), "USD", buyers);
        var rates = Recommender().Recommend("t", "e", variants, "p2", new RecommendationRequest(Goal.Conversions, PriceFloor: Prices[0]), "USD", buyers);
        var byPrice = rates.ValueCurve.ToDictionary(p => p.Price, p => p.ExpectedValue);
        var shared = revenue.ValueCurve.Where(p => byPrice.ContainsKey(p.Price)).ToList();
        Assert.True(shared.Count > 50, $"{shared.Count} shared prices");
        Assert.All(shared, p => Assert.Equal((double)p.Price * byPrice[p.Price], p.ExpectedValue, 1e-9));
        var constant = Assert.Single(revenue.RevenueModels, m => m.Name == "constant-units");
        Assert.True(constant.FitsData);
        // Without the buyer sums (the v2 inputs) the answer is the same.
        var fromCounts = Recommender().Recommend("t", "e", variants, "p2", new RecommendationRequest(Goal.Revenue), "USD");
        Assert.Equal(revenue.RecommendedPrice, fromCounts.RecommendedPrice);
        Assert.Equal(revenue.ExpectedValue!.Value, fromCounts.ExpectedValue!.Value, 1e-12);
    }

    [Theory]
    [InlineData("extra:mean=0.5,elasticity=-1,ref=10", "revenue")]
    [InlineData("extra:mean=0.3,elasticity=1.5,ref=8", "revenue")]
    [InlineData("repeat:rate=0.5,elasticity=-0.4,ref=8,periods=6", "profit")]
    [InlineData("extra:mean=0.5,elasticity=-0.5,ref=8,spread=1.2", "profit")]
    public void At_every_tested_price_the_fitted_value_agrees_with_what_buyers_actually_paid(string units, string goal)
    {
        Json.Wire.TryParse<PricingOptimizer.Pricing.Goal>(goal, out var parsed);
        var settings = Shop(units, parsed);
        var (variants, buyers) = Backtest.Draw(settings, 3);
        var result = Recommender().Recommend("t", "e", variants, "p2", settings.Request, "USD", buyers);
        Assert.Equal("ok", result.Status);
        var cost = (double)(settings.Request.UnitCost ?? 0);
        foreach (var v in variants)
        {
            var b = buyers.Single(x => x.VariantId == v.VariantId);
            // The readout's figure: what buyers paid (less cost × units) over every user shown the price.
            var observed = (b.Revenue - (cost * b.Units)) / v.Users;
            var point = Assert.Single(result.ValueCurve, p => p.Price == v.Price);
            Assert.NotNull(point.ObservedValue);
            Assert.Equal(observed, point.ObservedValue!.Value, 1e-9);
            // Per-user variance of the value: buyers' spread plus whether they buy.
            var perBuyer = (b.Revenue - (cost * b.Units)) / b.Buyers;
            var squares = b.RevenueSquares - (2 * cost * b.RevenueUnits) + (cost * cost * b.UnitsSquares);
            var variance = (squares / v.Users) - (observed * observed);
            var standardError = Math.Sqrt(variance / v.Users);
            Assert.True(Math.Abs(point.ExpectedValue - observed) <= 3.5 * standardError,
                $"{units} at {v.Price}: fitted {point.ExpectedValue:0.0000}, observed {observed:0.0000} (se {standardError:0.0000}, " +
                    $"{perBuyer:0.00} per buyer)");
        }

        Assert.Contains(result.RevenueModels, m => m.Weight > 0 && m.FitsData);
        Assert.Equal(1.0, result.RevenueModels.Sum(m => m.Weight), 1e-9);
        Assert.All(result.RevenueModels, m => Assert.True(m.HeldOutError is null or >= 0));
    }

    [Fact]
    public void When_buyers_stock_up_at_low_prices_the_advice_follows_what_they_pay_not_the_price_alone()
    {
        // Units fall steeply with price: the revenue optimum moves well below the one-unit optimum of this demand curve (11.04).
        var settings = Shop("extra:mean=1,elasticity=-1,ref=10", prices: [5.99m, 7.99m, 9.99m, 11.99m, 13.99m]);
        var truth = Backtest.TrueOptimum(settings);
        var oneUnit = Backtest.TrueOptimum(settings with { Units = null });
        Assert.True(truth.Price < oneUnit.Price - 1, $"true optimum {truth.Price} vs one-unit {oneUnit.Price}");
        var regrets = new List<double>();
        var covered = 0;
        foreach (var seed in Enumerable.Range(1, 8))
        {
            var (variants, buyers) = Backtest.Draw(settings, seed);
            var result = Recommender().Recommend("t", "e", variants, "p2", settings.Request, "USD", buyers);
            var run = Backtest.Score(settings, truth, result, variants, buyers, seed);
            regrets.Add(run.Regret!.Value);
            covered += run.Covered == true ? 1 : 0;
            Assert.True(result.RecommendedPrice < (decimal)oneUnit.Price, $"seed {seed}: {result.RecommendedPrice}");
        }

        Assert.True(regrets.Average() < 0.02, $"mean regret {regrets.Average():P2}");
        Assert.True(covered >= 6, $"{covered} of 8 intervals held the true value");
    }

    [Fact]
    public void One_huge_basket_does_not_swing_the_answer()
    {
        var settings = Shop("extra:mean=0.5,elasticity=-1,ref=10,spread=0.5");
        var (variants, buyers) = Backtest.Draw(settings, 5);
        var before = Recommender().Recommend("t", "e", variants, "p2", settings.Request, "USD", buyers);
        // One buyer at the highest price spent 400 times the price more.
        var extra = (double)Prices[^1] * 400;
        var top = buyers[^1];
        var old = top.Revenue / top.Buyers;
        var bumped = top with
        {
            Revenue = top.Revenue + extra,
            RevenueSquares = top.RevenueSquares - (old * old) + ((old + extra) * (old + extra)),
        };
        var after = Recommender().Recommend("t", "e", variants, "p2", settings.Request, "USD", [.. buyers.Take(buyers.Count - 1), bumped]);
        Assert.True(Math.Abs(after.RecommendedPrice!.Value - before.RecommendedPrice!.Value) <= 1.0m,
            $"before {before.RecommendedPrice}, after {after.RecommendedPrice}");
    }

    [Fact]
    public void The_contract_carries_revenue_models_and_observed_values()
    {
        var settings = Shop("extra:mean=0.5,elasticity=-1,ref=10");
        var (variants, buyers) = Backtest.Draw(settings, 2);
        var result = Recommender().Recommend("t", "e", variants, "p2", settings.Request with { CapPercentile = 0.99 }, "USD", buyers);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result));
        var models = json.RootElement.GetProperty("revenue_models");
        Assert.Equal(BuyerValueFamilies.Default.Count, models.GetArrayLength());
        foreach (var model in models.EnumerateArray())
        {
            Assert.Equal(JsonValueKind.String, model.GetProperty("name").ValueKind);
            Assert.Equal(JsonValueKind.Number, model.GetProperty("weight").ValueKind);
            Assert.True(model.TryGetProperty("held_out_error", out _));
            Assert.True(model.TryGetProperty("fits_data", out _));
        }

        Assert.Equal(0.99, json.RootElement.GetProperty("cap_percentile").GetDouble());
        var observed = json.RootElement.GetProperty("value_curve").EnumerateArray()
            .Where(p => p.GetProperty("observed_value").ValueKind == JsonValueKind.Number).Select(p => p.GetProperty("price").GetDecimal()).ToList();
        Assert.Equal(Prices, observed);
    }

    [Fact]
    public void The_naive_rule_charges_the_tested_price_whose_buyers_brought_the_most_per_user()
    {
        // Buyers at 5.49 pay for three units, so revenue per user there beats the one-unit leader.
        VariantStats V(string id, decimal price, long buyers) => new(id, price, 1000, buyers, buyers * price, buyers * (double)price * (double)price);
        var variants = new[] { V("p0", 5.49m, 400), V("p1", 7.99m, 350), V("p2", 10.99m, 300) };
        var sums = variants.Select(BuyerSums.From).Select(b => b.VariantId == "p0"
            ? b with { Revenue = b.Revenue * 3, RevenueSquares = b.RevenueSquares * 9, Units = b.Units * 3, UnitsSquares = b.UnitsSquares * 9,
                RevenueUnits = b.RevenueUnits * 9 }
            : b).ToList();
        var result = Recommender().Recommend("t", "e", variants, "p1", new RecommendationRequest(Goal.Revenue), "USD", sums);
        Assert.Equal(5.49m, result.BestTestedPrice);
        Assert.Equal(400 * 5.49 * 3 / 1000, result.BestTestedExpectedValue!.Value, 1e-9);
        var profit = Recommender().Recommend("t", "e", variants, "p1", new RecommendationRequest(Goal.Profit, 5m), "USD", sums);
        // Profit per user: (revenue − 5 × units) / users: 5.49 → 400 × 3 × 0.49 / 1000 = 0.588; 10.99 → 300 × 5.99 / 1000 = 1.797.
        Assert.Equal(10.99m, profit.BestTestedPrice);
        Assert.Equal(300 * 5.99 / 1000, profit.BestTestedExpectedValue!.Value, 1e-9);
    }
}
