using MathNet.Numerics.Distributions;

namespace PricingOptimizer.Statistics;

/// <summary>Sample sizes: a two-proportion z-test (the textbook formula without continuity correction), and a z-test on two means.</summary>
public static class Power
{
    /// <summary>
    /// Users per variant to detect a change from <paramref name="baselineRate"/> to <paramref name="targetRate"/> with a
    /// two-sided test at level <paramref name="alpha"/> and power <paramref name="power"/>; with more than two variants the
    /// level is split across the comparisons with the control (Bonferroni).
    /// </summary>
    public static long UsersPerVariant(double baselineRate, double targetRate, double alpha = 0.05, double power = 0.8, int variants = 2)
    {
        if (baselineRate is <= 0 or >= 1 || targetRate is <= 0 or >= 1 || baselineRate == targetRate)
        {
            throw new ArgumentOutOfRangeException(nameof(targetRate), "rates must be strictly between 0 and 1 and differ");
        }

        if (alpha is <= 0 or >= 1 || power is <= 0 or >= 1 || variants < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), "alpha and power must be in (0, 1); variants at least 2");
        }

        var level = alpha / (variants - 1);
        var zAlpha = Normal.InvCDF(0, 1, 1 - (level / 2));
        var zBeta = Normal.InvCDF(0, 1, power);
        var mean = (baselineRate + targetRate) / 2;
        var numerator = (zAlpha * Math.Sqrt(2 * mean * (1 - mean)))
            + (zBeta * Math.Sqrt((baselineRate * (1 - baselineRate)) + (targetRate * (1 - targetRate))));
        return (long)Math.Ceiling(numerator * numerator / ((targetRate - baselineRate) * (targetRate - baselineRate)));
    }

    /// <summary>
    /// Users per group to detect a difference <paramref name="difference"/> between two means whose per-user variances
    /// are <paramref name="varianceA"/> and <paramref name="varianceB"/>: n = (z₁₋α/₂ + z_power)² (σ²_A + σ²_B) / Δ².
    /// Revenue per user at two prices is such a pair of means.
    /// </summary>
    public static long UsersPerGroupForMeans(double difference, double varianceA, double varianceB, double alpha = 0.05, double power = 0.8)
    {
        if (!(Math.Abs(difference) > 0) || !double.IsFinite(difference))
        {
            throw new ArgumentOutOfRangeException(nameof(difference), "the difference to detect must be a non-zero number");
        }

        if (!(varianceA >= 0) || !(varianceB >= 0) || !(varianceA + varianceB > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(varianceA), "variances must be non-negative and not both zero");
        }

        if (alpha is <= 0 or >= 1 || power is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), "alpha and power must be in (0, 1)");
        }

        var z = Normal.InvCDF(0, 1, 1 - (alpha / 2)) + Normal.InvCDF(0, 1, power);
        return (long)Math.Ceiling(z * z * (varianceA + varianceB) / (difference * difference));
    }

    /// <summary>
    /// Users per variant to detect a relative change <paramref name="relativeChange"/> in a mean such as revenue per user,
    /// from a baseline <paramref name="mean"/> with per-user <paramref name="variance"/> in both arms, the level split
    /// across the comparisons with the control (Bonferroni) as for rates. CUPED removes <paramref name="varianceReduction"/>
    /// of the variance (the readout's <c>cuped_variance_reduction</c>), and the users needed shrink by the same share.
    /// </summary>
    public static long UsersPerVariantForMean(double mean, double variance, double relativeChange, double alpha = 0.05, double power = 0.8, int variants = 2,
        double varianceReduction = 0)
    {
        if (!(mean > 0) || !double.IsFinite(mean))
        {
            throw new ArgumentOutOfRangeException(nameof(mean), "the baseline mean must be positive");
        }

        if (variants < 2 || varianceReduction is < 0 or >= 1 || double.IsNaN(varianceReduction))
        {
            throw new ArgumentOutOfRangeException(nameof(variants), "variants at least 2; the variance reduction in [0, 1)");
        }

        var remaining = variance * (1 - varianceReduction);
        return UsersPerGroupForMeans(mean * relativeChange, remaining, remaining, alpha / (variants - 1), power);
    }
}
