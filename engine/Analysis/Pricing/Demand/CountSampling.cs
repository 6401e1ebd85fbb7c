using MathNet.Numerics.Distributions;

namespace PricingOptimizer.Pricing.Demand;

/// <summary>
/// Binomial and hypergeometric draws for counts of any size. MathNet's samplers loop over every trial, which costs a
/// minute per recommendation at millions of users a price; above a variance of 100 the normal approximation (rounded,
/// clamped to the possible range) is used, whose error is far below the noise it stands for.
/// </summary>
public static class CountSampling
{
    private const double ExactBelowVariance = 100;

    public static long Binomial(Random random, long trials, double p)
    {
        var variance = trials * p * (1 - p);
        if (variance < ExactBelowVariance)
        {
            return MathNet.Numerics.Distributions.Binomial.Sample(random, p, checked((int)trials));
        }

        return Math.Clamp((long)Math.Round((trials * p) + (Math.Sqrt(variance) * Normal.Sample(random, 0, 1))), 0, trials);
    }

    /// <summary>Successes among <paramref name="draws"/> taken without replacement from <paramref name="population"/>
    /// holding <paramref name="successes"/>.</summary>
    public static long Hypergeometric(Random random, long population, long successes, long draws)
    {
        if (draws <= 0 || successes <= 0)
        {
            return 0;
        }

        if (draws >= population)
        {
            return successes;
        }

        var share = (double)successes / population;
        var variance = draws * share * (1 - share) * (population - draws) / Math.Max(1, population - 1);
        if (variance < ExactBelowVariance)
        {
            return MathNet.Numerics.Distributions.Hypergeometric.Sample(random, checked((int)population), checked((int)successes), checked((int)draws));
        }

        var low = Math.Max(0, draws - (population - successes));
        var high = Math.Min(draws, successes);
        return Math.Clamp((long)Math.Round((draws * share) + (Math.Sqrt(variance) * Normal.Sample(random, 0, 1))), low, high);
    }
}
