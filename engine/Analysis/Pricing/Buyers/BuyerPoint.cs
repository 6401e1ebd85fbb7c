using PricingOptimizer.Lake;

namespace PricingOptimizer.Pricing.Buyers;

/// <summary>
/// One tested price's buyers as the revenue-per-buyer families see them: how many bought, and the sum and sum of squares
/// of each buyer's goal value (revenue, or revenue − unit cost × units for profit). <see cref="Base"/> is the value of a
/// buyer who takes one unit at the price (the price, or price − unit cost): the families model the ratio of the mean to
/// it, the "units" a buyer brings, as a function of price.
/// </summary>
public readonly record struct BuyerPoint(double Price, long Buyers, double Sum, double SumSquares, double Base)
{
    /// <summary>Below this relative spread a price's buyers all paid the same (a sum of squares carries rounding, not spread).</summary>
    private const double SameValueTolerance = 1e-10;

    public double Mean => Buyers == 0 ? 0 : Sum / Buyers;

    /// <summary>The sample variance of a buyer's value (n − 1); 0 for fewer than two buyers or when they all paid the same.</summary>
    public double Variance
    {
        get
        {
            if (Buyers < 2)
            {
                return 0;
            }

            var variance = Math.Max(0, (SumSquares - (Sum * Sum / Buyers)) / (Buyers - 1));
            return variance <= SameValueTolerance * Math.Max(1e-300, Mean * Mean) ? 0 : variance;
        }
    }

    /// <summary>The mean value per buyer in units of <see cref="Base"/>.</summary>
    public double Units => Mean / Base;

    /// <summary>The per-price points of a goal, in price order; prices without buyers, or whose base is zero, are left out.</summary>
    public static BuyerPoint[] For(IEnumerable<BuyerSums> variants, Goal goal, decimal? unitCost)
    {
        var cost = goal == Goal.Profit ? (double)(unitCost ?? 0) : 0;
        return [.. variants.GroupBy(v => v.Price).OrderBy(g => g.Key)
            .Select(g =>
            {
                var price = (double)g.Key;
                var revenue = g.Sum(v => v.Revenue);
                var units = g.Sum(v => v.Units);
                var squares = g.Sum(v => v.RevenueSquares) - (2 * cost * g.Sum(v => v.RevenueUnits)) + (cost * cost * g.Sum(v => v.UnitsSquares));
                return new BuyerPoint(price, g.Sum(v => v.Buyers), revenue - (cost * units), Math.Max(0, squares), price - cost);
            })
            .Where(p => p.Buyers > 0 && Math.Abs(p.Base) > 1e-9 * Math.Max(1, Math.Abs(p.Price)))];
    }
}
