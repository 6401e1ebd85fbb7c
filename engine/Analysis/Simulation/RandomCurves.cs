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

    /// <summary>
    /// <paramref name="curves"/> random curves from <paramref name="seed"/>, each as a revenue and a profit backtest; with
    /// <paramref name="randomUnits"/>, each curve's buyers also pay a random basket (<see cref="Units"/>, drawn from a stream
    /// of its own, so the curves are the same with and without).
    /// </summary>
    public static IEnumerable<BacktestSettings> Settings(int curves, int seed, int runs, int usersPerPrice, bool randomUnits = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(curves, 1);
        var random = new Random(seed);
        var baskets = new Random(unchecked((seed * 7919) + 3));
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
            var units = randomUnits ? Units(baskets, (double)prices[Prices / 2]) : null;
            foreach (var goal in new[] { Goal.Revenue, Goal.Profit })
            {
                yield return new BacktestSettings(shape, prices, usersPerPrice, BacktestSuite.Request(goal, prices), runs, seed, Prices / 2, units);
            }
        }
    }

    /// <summary>
    /// What a random curve's buyers pay: one unit (a quarter of curves), extra units falling or rising with price, renewals
    /// whose rate falls with price, or heavy-tailed baskets; <paramref name="reference"/> is the current price.
    /// </summary>
    public static BuyerShape Units(Random random, double reference)
    {
        double Between(double low, double high, int digits) => Math.Round(low + (random.NextDouble() * (high - low)), digits);
        var at = Math.Round(reference, 2);
        return random.Next(4) switch
        {
            0 => BuyerShape.One,
            1 => BuyerShape.Create("extra", Between(0.2, 2, 2), Between(-2.5, 2, 2), at, random.Next(2) == 0 ? 0 : Between(0.2, 0.8, 2)),
            2 => BuyerShape.Create("repeat", Between(0.2, 0.8, 2), Between(-2.5, 0.5, 2), at, random.Next(1, 13), 0),
            _ => BuyerShape.Create("extra", Between(0.2, 1.5, 2), Between(-2, 1, 2), at, Between(0.9, 1.5, 2)),
        };
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
