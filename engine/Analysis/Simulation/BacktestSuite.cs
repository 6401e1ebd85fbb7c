using PricingOptimizer.Pricing;

namespace PricingOptimizer.Simulation;

/// <summary>
/// The simulation suite of the recommendation: demand curves of eight shapes where every buyer pays the price once, and
/// four where what a buyer pays depends on the price (<see cref="BasketShapes"/>: units falling with price, units rising
/// with price, renewals whose rate falls with price, heavy-tailed baskets); in all, demand curves of eight shapes — logistic in price and in log price,
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

    /// <summary>Curves whose buyers pay more than the price once, and how that depends on the price.</summary>
    public static IReadOnlyList<(string Curve, string Units, decimal[] Prices, int Control)> BasketShapes { get; } =
    [
        // Units fall with price: shoppers stock up when it is cheap.
        ("logit:a=0.2,b=-0.12", "extra:mean=0.5,elasticity=-1,ref=10", [5.49m, 6.49m, 7.99m, 9.49m, 10.99m], 2),
        // Units rise with price: the buyers who stay at a higher price are the ones who buy bundles.
        ("lognormal:median=20,sigma=0.6,reach=0.4", "extra:mean=0.3,elasticity=1.5,ref=18", [12m, 16m, 20m, 24m, 28m], 1),
        // Renewals: up to six more purchases, each less likely the higher the price.
        ("weibull:scale=25,shape=2.5,reach=0.3", "repeat:rate=0.5,elasticity=-0.4,ref=16,periods=6", [8m, 11m, 14m, 17m, 20m], 1),
        // Heavy-tailed baskets: extra units falling with price, and add-ons spreading basket values (log-sd 1.2).
        ("exponential:reach=0.5,scale=12", "extra:mean=0.5,elasticity=-0.5,ref=12,spread=1.2", [6m, 8m, 10m, 12m, 14m], 1),
    ];

    /// <summary>Every (shape, goal) of the suite as backtest settings: the one-unit shapes, then the basket shapes.</summary>
    public static IEnumerable<BacktestSettings> Settings(int runs, int seed = 1)
    {
        foreach (var goal in new[] { Goal.Revenue, Goal.Profit })
        {
            foreach (var (curve, prices, control) in Shapes)
            {
                yield return new BacktestSettings(DemandShape.Parse(curve), prices, UsersPerPrice, Request(goal, prices), runs, seed, control);
            }
        }

        foreach (var goal in new[] { Goal.Revenue, Goal.Profit })
        {
            foreach (var (curve, units, prices, control) in BasketShapes)
            {
                yield return new BacktestSettings(DemandShape.Parse(curve), prices, UsersPerPrice, Request(goal, prices), runs, seed, control,
                    BuyerShape.Parse(units));
            }
        }
    }

    /// <summary>The suite's request for a goal: profit at a unit cost of half the lowest tested price.</summary>
    internal static RecommendationRequest Request(Goal goal, decimal[] prices) =>
        new(goal, goal == Goal.Profit ? Math.Round(prices[0] / 2, 2) : null);
}
