using PricingOptimizer.ControlPlane;
using PricingOptimizer.Lake;
using PricingOptimizer.Statistics;

namespace PricingOptimizer.Analytics;

/// <summary>One variant's headline figures on the dashboard.</summary>
public sealed record DashboardVariant(string VariantId, decimal Price, long Users, long Conversions, double? ConversionRate, double? RevenuePerUser);

/// <summary>Whether the data can be trusted: a broken split (sample ratio p &lt; 0.001) or many users in two variants (over 1%).</summary>
public sealed record DashboardHealth(double? SrmPValue, bool SampleRatioMismatch, long MultipleExposureUsers, double MultipleExposureShare,
    bool MultipleExposureHigh);

/// <summary>
/// One experiment on the dashboard. The leader and its chance to beat the control are on the experiment's
/// <see cref="Goal"/>: revenue per user, profit per user, or conversion rate.
/// </summary>
public sealed record DashboardExperiment(string ExperimentId, string Name, Experiments.ExperimentStatus Status, string Currency, DateOnly? StartDate,
    int? DaysRunning, long Users,
    string? ControlVariantId, IReadOnlyList<DashboardVariant> Variants, string? LeadingVariantId, double? LeadingChanceToBeatControl, DashboardHealth Health,
    long? UsersStillNeeded, IReadOnlyList<string> Notes, Pricing.Goal Goal = Pricing.Goal.Revenue)
{
    /// <summary>For an adaptive experiment, its weights now and whether it may stop; null for a fixed split.</summary>
    public DashboardAllocation? Allocation { get; init; }
}

/// <summary>
/// An adaptive experiment's split on the dashboard: the weight version in force (0: the burn-in's equal split), since
/// when, each variant's share of new users, and the stopping rule's sentence at the last update ("stop: …" or "not
/// yet: …"; null before the first).
/// </summary>
public sealed record DashboardAllocation(Experiments.AllocationMode Mode, int Version, DateTimeOffset? Since, IReadOnlyDictionary<string, double> Weights,
    string? Stopping);

/// <summary>A tested price of a compared experiment.</summary>
public sealed record ComparedPrice(string VariantId, decimal Price, bool Control);

/// <summary>The headline of a compared experiment's recommendation.</summary>
public sealed record ComparedRecommendation(string Status, decimal? RecommendedPrice, double? ExpectedValue, double? Confidence);

/// <summary>One experiment in a comparison: its dashboard row, prices and recommendation (null with the reason when none can be made).</summary>
public sealed record ComparedExperiment(DashboardExperiment Experiment, IReadOnlyList<ComparedPrice> Prices, ComparedRecommendation? Recommendation,
    string? NoRecommendationReason);

/// <summary>Experiments side by side, as <c>GET /v1/analytics/compare</c> answers.</summary>
public sealed record ExperimentComparison(string TenantId, Pricing.Goal Goal, DateTimeOffset GeneratedAt, IReadOnlyList<ComparedExperiment> Experiments);

/// <summary>Every experiment of a tenant, as <c>GET /v1/analytics/experiments</c> answers.</summary>
public sealed record Dashboard(string TenantId, DateTimeOffset GeneratedAt, double MinimumDetectableEffect, IReadOnlyList<DashboardExperiment> Experiments);

/// <summary>
/// The analytics dashboard (seed architecture's Analytics Service): every experiment of the tenant in one call, each
/// from its warm readout summary — status, start and days running, users and headline metrics per variant, the
/// leading variant with its chance to beat the control (the control itself, with no chance, when every challenger more
/// likely loses), health flags, and the users still needed for 80% power to see
/// a relative change of <c>mde</c> in the control's conversion rate.
/// </summary>
public sealed class DashboardService(IExperimentStore experiments, ReadoutService readouts, LakeQueries lake, Pricing.PricingService pricing, TimeProvider time)
{
    public const double DefaultMinimumDetectableEffect = 0.05;

    /// <summary>How many experiments' rows are computed at once.</summary>
    private static readonly int RowsInParallel = Math.Clamp(Environment.ProcessorCount, 2, 4);

    /// <exception cref="Errors.InvalidInputException">An effect outside (0, 10].</exception>
    public async Task<Dashboard> GetAsync(string tenantId, double? minimumDetectableEffect, CancellationToken cancellationToken)
    {
        var mde = CheckEffect(minimumDetectableEffect);
        var now = time.GetUtcNow();
        var listed = (await experiments.ListExperimentsAsync(tenantId, cancellationToken)).OrderBy(e => e.CreatedAt).ToList();
        // Rows side by side: one experiment's queries over a summary of a few hundred thousand users keep one core busy,
        // not two (the lake layer builds summaries one at a time, so this never doubles the memory a build needs).
        var rows = new DashboardExperiment[listed.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, listed.Count),
            new ParallelOptions { MaxDegreeOfParallelism = RowsInParallel, CancellationToken = cancellationToken },
            async (i, ct) => rows[i] = await RowAsync(tenantId, listed[i], mde, now, ct));
        return new Dashboard(tenantId, now, mde, rows);
    }

    /// <summary>
    /// Experiments side by side (<c>GET /v1/analytics/compare</c>): each one's dashboard row, its tested prices, and its
    /// recommendation for <paramref name="request"/> (or why there is none).
    /// </summary>
    /// <exception cref="Errors.InvalidInputException">No ids, more than 10, or a repeated one.</exception>
    /// <exception cref="Errors.NotFoundException">An id the tenant does not have.</exception>
    public async Task<ExperimentComparison> CompareAsync(string tenantId, IReadOnlyList<string> experimentIds, Pricing.RecommendationRequest request,
        double? minimumDetectableEffect, CancellationToken cancellationToken)
    {
        if (experimentIds.Count is < 1 or > 10 || experimentIds.Distinct().Count() != experimentIds.Count)
        {
            throw new Errors.InvalidInputException("experiments must name 1 to 10 different experiments, comma-separated", "experiments");
        }

        if (request.Problem() is { } problem)
        {
            throw new Errors.InvalidInputException(problem.Message, problem.Field);
        }

        var mde = CheckEffect(minimumDetectableEffect);
        var now = time.GetUtcNow();
        var definitions = new List<Experiments.Experiment>();
        foreach (var id in experimentIds)
        {
            definitions.Add(await experiments.GetExperimentAsync(tenantId, id, cancellationToken)
                            ?? throw new Errors.NotFoundException($"no experiment '{id}'", "experiments"));
        }

        var compared = new List<ComparedExperiment>();
        foreach (var definition in definitions)
        {
            var row = await RowAsync(tenantId, definition, mde, now, cancellationToken);
            Pricing.Recommendation? recommendation = null;
            string? reason = null;
            try
            {
                recommendation = await pricing.RecommendAsync(tenantId, definition.ExperimentId, request, cancellationToken);
            }
            catch (Errors.ProblemException e)
            {
                reason = e.Message;
            }

            compared.Add(new ComparedExperiment(row, [.. definition.Variants.Select(v => new ComparedPrice(v.VariantId, v.Price, v.Control))],
                recommendation is null ? null : new ComparedRecommendation(recommendation.Status, recommendation.RecommendedPrice,
                    recommendation.ExpectedValue, recommendation.Confidence),
                reason ?? (recommendation?.Status == "ok" ? null : recommendation?.Reasoning.FirstOrDefault())));
        }

        return new ExperimentComparison(tenantId, request.Goal, now, compared);
    }

    private static double CheckEffect(double? minimumDetectableEffect)
    {
        var mde = minimumDetectableEffect ?? DefaultMinimumDetectableEffect;
        return mde > 0 && mde <= 10
            ? mde
            : throw new Errors.InvalidInputException($"mde must be a relative change in (0, 10], e.g. 0.05 for 5%; got {mde}", "mde");
    }

    private async Task<DashboardExperiment> RowAsync(string tenantId, Experiments.Experiment experiment, double mde, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        {
            var readout = await readouts.GetAsync(tenantId, experiment.ExperimentId, null, cancellationToken);
            var start = await lake.ExperimentStartAsync(tenantId, experiment.ExperimentId, cancellationToken);
            var notes = new List<string>(readout.Notes);
            var users = readout.Variants.Sum(v => v.Users);
            // The leading variant is the challenger most likely to beat the control on the experiment's goal, or the control
            // when every challenger more likely loses.
            var chances = await ChancesAsync(tenantId, experiment, readout, cancellationToken);
            var best = chances.Where(c => c.Value is not null).Select(c => (Variant: c.Key, Chance: c.Value!.Value))
                .Cast<(string Variant, double Chance)?>().MaxBy(c => c!.Value.Chance);
            var leading = best is { Chance: >= 0.5 } ? best : null;
            var exposed = users + readout.MultipleExposureUsers;
            var multipleShare = exposed == 0 ? 0 : (double)readout.MultipleExposureUsers / exposed;
            var health = new DashboardHealth(readout.SrmPValue, readout.SrmPValue < 0.001, readout.MultipleExposureUsers, multipleShare, multipleShare > 0.01);
            return new DashboardExperiment(experiment.ExperimentId, experiment.Name, experiment.Status,
                experiment.Currency, start is { } s ? DateOnly.FromDateTime(s.UtcDateTime) : null,
                start is { } since ? (int)Math.Floor((now - since).TotalDays) : null, users, readout.ControlVariantId,
                [.. readout.Variants.Select(v => new DashboardVariant(v.VariantId, v.Price, v.Users, v.Conversions, v.ConversionRate, v.RevenuePerUser))],
                leading?.Variant ?? (best is null ? null : readout.ControlVariantId), leading?.Chance, health, StillNeeded(readout,
                    experiment.Variants.Count, mde, notes),
                notes, experiment.Goal)
            {
                Allocation = await AllocationAsync(experiment, readout, cancellationToken),
            };
        }
    }

    private async Task<DashboardAllocation?> AllocationAsync(Experiments.Experiment experiment, Readout readout, CancellationToken cancellationToken)
    {
        if (readout.AllocationPeriods is not { Count: > 0 } periods || experiments is not IAllocationStore store)
        {
            return null;
        }

        var versions = await store.ListWeightVersionsAsync(experiment.TenantId, experiment.ExperimentId, cancellationToken);
        var stopping = versions.Count == 0 ? null
            : versions[^1].Reasons.LastOrDefault(r => r.StartsWith("Stop:", StringComparison.Ordinal) || r.StartsWith("Not yet:", StringComparison.Ordinal));
        return new DashboardAllocation(experiment.Allocation.Mode, periods[^1].Version, periods[^1].StartsAt, periods[^1].Weights, stopping);
    }

    /// <summary>
    /// Each challenger's chance to beat the control on the experiment's goal: the readout's Beta posterior for
    /// conversions, its normal posterior of revenue per user for revenue, and for profit the same on profit per user
    /// (revenue − unit cost × units) from what the buyers paid.
    /// </summary>
    private async Task<Dictionary<string, double?>> ChancesAsync(string tenantId, Experiments.Experiment experiment, Readout readout,
        CancellationToken cancellationToken)
    {
        var challengers = readout.Variants.Where(v => v.VariantId != readout.ControlVariantId).ToList();
        switch (experiment.Goal)
        {
            case Pricing.Goal.Conversions:
                return challengers.ToDictionary(v => v.VariantId, v => v.ChanceToBeatControl);
            case Pricing.Goal.Revenue:
                return challengers.ToDictionary(v => v.VariantId, v => v.RevenueChanceToBeatControl);
        }

        var cost = (double)(experiment.UnitCost ?? 0);
        var buyers = (await lake.ExperimentBuyersAsync(tenantId, experiment.ExperimentId, readouts.Defaults.CapPercentile, cancellationToken))
            .ToDictionary(b => b.VariantId);
        (double Mean, double Variance, long Users) Profit(VariantReadout v)
        {
            if (!buyers.TryGetValue(v.VariantId, out var b) || v.Users < 2)
            {
                return (0, 0, v.Users);
            }

            var mean = (b.Revenue - (cost * b.Units)) / v.Users;
            var second = (b.RevenueSquares - (2 * cost * b.RevenueUnits) + (cost * cost * b.UnitsSquares)) / v.Users;
            return (mean, Math.Max(0, second - (mean * mean)) * v.Users / (v.Users - 1), v.Users);
        }

        var control = readout.Variants.FirstOrDefault(v => v.VariantId == readout.ControlVariantId);
        if (control is null)
        {
            return [];
        }

        var c = Profit(control);
        return challengers.ToDictionary(v => v.VariantId, v =>
        {
            var p = Profit(v);
            return p.Users < ReadoutCalculator.MinUsersPerVariant || c.Users < ReadoutCalculator.MinUsersPerVariant
                ? null
                : NormalComparison.Compare(p.Mean, p.Variance, p.Users, c.Mean, c.Variance, c.Users)?.Chance;
        });
    }

    /// <summary>Users per variant for 80% power at the control's rate (Statistics/Power), less the fewest any variant has now, times the variants.</summary>
    private static long? StillNeeded(Readout readout, int variants, double mde, List<string> notes)
    {
        var control = readout.Variants.FirstOrDefault(v => v.VariantId == readout.ControlVariantId);
        if (control?.ConversionRate is not { } rate || rate <= 0 || rate * (1 + mde) >= 1)
        {
            notes.Add("users still needed: unknown until the control has conversions");
            return null;
        }

        var arms = Math.Max(2, Math.Max(variants, readout.Variants.Count));
        var perVariant = Power.UsersPerVariant(rate, rate * (1 + mde), variants: arms);
        var fewest = readout.Variants.Count < arms ? 0 : readout.Variants.Min(v => v.Users);
        return Math.Max(0, perVariant - fewest) * arms;
    }
}
