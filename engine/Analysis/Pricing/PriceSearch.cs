using PricingOptimizer.Pricing.Buyers;
using PricingOptimizer.Pricing.Demand;

namespace PricingOptimizer.Pricing;

/// <summary>
/// The goal value over the posterior draws: per draw, P(buy | p) from the demand draw times what a buyer is worth at p
/// from the revenue-per-buyer draw (revenue, or profit; conversions need neither). Per-draw values at a price, their
/// mean (the value the recommendation maximises: the Bayes choice under the draws), the optimum on whole cents,
/// intervals and the probability that one price beats another.
/// </summary>
/// <param name="posterior">The demand draws.</param>
/// <param name="request">The goal and its floors.</param>
/// <param name="buyers">The goal's value per buyer (revenue or profit); null for the conversions goal.</param>
/// <param name="revenue">Revenue per buyer, for the revenue floor; null without one.</param>
internal sealed class PriceSearch(DemandPosterior posterior, RecommendationRequest request, BuyerValuePosterior? buyers, BuyerValuePosterior? revenue)
{
    /// <summary>Coarse points before the search narrows to whole cents around the best of them.</summary>
    private const int CoarseSteps = 400;

    public double[] Values(decimal price) => Values(buyers, (double)price);

    private double[] Values(BuyerValuePosterior? perBuyer, double p)
    {
        var rates = posterior.RatesAt(p);
        if (perBuyer is not null)
        {
            for (var d = 0; d < rates.Length; d++)
            {
                rates[d] *= perBuyer.ValueAt(d, p);
            }
        }

        return rates;
    }

    public double Mean(decimal price) => Values(price).Average();

    /// <summary>The expected revenue per assigned user at a price (rate × revenue per buyer), for the revenue floor.</summary>
    public double RevenuePerUser(decimal price) => revenue is null ? (double)price * posterior.MeanRate((double)price) : Values(revenue,
        (double)price).Average();

    /// <summary>
    /// Per-user variance of the goal value at a price under the mean curves: a buyer brings a value with the mean the
    /// curves expect and the observed spread between buyers (pooled relative variance), a non-buyer nothing.
    /// </summary>
    public double Variance(decimal price)
    {
        var rate = posterior.MeanRate((double)price);
        if (buyers is null)
        {
            return rate * (1 - rate);
        }

        var mean = buyers.MeanValue((double)price);
        var second = mean * mean * (1 + buyers.RelativeVariance);
        return (rate * second) - (rate * rate * mean * mean);
    }

    /// <summary>d ln(rate) / d ln(price) of the mean curve at <paramref name="price"/>, numerically.</summary>
    public double Elasticity(double price)
    {
        const double h = 1e-3;
        var up = Math.Max(1e-12, posterior.MeanRate(price * (1 + h)));
        var down = Math.Max(1e-12, posterior.MeanRate(price * (1 - h)));
        return (Math.Log(up) - Math.Log(down)) / (Math.Log(1 + h) - Math.Log(1 - h));
    }

    /// <summary>Whether the price keeps the expected revenue per user at or above the revenue floor (always, without one).</summary>
    public bool Feasible(decimal price) => request.RevenueFloor is not { } floor || RevenuePerUser(price) >= (double)floor;

    /// <summary>The feasible whole-cent price in [<paramref name="low"/>, <paramref name="high"/>] with the highest
    /// mean value; null when none is feasible.</summary>
    public decimal? Optimum(decimal low, decimal high)
    {
        var cents = (long)Math.Round((high - low) * 100);
        var step = Math.Max(1, (long)Math.Ceiling(cents / (double)CoarseSteps));
        var best = Best(low, high, Enumerable.Range(0, (int)(cents / step) + 1).Select(i => i * step).Append(cents));
        if (best is not { } coarse || step == 1)
        {
            return best;
        }

        var around = (long)Math.Round((coarse - low) * 100);
        return Best(low, high, Enumerable.Range(0, (int)(2 * step) + 1).Select(i => around - step + i).Where(c => c >= 0 && c <= cents).Append(around));
    }

    private decimal? Best(decimal low, decimal high, IEnumerable<long> offsets)
    {
        decimal? best = null;
        var value = double.NegativeInfinity;
        foreach (var offset in offsets.Distinct())
        {
            var price = Math.Min(high, low + (offset / 100m));
            if (!Feasible(price))
            {
                continue;
            }

            var mean = Mean(price);
            if (mean > value)
            {
                (best, value) = (price, mean);
            }
        }

        return best;
    }

    /// <summary>Share of draws in which <paramref name="a"/> beats <paramref name="b"/>; ties count half.</summary>
    public static double ChanceToBeat(double[] a, double[] b)
    {
        var wins = 0.0;
        for (var d = 0; d < a.Length; d++)
        {
            wins += a[d] > b[d] ? 1 : a[d] == b[d] ? 0.5 : 0;
        }

        return wins / a.Length;
    }

    public static double Quantile(double[] values, double q)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return MathNet.Numerics.Statistics.SortedArrayStatistics.Quantile(sorted, q);
    }
}
