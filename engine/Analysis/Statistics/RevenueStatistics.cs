using MathNet.Numerics.Distributions;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Statistics;

/// <summary>One non-control variant's revenue comparison, or the control's own CUPED-adjusted mean.</summary>
internal sealed record VariantRevenue(double? RevenuePerUserCuped, double? RevenueLift, double[]? RevenueLiftCi, double? RevenueLiftCuped,
    double[]? RevenueLiftCupedCi, double? RevenuePerUserCupedPValue, double[]? RevenueDifferenceCs, double? RevenueChanceToBeatControl = null,
    double? RevenueExpectedLoss = null);

/// <summary>
/// The revenue-grade figures of statistics contract v2 (items 9–11) from per-variant revenue moments: revenue lift by
/// the delta method, CUPED (θ pooled over every counted user, adjusted means, Welch's test on Y − θX), and the
/// always-valid confidence sequence on the difference in revenue per user.
/// </summary>
internal static class RevenueStatistics
{
    public sealed record Result(double? Theta, double? VarianceReduction, IReadOnlyDictionary<string, VariantRevenue> Variants);

    public static Result Compute(RevenueMoments moments, string controlId, ReadoutOptions options, List<string> notes)
    {
        var variants = moments.Variants;
        var control = variants.FirstOrDefault(v => v.VariantId == controlId);
        var (theta, reduction, meanX) = Cuped(variants, options, notes);
        var result = new Dictionary<string, VariantRevenue>();
        foreach (var v in variants)
        {
            double? adjusted = theta is { } t ? v.MeanY - (t * (v.MeanX - meanX)) : null;
            if (v.VariantId == controlId || control is null)
            {
                result[v.VariantId] = new VariantRevenue(adjusted, null, null, null, null, null, null);
                continue;
            }

            var lift = Lift(v.MeanY, v.VarianceY, v.Users, control.MeanY, control.VarianceY, control.Users);
            (double? Lift, double[]? Ci) liftCuped = (null, null);
            double? cupedP = null;
            if (theta is { } th)
            {
                var varV = AdjustedVariance(v, th);
                var varC = AdjustedVariance(control, th);
                var adjustedC = control.MeanY - (th * (control.MeanX - meanX));
                liftCuped = Lift(adjusted!.Value, varV, v.Users, adjustedC, varC, control.Users);
                cupedP = Welch(v.MeanY - (th * v.MeanX), varV, v.Users, control.MeanY - (th * control.MeanX), varC, control.Users);
            }

            double[]? cs = v.Users < 2 || control.Users < 2
                ? null
                : ConfidenceSequence.Interval(v.MeanY - control.MeanY, v.VarianceY, v.Users, control.VarianceY, control.Users, options.SequentialTuning);
            var posterior = NormalComparison.Compare(v.MeanY, v.VarianceY, v.Users, control.MeanY, control.VarianceY, control.Users);
            result[v.VariantId] = new VariantRevenue(adjusted, lift.Lift, lift.Ci, liftCuped.Lift, liftCuped.Ci, cupedP, cs, posterior?.Chance,
                posterior?.ExpectedLoss);
        }

        if (control is { MeanY: 0 } && variants.Count > 1)
        {
            notes.Add($"the control '{controlId}' has no revenue yet: revenue lift is undefined");
        }

        return new Result(theta, reduction, result);
    }

    /// <summary>θ = Σ(X−X̄)(Y−Ȳ) / Σ(X−X̄)² over every counted user, pooled from the per-variant moments; null when CUPED is off or undefined.</summary>
    private static (double? Theta, double? Reduction, double MeanX) Cuped(IReadOnlyList<VariantMoments> variants, ReadoutOptions options, List<string> notes)
    {
        var n = variants.Sum(v => v.Users);
        if (options.Cuped == false || n < 2)
        {
            return (null, null, 0);
        }

        if (variants.Sum(v => v.UsersWithPrior) == 0)
        {
            notes.Add("CUPED is off: no counted user has revenue in the lookback period before their first assign");

            return (null, null, 0);
        }

        var meanX = variants.Sum(v => v.Users * v.MeanX) / n;
        var meanY = variants.Sum(v => v.Users * v.MeanY) / n;
        double sxx = 0, sxy = 0, syy = 0;
        foreach (var v in variants)
        {
            var dx = v.MeanX - meanX;
            var dy = v.MeanY - meanY;
            var within = Math.Max(0, v.Users - 1);
            sxx += (within * v.VarianceX) + (v.Users * dx * dx);
            sxy += (within * v.CovarianceXY) + (v.Users * dx * dy);
            syy += (within * v.VarianceY) + (v.Users * dy * dy);
        }

        if (sxx <= 0 || syy <= 0)
        {
            notes.Add(sxx <= 0
                ? "CUPED is off: every counted user has the same pre-period revenue, so it explains nothing"
                : "CUPED is off: revenue does not vary across counted users");
            return (null, null, 0);
        }

        var theta = sxy / sxx;
        return (theta, sxy * sxy / (sxx * syy), meanX);
    }

    /// <summary>The sample variance of Y − θX inside a variant.</summary>
    private static double AdjustedVariance(VariantMoments v, double theta) =>
        Math.Max(0, v.VarianceY - (2 * theta * v.CovarianceXY) + (theta * theta * v.VarianceX));

    /// <summary>mean_v / mean_c − 1 with its 95% interval by the delta method on the ratio of two independent means.</summary>
    private static (double? Lift, double[]? Ci) Lift(double meanV, double varianceV, long usersV, double meanC, double varianceC, long usersC)
    {
        if (meanC == 0 || usersV < 2 || usersC < 2)
        {
            return (null, null);
        }

        var ratio = meanV / meanC;
        var variance = (varianceV / usersV / (meanC * meanC)) + (meanV * meanV * varianceC / usersC / (meanC * meanC * meanC * meanC));
        var half = ReadoutCalculator.Z * Math.Sqrt(variance);
        return (ratio - 1, [ratio - 1 - half, ratio - 1 + half]);
    }

    /// <summary>Welch's two-sided t-test from means and sample variances; null when both variances are zero and the means differ.</summary>
    public static double? Welch(double meanV, double varianceV, long usersV, double meanC, double varianceC, long usersC)
    {
        if (usersV < 2 || usersC < 2)
        {
            return null;
        }

        var sv = varianceV / usersV;
        var sc = varianceC / usersC;
        if (sv + sc <= 0)
        {
            return meanV == meanC ? 1.0 : null;
        }

        var t = (meanV - meanC) / Math.Sqrt(sv + sc);
        var df = (sv + sc) * (sv + sc) / ((sv * sv / (usersV - 1)) + (sc * sc / (usersC - 1)));
        return 2 * StudentT.CDF(0, 1, df, -Math.Abs(t));
    }
}

/// <summary>
/// The asymptotic always-valid confidence sequence of Waudby-Smith et al. (2023, eq. 9) on a difference of two means:
/// valid at every look, however often the readout is read (statistics contract v2, item 11).
/// </summary>
public static class ConfidenceSequence
{
    public const double Alpha = 0.05;

    /// <summary>
    /// d ± sqrt(s²) · sqrt(2(nρ² + 1) / (n²ρ²) · ln(sqrt(nρ² + 1) / α)) with n = n_v + n_c, s² = (var_v/n_v + var_c/n_c) · n and
    /// ρ = sqrt((−2 ln α + ln(−2 ln α + 1)) / N*).
    /// </summary>
    public static double[] Interval(double difference, double varianceV, long usersV, double varianceC, long usersC, double tuning)
    {
        double n = usersV + usersC;
        var s2 = ((varianceV / usersV) + (varianceC / usersC)) * n;
        var rho2 = ((-2 * Math.Log(Alpha)) + Math.Log((-2 * Math.Log(Alpha)) + 1)) / tuning;
        var half = Math.Sqrt(s2) * Math.Sqrt(2 * ((n * rho2) + 1) / (n * n * rho2) * Math.Log(Math.Sqrt((n * rho2) + 1) / Alpha));
        return [difference - half, difference + half];
    }
}
