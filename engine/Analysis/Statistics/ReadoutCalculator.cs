using MathNet.Numerics.Distributions;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Statistics;

/// <summary>Computes every quantity of the statistics contract from per-variant sufficient statistics.</summary>
public static class ReadoutCalculator
{
    /// <summary>The two-sided 95% normal quantile.</summary>
    public const double Z = 1.959963984540054;

    /// <summary>
    /// The readout of one experiment. <paramref name="controlVariantId"/> defaults to the configured control, else the
    /// variant named "control", else the first by id. <paramref name="weights"/> (variant → weight) feed the SRM test;
    /// equal weights when null.
    /// </summary>
    /// <remarks>
    /// With <paramref name="moments"/> (the summary's revenue moments), the readout carries the revenue-grade figures of
    /// contract v2 under <paramref name="options"/>; the confidence sequence on rates and Benjamini–Hochberg need none.
    /// </remarks>
    public static Readout Compute(string tenantId, string experimentId, IReadOnlyList<VariantStats> stats, long multipleExposureUsers,
        string? controlVariantId, IReadOnlyDictionary<string, double>? weights, RevenueMoments? moments = null, ReadoutOptions? options = null)
    {
        options ??= new ReadoutOptions();
        var notes = new List<string>();
        var variants = stats.OrderBy(v => v.VariantId, StringComparer.Ordinal).ToList();
        if (variants.Count == 0)
        {
            notes.Add("no counted users yet: no assign events for this experiment");
            return new Readout(tenantId, experimentId, controlVariantId, null, multipleExposureUsers, [], null, notes);
        }

        var control = controlVariantId is null
            ? variants.FirstOrDefault(v => v.VariantId == "control") ?? variants[0]
            : variants.FirstOrDefault(v => v.VariantId == controlVariantId)
              ?? throw new ArgumentException($"control variant '{controlVariantId}' has no users; variants: " +
                  $"{string.Join(", ", variants.Select(v => v.VariantId))}",
                  nameof(controlVariantId));
        if (variants.Count == 1)
        {
            notes.Add("only one variant has users: there is nothing to compare yet");
        }

        var comparisons = variants.Where(v => v != control)
            .Select(v => v.Users < MinUsersPerVariant || control.Users < MinUsersPerVariant ? new Comparison(v.VariantId, null, null, null, null, null,
                null, null) : Compare(v, control))
            .ToList();
        var adjusted = Holm(comparisons.Select(c => c.PValue).ToList());
        var adjustedBh = BenjaminiHochberg(comparisons.Select(c => c.PValue).ToList());
        var revenue = moments is null ? null : RevenueStatistics.Compute(moments, control.VariantId, options, notes);
        var revenueBh = BenjaminiHochberg(comparisons.Select(c => revenue?.Variants.GetValueOrDefault(c.VariantId)?.RevenuePerUserCupedPValue ?? c.RevenuePValue).ToList());
        var readouts = new List<VariantReadout>();
        foreach (var v in variants)
        {
            var basic = Describe(v);
            var r = revenue?.Variants.GetValueOrDefault(v.VariantId);
            if (v == control)
            {
                readouts.Add(basic with { RevenuePerUserCuped = r?.RevenuePerUserCuped });
                continue;
            }

            var index = comparisons.FindIndex(c => c.VariantId == v.VariantId);
            var c = comparisons[index];
            if (v.Users < MinUsersPerVariant || control.Users < MinUsersPerVariant)
            {
                // Below the minimum sample every comparison is noise that looks like a result: none is given.
                readouts.Add(basic with { RevenuePerUserCuped = r?.RevenuePerUserCuped });
                notes.Add($"'{v.VariantId}' ({v.Users:N0} users) against the control '{control.VariantId}' ({control.Users:N0}): comparisons need at least "
                          + $"{MinUsersPerVariant} users in each; lift, p-values, intervals and chances are left out until then");
                continue;
            }

            readouts.Add(basic with
            {
                Lift = c.Lift,
                LiftCi = c.LiftCi,
                PValue = c.PValue,
                PValueAdjusted = adjusted[index],
                RevenuePerUserPValue = c.RevenuePValue,
                ChanceToBeatControl = c.ChanceToBeat,
                ExpectedLoss = c.ExpectedLoss,
                ArcElasticity = c.ArcElasticity,
                SequentialPValue = Sequential.PValue(v.Users, v.Conversions, control.Users, control.Conversions),
                PValueAdjustedBh = adjustedBh[index],
                RevenuePValueAdjustedBh = revenueBh[index],
                DifferenceCs = RateSequence(v, control, options.SequentialTuning),
                RevenuePerUserCuped = r?.RevenuePerUserCuped,
                RevenueLift = r?.RevenueLift,
                RevenueLiftCi = r?.RevenueLiftCi,
                RevenueLiftCuped = r?.RevenueLiftCuped,
                RevenueLiftCupedCi = r?.RevenueLiftCupedCi,
                RevenuePerUserCupedPValue = r?.RevenuePerUserCupedPValue,
                RevenueDifferenceCs = r?.RevenueDifferenceCs,
                RevenueChanceToBeatControl = r?.RevenueChanceToBeatControl,
                RevenueExpectedLoss = r?.RevenueExpectedLoss,
            });
        }

        if (control.Conversions == 0)
        {
            notes.Add($"the control '{control.VariantId}' has no conversions yet: lift is undefined");
        }

        return new Readout(tenantId, experimentId, control.VariantId, Srm(variants, weights), multipleExposureUsers, readouts,
            Elasticity(variants, notes), notes)
        {
            RevenueCap = moments?.Cap,
            CupedTheta = revenue?.Theta,
            CupedVarianceReduction = revenue?.VarianceReduction,
            BestVsControl = BestVsControl.Of([.. variants.Select(v =>
            {
                var mean = v.Users == 0 ? 0 : (double)v.Revenue / v.Users;
                return (v.VariantId, v.Price, v.Users, mean, v.Users < 2 ? 0 : (v.RevenueSquares - (v.Users * mean * mean)) / (v.Users - 1) / v.Users);
            })], control.VariantId, MinUsersPerVariant),
        };
    }

    private static VariantReadout Describe(VariantStats v)
    {
        double? rate = v.Users == 0 ? null : (double)v.Conversions / v.Users;
        return new VariantReadout(v.VariantId, v.Price, v.Users, v.Conversions, rate, rate is null ? null : Wilson(v.Conversions, v.Users),
            v.Revenue, v.Users == 0 ? null : (double)v.Revenue / v.Users, null, null, null, null, null, null, null, null);
    }

    /// <summary>The Wilson score interval (95%).</summary>
    public static double[] Wilson(long successes, long n)
    {
        var p = (double)successes / n;
        var z2 = Z * Z;
        var denominator = 1 + (z2 / n);
        var center = (p + (z2 / (2.0 * n))) / denominator;
        var half = Z * Math.Sqrt((p * (1 - p) / n) + (z2 / (4.0 * n * n))) / denominator;
        return [Math.Max(0, center - half), Math.Min(1, center + half)];
    }

    private sealed record Comparison(string VariantId, double? Lift, double[]? LiftCi, double? PValue, double? RevenuePValue,
        double? ChanceToBeat, double? ExpectedLoss, double? ArcElasticity);

    private static Comparison Compare(VariantStats v, VariantStats c)
    {
        if (v.Users == 0 || c.Users == 0)
        {
            return new Comparison(v.VariantId, null, null, null, null, null, null, null);
        }

        var rv = (double)v.Conversions / v.Users;
        var rc = (double)c.Conversions / c.Users;
        double? lift = null;
        double[]? liftCi = null;
        if (rc > 0)
        {
            var ratio = rv / rc;
            lift = ratio - 1;
            // Delta method on the ratio of two independent proportions.
            var relativeVariance = (rv > 0 ? (1 - rv) / (rv * v.Users) : 0) + ((1 - rc) / (rc * c.Users));
            var se = ratio * Math.Sqrt(relativeVariance);
            liftCi = [lift.Value - (Z * se), lift.Value + (Z * se)];
        }

        var pooled = (double)(v.Conversions + c.Conversions) / (v.Users + c.Users);
        var pooledSe = Math.Sqrt(pooled * (1 - pooled) * ((1.0 / v.Users) + (1.0 / c.Users)));
        double? pValue = pooledSe > 0 ? 2 * Normal.CDF(0, 1, -Math.Abs(rv - rc) / pooledSe) : (rv == rc ? 1.0 : null);

        var (alphaV, betaV) = (1.0 + v.Conversions, 1.0 + v.Users - v.Conversions);
        var (alphaC, betaC) = (1.0 + c.Conversions, 1.0 + c.Users - c.Conversions);
        var chance = BetaComparison.ProbabilityGreater(alphaV, betaV, alphaC, betaC);
        var loss = BetaComparison.ExpectedLoss(alphaV, betaV, alphaC, betaC);

        double? arc = null;
        var meanRate = (rv + rc) / 2;
        var meanPrice = (double)(v.Price + c.Price) / 2;
        if (meanRate > 0 && v.Price != c.Price && meanPrice > 0)
        {
            arc = ((rv - rc) / meanRate) / ((double)(v.Price - c.Price) / meanPrice);
        }

        return new Comparison(v.VariantId, lift, liftCi, pValue, Welch(v, c), chance, loss, arc);
    }

    /// <summary>Welch's t-test on per-user revenue (zeros for non-buyers), two-sided.</summary>
    private static double? Welch(VariantStats v, VariantStats c)
    {
        if (v.Users < 2 || c.Users < 2)
        {
            return null;
        }

        var (meanV, varV) = MeanVariance(v);
        var (meanC, varC) = MeanVariance(c);
        return RevenueStatistics.Welch(meanV, varV, v.Users, meanC, varC, c.Users);
    }

    private static (double Mean, double Variance) MeanVariance(VariantStats s)
    {
        var mean = (double)s.Revenue / s.Users;
        var variance = (s.RevenueSquares - (s.Users * mean * mean)) / (s.Users - 1);
        return (mean, Math.Max(0, variance));
    }

    /// <summary>The always-valid confidence sequence on rate_v − rate_c (Bernoulli variances r(1 − r)).</summary>
    /// <summary>
    /// Comparisons (lift, p-values, chances, always-valid intervals) need this many users in the variant and in the
    /// control; below it they are null with a note, like a recommendation's minimum users per price.
    /// </summary>
    public const int MinUsersPerVariant = 30;

    /// <summary>
    /// The always-valid interval on rate_v − rate_c. Where a rate is 0 of n or n of n its variance uses the rate shrunk by
    /// one success and one failure ((x + 1) / (n + 2)), so no look claims a variance of zero; clipped to [−1, 1].
    /// </summary>
    private static double[]? RateSequence(VariantStats v, VariantStats c, double tuning)
    {
        if (v.Users == 0 || c.Users == 0)
        {
            return null;
        }

        var rv = (double)v.Conversions / v.Users;
        var rc = (double)c.Conversions / c.Users;
        var interval = ConfidenceSequence.Interval(rv - rc, Sequential.ShrunkVariance(v.Conversions, v.Users), v.Users,
            Sequential.ShrunkVariance(c.Conversions, c.Users), c.Users, tuning);
        return [Math.Max(-1, interval[0]), Math.Min(1, interval[1])];
    }

    /// <summary>Benjamini–Hochberg step-up adjustment (false discovery rate); nulls stay null.</summary>
    public static List<double?> BenjaminiHochberg(IReadOnlyList<double?> pValues)
    {
        var order = pValues.Select((p, i) => (P: p, Index: i)).Where(x => x.P is not null).OrderBy(x => x.P).ToList();
        var adjusted = new List<double?>(pValues.Select(_ => (double?)null));
        var running = 1.0;
        for (var rank = order.Count - 1; rank >= 0; rank--)
        {
            running = Math.Min(running, order.Count * order[rank].P!.Value / (rank + 1));
            adjusted[order[rank].Index] = running;
        }

        return adjusted;
    }

    /// <summary>Holm's step-down adjustment; nulls stay null.</summary>
    public static List<double?> Holm(IReadOnlyList<double?> pValues)
    {
        var order = pValues.Select((p, i) => (P: p, Index: i)).Where(x => x.P is not null).OrderBy(x => x.P).ToList();
        var adjusted = new List<double?>(pValues.Select(_ => (double?)null));
        var running = 0.0;
        for (var rank = 0; rank < order.Count; rank++)
        {
            running = Math.Max(running, Math.Min(1, (order.Count - rank) * order[rank].P!.Value));
            adjusted[order[rank].Index] = running;
        }

        return adjusted;
    }

    /// <summary>Chi-square goodness of fit of users per variant against the weights (sample ratio mismatch).</summary>
    private static double? Srm(IReadOnlyList<VariantStats> variants, IReadOnlyDictionary<string, double>? weights)
    {
        if (variants.Count < 2)
        {
            return null;
        }

        var total = variants.Sum(v => v.Users);
        var shares = variants.Select(v => weights?.GetValueOrDefault(v.VariantId) ?? 1.0).ToList();
        var shareSum = shares.Sum();
        var statistic = 0.0;
        for (var i = 0; i < variants.Count; i++)
        {
            var expected = total * shares[i] / shareSum;
            if (expected <= 0)
            {
                return null;
            }

            statistic += (variants[i].Users - expected) * (variants[i].Users - expected) / expected;
        }

        return 1 - ChiSquared.CDF(variants.Count - 1, statistic);
    }

    /// <summary>The contract's log-log fit (<see cref="PriceResponse"/>) when three or more prices were tested.</summary>
    private static ElasticityFit? Elasticity(IReadOnlyList<VariantStats> variants, List<string> notes)
    {
        if (variants.Select(v => v.Price).Distinct().Count() < 3)
        {
            return null;
        }

        var curve = PriceResponse.Fit(variants, out var reason);
        if (curve is null)
        {
            notes.Add(reason!);
            return null;
        }

        return new ElasticityFit(curve.Slope, curve.SlopeCi);
    }
}
