using PricingOptimizer.Pricing;

namespace PricingOptimizer.Simulation;

/// <summary>
/// The simulation suite of the recommendation: demand curves of eight shapes — logistic in price and in log price,
/// willingness-to-pay distributions (lognormal and Weibull, with a reach below 1), exponential, linear, and a mixture
/// of two customer segments — each with five test prices as a pricing team would pick them around its current price
/// (the true optimum falls between tested prices), for the revenue and the profit goal (unit cost: half the lowest
/// tested price). <c>po backtest --suite</c> prints its table; the tests run a fixed-seed subset.
/// </summary>
public static class BacktestSuite
{
    public const int UsersPerPrice = 5000;

    public static IReadOnlyList<(string Curve, decimal[] Prices, int Control)> Shapes { get; } =
    [
        ("logit:a=0.2,b=-0.12", [7.99m, 9.99m, 11.99m, 13.99m, 15.99m], 0),
        ("logit:a=-1,b=-0.05", [15m, 20m, 25m, 30m, 35m], 1),
        ("logit-log:a=3,b=-1.8", [4m, 5m, 6.5m, 7.5m, 9m], 1),
        ("lognormal:median=20,sigma=0.6,reach=0.4", [10m, 14m, 18m, 22m, 26m], 2),
        ("weibull:scale=25,shape=2.5,reach=0.3", [8m, 12m, 16m, 20m, 24m], 1),
        ("exponential:reach=0.5,scale=12", [6m, 9m, 13.5m, 16m, 19m], 1),
        ("linear:reach=0.4,choke=40", [12m, 16m, 22m, 26m, 30m], 0),
        ("segments:share=0.6,median1=10,sigma1=0.25,median2=30,sigma2=0.3,reach=0.35", [8m, 12m, 18m, 24m, 30m], 1),
    ];

    /// <summary>Every (shape, goal) of the suite as backtest settings.</summary>
    public static IEnumerable<BacktestSettings> Settings(int runs, int seed = 1)
    {
        foreach (var goal in new[] { Goal.Revenue, Goal.Profit })
        {
            foreach (var (curve, prices, control) in Shapes)
            {
                var request = new RecommendationRequest(goal, goal == Goal.Profit ? Math.Round(prices[0] / 2, 2) : null);
                yield return new BacktestSettings(DemandShape.Parse(curve), prices, UsersPerPrice, request, runs, seed, control);
            }
        }
    }
}
