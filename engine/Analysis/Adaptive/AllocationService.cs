using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Errors;
using PricingOptimizer.Experiments;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;

namespace PricingOptimizer.Adaptive;

/// <summary>
/// What an adaptive update would do for an experiment now, from its definition and its counted users in the lake
/// (<c>po allocate</c>): the burn-in, or the weights the recommendation's posterior asks for; <see cref="UpdateAsync"/>
/// stores them as the next weight version, which assignment uses for users seen from then on.
/// </summary>
public sealed class AllocationService(LakeQueries lake, IExperimentStore store, IAllocationStore allocations, IOptions<RecommendationOptions> recommendation,
    IOptions<Statistics.StatisticsOptions> statistics, CharmPricing charm, TimeProvider time)
{
    /// <summary>The outcome of <see cref="UpdateAsync"/>: the proposal, and the version stored (null when nothing was stored, with why).</summary>
    public sealed record UpdateResult(AllocationProposal Proposal, WeightVersion? Stored, string Outcome);

    /// <summary>The experiment's weight versions, oldest first.</summary>
    public Task<IReadOnlyList<WeightVersion>> VersionsAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
        allocations.ListWeightVersionsAsync(tenantId, experimentId, cancellationToken);

    /// <summary>
    /// One update: the proposal from the weights in force, stored as the next version when it is an update and the
    /// cadence since the last version has passed (or <paramref name="force"/>). Two processes updating at once store
    /// one version: the second finds the number taken and stores nothing.
    /// </summary>
    /// <exception cref="ProblemException">No such experiment, or not an active one.</exception>
    public async Task<UpdateResult> UpdateAsync(string tenantId, string experimentId, bool force, CancellationToken cancellationToken)
    {
        var experiment = await store.GetExperimentAsync(tenantId, experimentId, cancellationToken)
                         ?? throw new NotFoundException($"no experiment '{experimentId}'", "experiment_id");
        if (experiment.Status != ExperimentStatus.Active)
        {
            throw new ConflictException($"only an active experiment's weights are updated; '{experimentId}' is {ExperimentLifecycle.Name(experiment.Status)}",
                "experiment_id");
        }

        var versions = await allocations.ListWeightVersionsAsync(tenantId, experimentId, cancellationToken);
        var latest = versions.Count == 0 ? null : versions[^1];
        var proposal = await ProposeAsync(tenantId, experimentId, cancellationToken, latest?.Weights);
        if (proposal.State != "update")
        {
            return new UpdateResult(proposal, null, $"nothing stored: {proposal.State.Replace('_', ' ')}");
        }

        var now = time.GetUtcNow();
        if (!force && latest is not null && now < latest.StartsAt + experiment.Allocation.Cadence)
        {
            return new UpdateResult(proposal, null, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"nothing stored: version {latest.Version} is in force until {latest.StartsAt + experiment.Allocation.Cadence:u} (one cadence)"));
        }

        var next = new WeightVersion(tenantId, experimentId, (latest?.Version ?? 0) + 1, now, proposal.Weights, proposal.Reasons);
        return await allocations.AddWeightVersionAsync(next, cancellationToken)
            ? new UpdateResult(proposal, next, $"stored version {next.Version}")
            : new UpdateResult(proposal, null, $"nothing stored: another process stored version {next.Version} first");
    }

    /// <exception cref="ProblemException">No such experiment in the control plane.</exception>
    public async Task<AllocationProposal> ProposeAsync(string tenantId, string experimentId, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, double>? current = null)
    {
        var experiment = await store.GetExperimentAsync(tenantId, experimentId, cancellationToken)
                         ?? throw new NotFoundException($"no experiment '{experimentId}'", "experiment_id");
        var allocation = experiment.Allocation;
        // Only users whose window has closed feed an update: their conversions are all in.
        var window = allocation.AttributionDays is { } days ? new Attribution(days, MatureOnly: true) : null;
        var (variants, _) = await lake.ExperimentStatsAsync(tenantId, experimentId, window, cancellationToken);
        var start = variants.Count == 0 ? null : await lake.ExperimentStartAsync(tenantId, experimentId, cancellationToken);
        var request = new RecommendationRequest(allocation.Goal, allocation.UnitCost, experiment.ControlVariant.VariantId,
            CapPercentile: statistics.Value.RevenueCapPercentile);
        var counted = experiment.Variants.Select(v => variants.FirstOrDefault(s => s.VariantId == v.VariantId)).OfType<VariantStats>().ToList();
        IReadOnlyList<BuyerSums>? buyers = null;
        Statistics.PeriodSplit? split = null;
        if (allocation.Mode == AllocationMode.Adaptive && counted.Count > 0)
        {
            if (allocation.Goal != Goal.Conversions)
            {
                var all = await lake.ExperimentBuyersAsync(tenantId, experimentId, request.CapPercentile, cancellationToken, window);
                buyers = [.. counted.Select(v => all.FirstOrDefault(b => b.VariantId == v.VariantId) ?? BuyerSums.From(v))];
            }

            split = await Statistics.PeriodSplit.LoadAsync(lake, allocations, experiment, request.CapPercentile, window, cancellationToken);
        }

        if (current is null && allocation.Mode == AllocationMode.Adaptive)
        {
            var versions = await allocations.ListWeightVersionsAsync(tenantId, experimentId, cancellationToken);
            current = versions.Count == 0 ? null : versions[^1].Weights;
        }

        // Under changing weights the demand fit takes each price's stratified counts (README "Adaptive allocation").
        var fitted = split is { Stratify: true } ? Statistics.Stratified.Effective(split.Estimates) : counted;
        if (buyers is not null && split is { Stratify: true })
        {
            buyers = Statistics.Stratified.EffectiveBuyers(buyers, fitted);
        }

        var safeguards = split is null ? null
            : new Safeguards(split.SampleRatioPValue, Statistics.Stratified.Drift(split.Cells, [.. experiment.Variants.Select(v => v.VariantId)]));
        return AllocationPlanner.Plan(experiment, counted, start, time.GetUtcNow(), current,
            () => counted.Count == experiment.Variants.Count && fitted.Count == counted.Count
                ? new Recommender(recommendation.Value, charm).ValueDraws(fitted, request, buyers) : null,
            safeguards, experiment.Currency);
    }
}
