using PricingOptimizer.Statistics;

namespace PricingOptimizer.Pricing.Demand;

/// <summary>
/// The stacking of the observed data (its weights and checks, as reported) and draws that carry both parameter and
/// model uncertainty: each draw resamples the users
/// within every tested price (a bootstrap: the buyers among n resampled users are Binomial(n, observed rate)), refits
/// the whole stack — the fold split, every family, the fit checks and the weights — and takes one of its families with
/// its weight. The same points, settings and seed give the same draws.
/// </summary>
public sealed class DemandPosterior
{
    private DemandPosterior(IReadOnlyList<ModelScore> models, IDemandCurve[] draws)
    {
        Models = models;
        Draws = draws;
    }

    /// <summary>Every family with its weight, held-out log-loss and fit check, from the observed data.</summary>
    public IReadOnlyList<ModelScore> Models { get; }

    public IReadOnlyList<IDemandCurve> Draws { get; }

    public static DemandPosterior Build(PricePoint[] points, IReadOnlyList<IDemandFamily> families, int folds, int draws, double fitLevel, int seed)
    {
        var (_, models) = Stacking.Fit(points, families, folds, fitLevel, new Random(seed));
        var curves = new IDemandCurve[draws];
        Parallel.For(0, draws, d =>
        {
            var random = new Random(unchecked((seed * 7919) + d + 1));
            var resampled = new PricePoint[points.Length];
            for (var i = 0; i < points.Length; i++)
            {
                resampled[i] = points[i] with { Conversions = CountSampling.Binomial(random, points[i].Users, points[i].Rate) };
            }

            curves[d] = Pick(Stacking.Fit(resampled, families, folds, fitLevel, random).Curve, random);
        });
        return new DemandPosterior(models, curves);
    }

    /// <summary>
    /// One family of the draw's stack, chosen with its weight: averaged over draws this is the weighted stack, and the
    /// spread between families (their disagreement where the data say little) stays in the draws instead of being
    /// averaged away.
    /// </summary>
    private static IDemandCurve Pick(StackedCurve stack, Random random) => WeightedChoice.Pick(stack.Parts, random);

    /// <summary>Each draw's conversion probability at <paramref name="price"/>.</summary>
    public double[] RatesAt(double price)
    {
        var rates = new double[Draws.Count];
        for (var d = 0; d < rates.Length; d++)
        {
            rates[d] = Draws[d].Rate(price);
        }

        return rates;
    }

    /// <summary>The mean over draws of the conversion probability at <paramref name="price"/>.</summary>
    public double MeanRate(double price)
    {
        var sum = 0.0;
        foreach (var draw in Draws)
        {
            sum += draw.Rate(price);
        }

        return sum / Draws.Count;
    }
}
