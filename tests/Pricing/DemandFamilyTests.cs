using MathNet.Numerics.Distributions;
using PricingOptimizer.Pricing.Demand;
using PricingOptimizer.Simulation;

namespace PricingOptimizer.Tests.Pricing;

public sealed class DemandFamilyTests
{
    private static readonly double[] Prices = [6, 9, 12, 15, 18];

    /// <summary>Counts that follow a curve exactly (a million users a price, buyers rounded), so a right family must recover it.</summary>
    private static PricePoint[] Exact(Func<double, double> rate) =>
        [.. Prices.Select(p => new PricePoint(p, 1_000_000, (long)Math.Round(1_000_000 * rate(p))))];

    [Theory]
    [InlineData("logit-price", "logit:a=0.5,b=-0.15")]
    [InlineData("logit-log-price", "logit-log:a=3,b=-1.8")]
    [InlineData("reach-lognormal-wtp", "lognormal:median=12,sigma=0.5,reach=0.4")]
    [InlineData("reach-weibull-wtp", "weibull:scale=14,shape=2,reach=0.3")]
    [InlineData("exponential", "exponential:reach=0.5,scale=10")]
    [InlineData("linear", "linear:reach=0.4,choke=30")]
    public void A_family_recovers_a_curve_of_its_own_shape_and_passes_its_fit_check(string family, string curve)
    {
        var truth = DemandShape.Parse(curve);
        var points = Exact(truth.Rate);
        var fitted = DemandFamilies.Default.Single(f => f.Name == family);
        var fit = fitted.Fit(points);
        Assert.NotNull(fit);
        foreach (var price in new[] { 6.0, 7.5, 10.0, 13.3, 18.0 })
        {
            Assert.Equal(truth.Rate(price), fit!.Rate(price), 3);
        }

        Assert.True(Stacking.FitsData(points, fit!, fitted.Parameters, 0.01));
    }

    [Fact]
    public void A_family_of_the_wrong_shape_fails_its_fit_check_on_plentiful_data()
    {
        var points = Exact(DemandShape.Parse("segments:share=0.6,median1=8,sigma1=0.2,median2=16,sigma2=0.2,reach=0.4").Rate);
        var linear = DemandFamilies.Default.Single(f => f.Name == "linear");
        Assert.False(Stacking.FitsData(points, linear.Fit(points)!, linear.Parameters, 0.01));
    }

    [Fact]
    public void The_shape_free_curve_never_rises_with_price_and_pools_prices_that_sell_more_at_a_higher_price()
    {
        PricePoint[] points = [new(5, 1000, 400), new(6, 1000, 300), new(7, 1000, 320), new(8, 1000, 200)];
        var curve = new IsotonicFamily().Fit(points)!;
        var previous = double.MaxValue;
        for (var price = 4.0; price <= 9; price += 0.01)
        {
            var rate = curve.Rate(price);
            Assert.True(rate <= previous + 1e-12, $"rises at {price}");
            previous = rate;
        }

        // 6 and 7 pooled: (300.5 + 320.5) / 2002 at their mean price.
        Assert.Equal(621.0 / 2002, curve.Rate(6.5), 9);
        Assert.Equal(400.5 / 1001, curve.Rate(5), 9);
    }

    [Fact]
    public void Stacking_weights_sum_to_one_and_favour_the_family_that_predicts_held_out_users()
    {
        var truth = DemandShape.Parse("exponential:reach=0.5,scale=10");
        var points = Exact(truth.Rate);
        var (curve, scores) = Stacking.Fit(points, DemandFamilies.Default, 5, 0.01, new Random(1));
        Assert.Equal(1, scores.Sum(s => s.Weight), 9);
        Assert.True(scores.Where(s => !s.FitsData).All(s => s.Weight == 0));
        var exponential = scores.Single(s => s.Name == "exponential");
        Assert.True(exponential.FitsData);
        Assert.Equal(scores.Where(s => s.HeldOutLogLoss is not null).Min(s => s.HeldOutLogLoss!.Value), exponential.HeldOutLogLoss!.Value, 4);
        Assert.Equal(truth.Rate(11), curve.Rate(11), 3);
    }

    [Fact]
    public void Draws_for_millions_of_users_have_the_binomial_mean_and_spread()
    {
        // 2,000 draws of Binomial(3,000,000, 0.2): mean 600,000, sd 692.8; the normal shortcut must keep both.
        var random = new Random(3);
        var draws = Enumerable.Range(0, 2000).Select(_ => (double)CountSampling.Binomial(random, 3_000_000, 0.2)).ToArray();
        Assert.InRange(draws.Average(), 600_000 - 4 * 692.8 / Math.Sqrt(2000), 600_000 + 4 * 692.8 / Math.Sqrt(2000));
        Assert.InRange(MathNet.Numerics.Statistics.Statistics.StandardDeviation(draws), 692.8 * 0.93, 692.8 * 1.07);
        var small = Enumerable.Range(0, 2000).Select(_ => (double)CountSampling.Binomial(random, 40, 0.1)).ToArray();
        Assert.InRange(small.Average(), 4 - 0.3, 4 + 0.3);
        Assert.All(small, d => Assert.InRange(d, 0, 40));
        Assert.InRange(Binomial.CDF(0.1, 40, small.Max()), 0.99, 1);
    }
}
