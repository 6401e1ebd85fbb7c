using PricingOptimizer.Lake;

namespace PricingOptimizer.Pricing.Demand;

/// <summary>
/// The sufficient statistics of one tested price for a price-only demand curve: users shown it and how many of them
/// bought. Users at one price are exchangeable for these curves, so this is all the data the families see.
/// </summary>
public readonly record struct PricePoint(double Price, long Users, long Conversions)
{
    public double Rate => Users == 0 ? 0 : (double)Conversions / Users;

    /// <summary>Per-variant statistics merged by price (two variants may show one price), in price order.</summary>
    public static PricePoint[] From(IEnumerable<VariantStats> variants) =>
        [.. variants.Where(v => v.Users > 0).GroupBy(v => v.Price).OrderBy(g => g.Key)
            .Select(g => new PricePoint((double)g.Key, g.Sum(v => v.Users), g.Sum(v => v.Conversions)))];

    /// <summary>Binomial log-likelihood of <paramref name="points"/> under rates <paramref name="rate"/>, rates clamped away from 0 and 1.</summary>
    public static double LogLikelihood(ReadOnlySpan<PricePoint> points, Func<double, double> rate)
    {
        var sum = 0.0;
        foreach (var point in points)
        {
            var r = Math.Clamp(rate(point.Price), 1e-12, 1 - 1e-12);
            sum += (point.Conversions * Math.Log(r)) + ((point.Users - point.Conversions) * Math.Log(1 - r));
        }

        return sum;
    }

    /// <summary>
    /// The deviance G² of <paramref name="rate"/> against the saturated model (each price its own observed rate):
    /// chi-square with (prices − parameters) degrees of freedom when the curve is right.
    /// </summary>
    public static double Deviance(ReadOnlySpan<PricePoint> points, Func<double, double> rate)
    {
        var sum = 0.0;
        foreach (var point in points)
        {
            var r = Math.Clamp(rate(point.Price), 1e-12, 1 - 1e-12);
            var bought = (double)point.Conversions;
            var left = (double)(point.Users - point.Conversions);
            sum += (bought > 0 ? bought * Math.Log(bought / (point.Users * r)) : 0) + (left > 0 ? left * Math.Log(left / (point.Users * (1 - r))) : 0);
        }

        return 2 * sum;
    }
}
