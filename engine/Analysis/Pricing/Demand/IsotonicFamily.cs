using PricingOptimizer.Statistics;

namespace PricingOptimizer.Pricing.Demand;

/// <summary>
/// The shape-free curve: the non-increasing rates closest to the observed ones (pool-adjacent-violators, weighted by
/// users), joined by straight lines between tested prices and flat beyond them. It assumes only that a higher price
/// never sells more, so it cannot be wrong in shape; it pays for that with noise, which the stacking weighs.
/// </summary>
public sealed class IsotonicFamily : IDemandFamily
{
    public const string FamilyName = "isotonic";

    public string Name => FamilyName;

    /// <summary>As many free rates as prices: the goodness-of-fit check has nothing to test it against.</summary>
    public int Parameters => int.MaxValue;

    public string Description => "a shape-free non-increasing curve through the tested prices";

    public IDemandCurve? Fit(ReadOnlySpan<PricePoint> points)
    {
        if (points.Length == 0)
        {
            return null;
        }

        // Blocks of (weighted rate, weight, count of prices), merged while a higher price sells more. Half a buyer and
        // half a non-buyer of prior keep a price with no buyers from predicting certainty.
        var observed = new (double, double)[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            observed[i] = ((points[i].Conversions + 0.5) / (points[i].Users + 1.0), points[i].Users + 1.0);
        }

        var blocks = PoolAdjacentViolators.NonIncreasing(observed);
        var rates = blocks.Select(b => b.Level).ToList();
        var sizes = blocks.Select(b => b.Size).ToList();

        // Each pooled block becomes one knot at its users-weighted mean price, so a pooled block is not a flat step
        // (a flat rate makes revenue climb to the block's right end and pins the optimum there).
        var knotPrices = new double[rates.Count];
        var index = 0;
        for (var block = 0; block < rates.Count; block++)
        {
            double weighted = 0, users = 0;
            for (var j = 0; j < sizes[block]; j++, index++)
            {
                weighted += points[index].Price * (points[index].Users + 1.0);
                users += points[index].Users + 1.0;
            }

            knotPrices[block] = weighted / users;
        }

        return new Curve(knotPrices, [.. rates]);
    }

    /// <summary>
    /// Monotone piecewise-cubic (Fritsch–Carlson) interpolation through the knots, flat beyond them: smooth, so the
    /// goal value has no kink at a tested price, and never rising where the knots fall.
    /// </summary>
    private sealed class Curve : IDemandCurve
    {
        private readonly double[] prices;
        private readonly double[] rates;
        private readonly double[] slopes;

        public Curve(double[] prices, double[] rates)
        {
            this.prices = prices;
            this.rates = rates;
            var n = prices.Length;
            slopes = new double[n];
            if (n < 2)
            {
                return;
            }

            var secants = new double[n - 1];
            for (var k = 0; k < n - 1; k++)
            {
                secants[k] = (rates[k + 1] - rates[k]) / (prices[k + 1] - prices[k]);
            }

            slopes[0] = secants[0];
            slopes[n - 1] = secants[n - 2];
            for (var k = 1; k < n - 1; k++)
            {
                // Weighted harmonic mean of the neighbouring secants; zero at a flat stretch keeps the curve monotone.
                if (secants[k - 1] * secants[k] <= 0)
                {
                    slopes[k] = 0;
                    continue;
                }

                var h0 = prices[k] - prices[k - 1];
                var h1 = prices[k + 1] - prices[k];
                var w0 = (2 * h1) + h0;
                var w1 = h1 + (2 * h0);
                slopes[k] = (w0 + w1) / ((w0 / secants[k - 1]) + (w1 / secants[k]));
            }
        }

        public double Rate(double price)
        {
            if (price <= prices[0])
            {
                return rates[0];
            }

            if (price >= prices[^1])
            {
                return rates[^1];
            }

            var upper = Array.BinarySearch(prices, price);
            if (upper >= 0)
            {
                return rates[upper];
            }

            upper = ~upper;
            var k = upper - 1;
            var h = prices[upper] - prices[k];
            var t = (price - prices[k]) / h;
            var t2 = t * t;
            var t3 = t2 * t;
            return Math.Clamp(((2 * t3) - (3 * t2) + 1) * rates[k] + ((t3 - (2 * t2) + t) * h * slopes[k])
                + ((-2 * t3) + (3 * t2)) * rates[upper] + ((t3 - t2) * h * slopes[upper]), 0, 1);
        }
    }
}
