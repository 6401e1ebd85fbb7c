using MathNet.Numerics.Distributions;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Statistics;

/// <summary>
/// One allocation period as a readout shows it: the weight version in force (0: the equal split of the burn-in), when it
/// began, the share of each variant a new user had (the version's weights mixed with the configured ones for the
/// holdout), and the counted users first assigned in it.
/// </summary>
public sealed record AllocationPeriod(int Version, DateTimeOffset? StartsAt, IReadOnlyDictionary<string, double> Weights, long Users);

/// <summary>
/// A variant's figures combined over allocation periods with fixed period weights: the mean is Σ_p w_p · ȳ_p, w_p being
/// the period's share of all counted users, and its variance Σ_p w_p² · s²_p / n_p.
/// </summary>
public sealed record StratifiedVariant(string VariantId, decimal Price, long Users, double Rate, double RateVariance, double RevenuePerUser,
    double RevenueVariance);

/// <summary>
/// Statistics that stay valid when an adaptive experiment's weights change (README "Adaptive allocation"). Pooling users
/// across periods weighs each period by the variant's own traffic in it, so a variant that got more users in a good
/// week looks better than it is (Simpson's paradox); estimating per period and combining with the same period weights
/// for every variant compares variants on one traffic mix. The sample-ratio check expects Σ_p N_p · weight_{v,p} users.
/// </summary>
public static class Stratified
{
    /// <summary>Users a variant needs in a stratum for its variance; thinner periods are merged into the one before.</summary>
    public const int MinUsersPerCell = 2;

    /// <summary>
    /// The periods as strata: consecutive periods merged until every variant has <see cref="MinUsersPerCell"/> users
    /// (a thin last stratum joins the one before it). Each stratum lists its cells by variant.
    /// </summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, (decimal Price, long Users, long Conversions, double Revenue, double Squares)>> Strata(
        IReadOnlyList<PeriodStats> cells, IReadOnlyCollection<string> variantIds)
    {
        var strata = new List<Dictionary<string, (decimal Price, long Users, long Conversions, double Revenue, double Squares)>>();
        Dictionary<string, (decimal Price, long Users, long Conversions, double Revenue, double Squares)>? open = null;
        foreach (var period in cells.GroupBy(c => c.Period).OrderBy(g => g.Key))
        {
            open ??= [];
            foreach (var c in period)
            {
                open[c.VariantId] = open.TryGetValue(c.VariantId, out var s)
                    ? (s.Price, s.Users + c.Users, s.Conversions + c.Conversions, s.Revenue + c.Revenue, s.Squares + c.RevenueSquares)
                    : (c.Price, c.Users, c.Conversions, c.Revenue, c.RevenueSquares);
            }

            if (Complete(open, variantIds))
            {
                strata.Add(open);
                open = null;
            }
        }

        if (open is not null)
        {
            if (strata.Count == 0)
            {
                strata.Add(open);
            }
            else
            {
                foreach (var (id, c) in open)
                {
                    var last = strata[^1];
                    last[id] = last.TryGetValue(id, out var s)
                        ? (s.Price, s.Users + c.Users, s.Conversions + c.Conversions, s.Revenue + c.Revenue, s.Squares + c.Squares)
                        : c;
                }
            }
        }

        return strata;
    }

    private static bool Complete(Dictionary<string, (decimal Price, long Users, long Conversions, double Revenue, double Squares)> stratum,
        IReadOnlyCollection<string> variantIds) =>
        variantIds.All(id => stratum.TryGetValue(id, out var c) && c.Users >= MinUsersPerCell);

    /// <summary>Per variant of <paramref name="variantIds"/> with users, the stratified conversion rate and revenue per user with their variances.</summary>
    public static IReadOnlyList<StratifiedVariant> Estimate(IReadOnlyList<PeriodStats> cells, IReadOnlyCollection<string> variantIds)
    {
        var strata = Strata(cells, variantIds);
        var total = (double)strata.Sum(s => s.Values.Sum(c => c.Users));
        var result = new List<StratifiedVariant>();
        foreach (var id in variantIds)
        {
            var (rate, rateVar, rpu, rpuVar, users) = (0.0, 0.0, 0.0, 0.0, 0L);
            decimal? price = null;
            foreach (var stratum in strata)
            {
                var w = stratum.Values.Sum(c => c.Users) / total;
                if (!stratum.TryGetValue(id, out var c) || c.Users == 0)
                {
                    continue;
                }

                price ??= c.Price;
                users += c.Users;
                var r = (double)c.Conversions / c.Users;
                var mean = c.Revenue / c.Users;
                var s2 = c.Users < 2 ? 0 : Math.Max(0, (c.Squares - (c.Users * mean * mean)) / (c.Users - 1));
                rate += w * r;
                rateVar += w * w * r * (1 - r) / c.Users;
                rpu += w * mean;
                rpuVar += w * w * s2 / c.Users;
            }

            if (price is { } p)
            {
                result.Add(new StratifiedVariant(id, p, users, rate, rateVar, rpu, rpuVar));
            }
        }

        return result;
    }

    /// <summary>
    /// χ² goodness of fit of users per variant against Σ_p N_p · <paramref name="probability"/>(p, variant): the users each
    /// variant should have had under the weights of the periods they arrived in. Null with fewer than two variants or an
    /// expected count below 5.
    /// </summary>
    public static double? SampleRatio(IReadOnlyList<PeriodStats> cells, IReadOnlyList<string> variantIds, Func<int, string, double> probability)
    {
        if (variantIds.Count < 2)
        {
            return null;
        }

        var expected = new double[variantIds.Count];
        var observed = new double[variantIds.Count];
        foreach (var period in cells.GroupBy(c => c.Period))
        {
            var n = period.Sum(c => c.Users);
            var shares = variantIds.Select(id => probability(period.Key, id)).ToArray();
            var sum = shares.Sum();
            for (var i = 0; i < variantIds.Count; i++)
            {
                expected[i] += sum > 0 ? n * shares[i] / sum : 0;
                observed[i] += period.Where(c => c.VariantId == variantIds[i]).Sum(c => c.Users);
            }
        }

        if (expected.Any(e => e < 5))
        {
            return null;
        }

        var statistic = expected.Select((e, i) => (observed[i] - e) * (observed[i] - e) / e).Sum();
        return 1 - ChiSquared.CDF(variantIds.Count - 1, statistic);
    }

    /// <summary>
    /// The drift check: whether prices moved apart between the early and the late half of the periods (by users). Per
    /// variant, d = log(late rate / early rate), each half stratified with the same period weights for every variant, so
    /// a change every price shares (a season) cancels; a heterogeneity χ² of the d's across variants (K − 1 degrees of
    /// freedom) tests whether the change differs by price, which would make early evidence mislead the weights.
    /// Null with fewer than two periods with users or fewer than 10 conversions of a variant in a half.
    /// </summary>
    public static double? Drift(IReadOnlyList<PeriodStats> cells, IReadOnlyList<string> variantIds)
    {
        var periods = cells.GroupBy(c => c.Period).OrderBy(g => g.Key).Select(g => (g.Key, Users: g.Sum(c => c.Users))).Where(p => p.Users > 0).ToList();
        if (periods.Count < 2 || variantIds.Count < 2)
        {
            return null;
        }

        var half = periods.Sum(p => p.Users) / 2.0;
        var (cut, running) = (0, 0L);
        while (cut < periods.Count - 1 && running + periods[cut].Users <= half)
        {
            running += periods[cut++].Users;
        }

        cut = Math.Max(cut, 1);
        var early = periods.Take(cut).Select(p => p.Key).ToHashSet();
        var conversions = cells.GroupBy(c => (early.Contains(c.Period), c.VariantId)).ToDictionary(g => g.Key, g => g.Sum(c => c.Conversions));
        if (variantIds.Any(id => conversions.GetValueOrDefault((true, id)) < 10 || conversions.GetValueOrDefault((false, id)) < 10))
        {
            return null;
        }

        var first = Estimate([.. cells.Where(c => early.Contains(c.Period))], variantIds).ToDictionary(e => e.VariantId);
        var second = Estimate([.. cells.Where(c => !early.Contains(c.Period))], variantIds).ToDictionary(e => e.VariantId);
        var logs = new List<(double D, double Variance)>();
        foreach (var id in variantIds)
        {
            if (!first.TryGetValue(id, out var e) || !second.TryGetValue(id, out var l) || !(e.Rate > 0) || !(l.Rate > 0))
            {
                return null;
            }

            logs.Add((Math.Log(l.Rate / e.Rate), (l.RateVariance / (l.Rate * l.Rate)) + (e.RateVariance / (e.Rate * e.Rate))));
        }

        if (logs.Any(x => !(x.Variance > 0)))
        {
            return null;
        }

        var pooled = logs.Sum(x => x.D / x.Variance) / logs.Sum(x => 1 / x.Variance);
        var q = logs.Sum(x => (x.D - pooled) * (x.D - pooled) / x.Variance);
        return 1 - ChiSquared.CDF(variantIds.Count - 1, q);
    }

    /// <summary>
    /// The readout with its comparisons on stratified figures: rates, revenue per user, lifts with delta-method intervals,
    /// z-test p-values (Holm and Benjamini–Hochberg adjusted), chances to beat the control and expected losses under
    /// normal posteriors; the sample-ratio p-value against the periods' weights. Figures with no stratified form here
    /// (CUPED, the always-valid intervals, the sequential p-value) are left out, with a note.
    /// </summary>
    public static Readout Apply(Readout readout, IReadOnlyList<StratifiedVariant> estimates, double? srm, IReadOnlyList<AllocationPeriod> periods)
    {
        var byId = estimates.ToDictionary(e => e.VariantId, StringComparer.Ordinal);
        if (readout.ControlVariantId is not { } controlId || !byId.TryGetValue(controlId, out var control))
        {
            return readout with { SrmPValue = srm, AllocationPeriods = periods, BestVsControl = null };
        }

        var challengers = readout.Variants.Where(v => v.VariantId != controlId && byId.ContainsKey(v.VariantId)).ToList();
        var compared = challengers.ToDictionary(v => v.VariantId,
            v => v.Users >= ReadoutCalculator.MinUsersPerVariant && control.Users >= ReadoutCalculator.MinUsersPerVariant ? Compare(byId[v.VariantId], control) : null);
        var ids = challengers.Select(v => v.VariantId).ToList();
        var holm = ReadoutCalculator.Holm([.. ids.Select(id => compared[id]?.PValue)]);
        var bh = ReadoutCalculator.BenjaminiHochberg([.. ids.Select(id => compared[id]?.PValue)]);
        var revenueBh = ReadoutCalculator.BenjaminiHochberg([.. ids.Select(id => compared[id]?.RevenuePValue)]);
        var variants = readout.Variants.Select(v =>
        {
            if (!byId.TryGetValue(v.VariantId, out var e))
            {
                return v;
            }

            var sd = Math.Sqrt(e.RateVariance);
            var described = v with
            {
                ConversionRate = e.Rate,
                ConversionRateCi = [Math.Max(0, e.Rate - (ReadoutCalculator.Z * sd)), Math.Min(1, e.Rate + (ReadoutCalculator.Z * sd))],
                RevenuePerUser = e.RevenuePerUser,
                RevenuePerUserCuped = null,
                SequentialPValue = null,
                DifferenceCs = null,
                RevenueDifferenceCs = null,
                RevenueLiftCuped = null,
                RevenueLiftCupedCi = null,
                RevenuePerUserCupedPValue = null,
            };
            if (v.VariantId == controlId || compared.GetValueOrDefault(v.VariantId) is not { } c)
            {
                return described;
            }

            var index = ids.IndexOf(v.VariantId);
            return described with
            {
                Lift = c.Lift, LiftCi = c.LiftCi, PValue = c.PValue, PValueAdjusted = holm[index], PValueAdjustedBh = bh[index],
                RevenuePerUserPValue = c.RevenuePValue, RevenuePValueAdjustedBh = revenueBh[index], ChanceToBeatControl = c.Chance,
                ExpectedLoss = c.Loss, RevenueLift = c.RevenueLift, RevenueLiftCi = c.RevenueLiftCi, RevenueChanceToBeatControl = c.RevenueChance,
                RevenueExpectedLoss = c.RevenueLoss,
            };
        }).ToList();
        var note = $"the weights changed over {periods.Count} allocation periods: rates, revenue per user and every comparison are estimated per period " +
                   "and combined with each period's share of users (a pooled figure would favour the variant that got more users in a good period); " +
                   "CUPED and the always-valid intervals are left out";
        return readout with
        {
            Variants = variants, SrmPValue = srm, AllocationPeriods = periods, Notes = [.. readout.Notes, note], CupedTheta = null,
            CupedVarianceReduction = null,
            BestVsControl = BestVsControl.Of([.. estimates.Select(e => (e.VariantId, e.Price, e.Users, e.RevenuePerUser, e.RevenueVariance))], controlId,
                ReadoutCalculator.MinUsersPerVariant),
        };
    }

    private sealed record Comparison(double? Lift, double[]? LiftCi, double? PValue, double? Chance, double? Loss, double? RevenuePValue,
        double? RevenueLift, double[]? RevenueLiftCi, double? RevenueChance, double? RevenueLoss);

    private static Comparison Compare(StratifiedVariant v, StratifiedVariant c)
    {
        var (lift, liftCi) = Ratio(v.Rate, v.RateVariance, c.Rate, c.RateVariance);
        var (revenueLift, revenueLiftCi) = Ratio(v.RevenuePerUser, v.RevenueVariance, c.RevenuePerUser, c.RevenueVariance);
        var rate = Normal2(v.Rate, v.RateVariance, c.Rate, c.RateVariance);
        var revenue = Normal2(v.RevenuePerUser, v.RevenueVariance, c.RevenuePerUser, c.RevenueVariance);
        return new Comparison(lift, liftCi, rate?.P, rate?.Chance, rate?.Loss, revenue?.P, revenueLift, revenueLiftCi, revenue?.Chance, revenue?.Loss);
    }

    /// <summary>m_v / m_c − 1 with its delta-method 95% interval; null when the control's mean is not positive.</summary>
    private static (double? Lift, double[]? Ci) Ratio(double mv, double vv, double mc, double vc)
    {
        if (!(mc > 0))
        {
            return (null, null);
        }

        var ratio = mv / mc;
        var relative = (mv > 0 ? vv / (mv * mv) : 0) + (vc / (mc * mc));
        var se = ratio * Math.Sqrt(relative);
        return (ratio - 1, [ratio - 1 - (ReadoutCalculator.Z * se), ratio - 1 + (ReadoutCalculator.Z * se)]);
    }

    /// <summary>The two-sided z-test p-value, P(m_v &gt; m_c) and E[max(m_c − m_v, 0)] for two independent normal means.</summary>
    private static (double P, double Chance, double Loss)? Normal2(double mv, double vv, double mc, double vc)
    {
        var sd = Math.Sqrt(vv + vc);
        if (!(sd > 0))
        {
            return null;
        }

        var d = mv - mc;
        var z = d / sd;
        return (2 * Normal.CDF(0, 1, -Math.Abs(z)), Normal.CDF(0, 1, z), (sd * Normal.PDF(0, 1, z)) - (d * Normal.CDF(0, 1, -z)));
    }

    /// <summary>
    /// Per variant, counts with the stratified rate and its variance (n = r(1 − r) / V users, r·n conversions; revenue
    /// scaled to the stratified revenue per user): what a demand fit that takes binomial counts needs so that it weighs
    /// each price by what the stratified estimate knows, not by the pooled, period-confounded counts.
    /// </summary>
    public static IReadOnlyList<VariantStats> Effective(IReadOnlyList<StratifiedVariant> estimates) =>
    [
        .. estimates.Select(e =>
        {
            var users = e.RateVariance > 0 && e.Rate is > 0 and < 1 ? Math.Max(1, (long)Math.Round(e.Rate * (1 - e.Rate) / e.RateVariance)) : e.Users;
            var conversions = (long)Math.Round(e.Rate * users);
            var revenue = e.RevenuePerUser * users;
            var squares = e.RevenueVariance > 0 ? (e.RevenueVariance * users * (users - 1)) + (users * e.RevenuePerUser * e.RevenuePerUser) : 0;
            return new VariantStats(e.VariantId, e.Price, users, conversions, (decimal)revenue, squares);
        }),
    ];

    /// <summary>
    /// The buyers' sums scaled to the effective counts: each variant's buyers become its effective conversions, every sum
    /// scaled alike, so what a buyer pays on average (and its spread) is kept while revenue per user becomes the
    /// stratified conversion times it.
    /// </summary>
    public static IReadOnlyList<BuyerSums> EffectiveBuyers(IReadOnlyList<BuyerSums> buyers, IReadOnlyList<VariantStats> effective) =>
    [
        .. buyers.Select(b =>
        {
            if (effective.FirstOrDefault(e => e.VariantId == b.VariantId) is not { } e || b.Buyers == 0)
            {
                return b;
            }

            var f = (double)e.Conversions / b.Buyers;
            return b with
            {
                Buyers = e.Conversions, Revenue = b.Revenue * f, RevenueSquares = b.RevenueSquares * f, Units = b.Units * f, UnitsSquares = b.UnitsSquares * f,
                RevenueUnits = b.RevenueUnits * f,
            };
        }),
    ];
}
