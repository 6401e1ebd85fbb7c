using PricingOptimizer.Pricing;

namespace PricingOptimizer.Simulation;

/// <summary>
/// Demand curves nobody tuned the recommendation to: each drawn at random (seeded) from the seven named shapes, with
/// random parameters — conversion rates from a few percent to most users, gentle to steep curves, two customer segments
/// near or far apart — and tested as a team would: five prices stepping 10–25% around a current price that lies
/// anywhere from 0.6 to 1.5 times the curve's revenue optimum (so the optimum may sit between tested prices, on one, or
/// beyond the range). Each curve is backtested for revenue and for profit (unit cost half the lowest tested price), with
/// the current price as control. <c>po backtest --random-curves N</c> prints their table.
/// </summary>
public static class RandomCurves
{
    private const int Prices = 5;

    /// <summary><paramref name="curves"/> random curves from <paramref name="seed"/>, each as a revenue and a profit backtest.</summary>
    public static IEnumerable<BacktestSettings> Settings(int curves, int seed, int runs, int usersPerPrice)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(curves, 1);
        var random = new Random(seed);
        for (var made = 0; made < curves;)
        {
            var shape = Shape(random, out var scale);
            var optimum = shape.Optimum(scale * 0.05, scale * 10, (p, r) => p * r).Price;
            var current = optimum * (0.6 + (random.NextDouble() * 0.9));
            var step = 0.10 + (random.NextDouble() * 0.15);
            var prices = Enumerable.Range(-(Prices / 2), Prices).Select(i => Math.Round((decimal)(current * (1 + (step * i))), 2)).ToArray();
            if (prices[0] < 0.5m)
            {
                continue;
            }

            made++;
            foreach (var goal in new[] { Goal.Revenue, Goal.Profit })
            {
                var request = new RecommendationRequest(goal, goal == Goal.Profit ? Math.Round(prices[0] / 2, 2) : null);
                yield return new BacktestSettings(shape, prices, usersPerPrice, request, runs, seed, ControlIndex: Prices / 2);
            }
        }
    }

    /// <summary>A random named shape, parameters rounded so that its printed spec reproduces it; <paramref name="scale"/> is its price scale.</summary>
    private static DemandShape Shape(Random random, out double scale)
    {
        double Between(double low, double high, int digits) => Math.Round(low + (random.NextDouble() * (high - low)), digits);
        var s = Between(5, 80, 1);
        scale = s;
        return random.Next(7) switch
        {
            // Logistic in price: the slope sets how fast buyers leave; the intercept puts the revenue optimum near the scale.
            0 => Logit(Between(0.3, 3, 2) / s, Between(0.5, 1.5, 2)),
            1 => LogitLog(Between(1.3, 4, 2), Between(0, 3, 2)),
            2 => DemandShape.Create("lognormal", s, Between(0.25, 1.2, 2), Between(0.05, 0.8, 2)),
            3 => DemandShape.Create("weibull", s, Between(1.2, 4, 2), Between(0.05, 0.8, 2)),
            4 => DemandShape.Create("exponential", Between(0.1, 0.9, 2), Math.Round(s / 2, 2)),
            5 => DemandShape.Create("linear", Between(0.1, 0.8, 2), Math.Round(s * 2, 1)),
            _ => DemandShape.Create("segments", Between(0.2, 0.8, 2), Math.Round(s / 2, 2), Between(0.15, 0.5, 2), Math.Round(s * Between(1.3, 2.5, 2), 2),
                Between(0.15, 0.5, 2), Between(0.1, 0.6, 2)),
        };

        DemandShape Logit(double slope, double position) =>
            DemandShape.Create("logit", Math.Round((slope * s * position) - 1, 3), -Math.Round(slope, 4));

        // Logistic in log price: a slope steeper than 1 (else revenue only grows with price), centred below the scale.
        DemandShape LogitLog(double slope, double below) => DemandShape.Create("logit-log", Math.Round((slope * Math.Log(s)) - below, 3), -slope);
    }
}
