using MathNet.Numerics.Distributions;

namespace PricingOptimizer.Statistics;

/// <summary>
/// A variant against the control on a per-user mean (revenue, profit) under normal posteriors: each mean ~ N(ȳ, s²/n)
/// (flat prior, large samples), so their difference D = μ_v − μ_c is normal; P(D &gt; 0) is the chance to beat the
/// control and E[max(−D, 0)] the expected loss of choosing the variant.
/// </summary>
public static class NormalComparison
{
    /// <returns>Null when a side has fewer than two users or both variances are zero.</returns>
    public static (double Chance, double ExpectedLoss)? Compare(double meanV, double varianceV, long usersV, double meanC, double varianceC, long usersC)
    {
        if (usersV < 2 || usersC < 2)
        {
            return null;
        }

        var d = meanV - meanC;
        var sd = Math.Sqrt((varianceV / usersV) + (varianceC / usersC));
        if (!(sd > 0))
        {
            return d == 0 ? (0.5, 0) : (d > 0 ? 1 : 0, Math.Max(-d, 0));
        }

        var z = d / sd;
        return (Normal.CDF(0, 1, z), (sd * Normal.PDF(0, 1, z)) - (d * Normal.CDF(0, 1, -z)));
    }
}
