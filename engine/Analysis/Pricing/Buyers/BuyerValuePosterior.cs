using MathNet.Numerics.Distributions;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Pricing.Buyers;

/// <summary>
/// What a buyer is worth as a function of price — revenue per buyer, or profit per buyer — with draws that carry the
/// uncertainty of the per-price means and of the choice of family: each draw resamples every tested price's mean value
/// per buyer from its sampling distribution (normal, with the observed variance), refits the whole stack (folds, every
/// family, the fit checks, the weights) and takes one family with its weight. Prices where every buyer paid the same
/// are not resampled, so a test in which each buyer pays the price once gives exactly one unit per buyer in every draw.
/// </summary>
public sealed class BuyerValuePosterior
{
    private readonly IUnitsCurve[] draws;
    private readonly double cost;

    private BuyerValuePosterior(IReadOnlyList<BuyerModelScore> models, IUnitsCurve[] draws, double cost, double relativeVariance)
    {
        Models = models;
        this.draws = draws;
        this.cost = cost;
        RelativeVariance = relativeVariance;
    }

    /// <summary>Every family with its weight, held-out error and fit check, from the observed buyers.</summary>
    public IReadOnlyList<BuyerModelScore> Models { get; }

    public int Count => draws.Length;

    /// <summary>The pooled variance of a buyer's value relative to its mean squared (0 when every buyer paid the same).</summary>
    public double RelativeVariance { get; }

    /// <param name="points">The goal's per-price buyer points (<see cref="BuyerPoint.For"/>), at least one.</param>
    /// <param name="cost">What one unit costs (0 for revenue): a buyer's value at price p is (p − cost) × units.</param>
    /// <param name="families">The revenue-per-buyer families to stack.</param>
    /// <param name="folds">Folds of the held-out split.</param>
    /// <param name="draws">How many draws (the demand posterior's count, so draws pair up).</param>
    /// <param name="fitLevel">A family whose fit check has a p-value below this is dropped.</param>
    /// <param name="seed">Seed of the folds and draws.</param>
    public static BuyerValuePosterior Build(BuyerPoint[] points, double cost, IReadOnlyList<IBuyerValueFamily> families, int folds, int draws,
        double fitLevel, int seed)
    {
        if (points.Length == 0)
        {
            throw new ArgumentException("no tested price has buyers", nameof(points));
        }

        var (_, models) = BuyerValueStacking.Fit(points, families, folds, fitLevel, new Random(seed ^ 0x5bd1e995));
        var variances = BuyerVariances.Of(points);
        var curves = new IUnitsCurve[draws];
        Parallel.For(0, draws, d =>
        {
            var random = new Random(unchecked((seed * 104729) + (31 * d) + 17));
            var resampled = new BuyerPoint[points.Length];
            for (var i = 0; i < points.Length; i++)
            {
                var p = points[i];
                var mean = variances[i] > 0 ? p.Mean + (Math.Sqrt(variances[i] / p.Buyers) * Normal.Sample(random, 0, 1)) : p.Mean;
                resampled[i] = p with { Sum = mean * p.Buyers, SumSquares = ((p.Buyers - 1) * variances[i]) + (p.Buyers * mean * mean) };
            }

            curves[d] = WeightedChoice.Pick(BuyerValueStacking.Fit(resampled, families, folds, fitLevel, random).Parts, random);
        });
        return new BuyerValuePosterior(models, curves, cost, BuyerVariances.PooledRelative(points));
    }

    /// <summary>Draw <paramref name="draw"/>'s value of a buyer at <paramref name="price"/>.</summary>
    public double ValueAt(int draw, double price) => (price - cost) * draws[draw].Units(price);

    /// <summary>The mean over draws of a buyer's value at <paramref name="price"/>.</summary>
    public double MeanValue(double price)
    {
        var sum = 0.0;
        for (var d = 0; d < draws.Length; d++)
        {
            sum += draws[d].Units(price);
        }

        return (price - cost) * sum / draws.Length;
    }
}
