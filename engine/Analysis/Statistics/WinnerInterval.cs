using MathNet.Numerics.Distributions;
using System.Text.Json.Serialization;

namespace PricingOptimizer.Statistics;

/// <summary>
/// A confidence interval for the difference between the variant that looked best and the control, corrected for
/// having picked it because it looked best (the winner's curse). The variant with the highest estimate is, among
/// near-tied variants, mostly the one whose noise was highest, so its ordinary interval against the control covers
/// less than it says; the more near-ties, the less.
/// <para>
/// The method is the hybrid interval of Andrews, Kitagawa and McCloskey ("Inference on Winners", QJE 2024), for
/// independent, normal estimates: given the winner, and given the part of every other estimate that is independent of
/// the difference D = Y_winner − Y_control, picking the winner means only that D lies above a bound V (each rival
/// below the winner, the control included), so D is normal about the true difference, cut below at V. The interval
/// inverts that cut normal at level (α − β)/(1 − β), also cut at the projection interval D ± c·sd (c covering all
/// K − 1 differences at once with probability 1 − β, by Bonferroni), and is intersected with that projection
/// interval: with β = α/10 it is close to the ordinary interval when the winner is clear, and never wider than the
/// projection one when it is not.
/// </para>
/// </summary>
public static class WinnerInterval
{
    /// <summary>
    /// The interval of winner − control at level 1 − <paramref name="alpha"/>, for independent normal estimates
    /// (<paramref name="means"/>, <paramref name="variances"/> of each mean). The winner must have the highest mean
    /// and differ from the control; null when an estimate has no positive variance.
    /// </summary>
    public static (double Low, double High)? Hybrid(IReadOnlyList<double> means, IReadOnlyList<double> variances, int winner, int control,
        double alpha = 0.05)
    {
        var k = means.Count;
        ArgumentOutOfRangeException.ThrowIfNotEqual(variances.Count, k);
        if (winner == control || k < 2 || Enumerable.Range(0, k).Any(j => means[j] > means[winner]))
        {
            throw new ArgumentException("the winner must have the highest mean and differ from the control");
        }

        if (variances.Any(v => !(v > 0)) || means.Any(m => !double.IsFinite(m)))
        {
            return null;
        }

        var d = means[winner] - means[control];
        var v = variances[winner] + variances[control];
        var sd = Math.Sqrt(v);

        // γ = Cov(Y, D) / Var(D): only the winner's own estimate moves with D among the rivals (γ_w = var_w / v).
        var gammaWinner = variances[winner] / v;
        var zWinner = means[winner] - (gammaWinner * d);
        var bound = 0.0; // the control: Y_w − Y_c = D ≥ 0
        for (var j = 0; j < k; j++)
        {
            if (j != winner && j != control)
            {
                bound = Math.Max(bound, (means[j] - zWinner) / gammaWinner);
            }
        }

        var beta = alpha / 10;
        var c = Normal.InvCDF(0, 1, 1 - (beta / (2 * (k - 1))));
        var (projectionLow, projectionHigh) = (d - (c * sd), d + (c * sd));
        var level = (alpha - beta) / (1 - beta);

        // F(δ): where the observed D falls in its cut distribution under the true difference δ; decreasing in δ.
        double Position(double delta)
        {
            var low = Math.Max(bound, delta - (c * sd));
            var high = delta + (c * sd);
            if (d <= low)
            {
                return 0;
            }

            if (d >= high)
            {
                return 1;
            }

            // Upper tails, so a cut far out in the right tail keeps its precision.
            var (tailLow, tailObserved, tailHigh) = (Normal.CDF(0, 1, -(low - delta) / sd), Normal.CDF(0, 1, -(d - delta) / sd),
                Normal.CDF(0, 1, -(high - delta) / sd));
            var mass = tailLow - tailHigh;
            return mass <= 0 ? 0.5 : Math.Clamp((tailLow - tailObserved) / mass, 0, 1);
        }

        double Solve(double target)
        {
            // Position(projectionLow) is 1 (D is at the top of its window) and Position(projectionHigh) is 0, or near.
            var (lo, hi) = (projectionLow, projectionHigh);
            for (var i = 0; i < 100 && hi - lo > 1e-12 * Math.Max(1, Math.Abs(d)); i++)
            {
                var mid = (lo + hi) / 2;
                if (Position(mid) > target)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid;
                }
            }

            return (lo + hi) / 2;
        }

        return (Math.Max(projectionLow, Solve(1 - (level / 2))), Math.Min(projectionHigh, Solve(level / 2)));
    }
}

/// <summary>
/// The variant with the best revenue per user against the control, with the ordinary 95% interval of the difference
/// and the one corrected for having picked the best-looking variant (<see cref="WinnerInterval.Hybrid"/>).
/// </summary>
public sealed record BestVsControl(
    [property: JsonPropertyName("variant_id")] string VariantId,
    [property: JsonPropertyName("price")] decimal Price,
    [property: JsonPropertyName("revenue_difference")] double RevenueDifference,
    [property: JsonPropertyName("revenue_difference_ci")] double[] RevenueDifferenceCi,
    [property: JsonPropertyName("revenue_difference_corrected_ci")] double[] RevenueDifferenceCorrectedCi)
{
    /// <summary>
    /// Of the variants' revenue per user (mean and variance of the mean); null when the control is best, when a
    /// variant has fewer than <paramref name="minUsers"/> users, or when a variance is not positive.
    /// </summary>
    public static BestVsControl? Of(IReadOnlyList<(string VariantId, decimal Price, long Users, double Mean, double Variance)> variants, string controlId,
        long minUsers)
    {
        var control = variants.ToList().FindIndex(v => v.VariantId == controlId);
        if (control < 0 || variants.Count < 2 || variants.Any(v => v.Users < minUsers))
        {
            return null;
        }

        var best = Enumerable.Range(0, variants.Count).MaxBy(i => variants[i].Mean);
        if (best == control || variants[best].Mean <= variants[control].Mean)
        {
            return null;
        }

        var means = variants.Select(v => v.Mean).ToArray();
        var variances = variants.Select(v => v.Variance).ToArray();
        if (WinnerInterval.Hybrid(means, variances, best, control) is not { } corrected)
        {
            return null;
        }

        var d = means[best] - means[control];
        var half = ReadoutCalculator.Z * Math.Sqrt(variances[best] + variances[control]);
        return new BestVsControl(variants[best].VariantId, variants[best].Price, d, [d - half, d + half], [corrected.Low, corrected.High]);
    }
}
