using Microsoft.Extensions.Options;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Errors;
using PricingOptimizer.Experiments;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;

namespace PricingOptimizer.Adaptive;

/// <summary>
/// What an adaptive update would do for an experiment now, from its definition and its counted users in the lake
/// (<c>po allocate</c>): the burn-in, or the weights the recommendation's posterior asks for. It proposes; the weights in
/// force are the configured ones until adaptive assignment is switched on.
/// </summary>
public sealed class AllocationService(LakeQueries lake, IExperimentStore store, IOptions<RecommendationOptions> recommendation,
    IOptions<Statistics.StatisticsOptions> statistics, CharmPricing charm, TimeProvider time)
{
    /// <exception cref="ProblemException">No such experiment in the control plane.</exception>
    public async Task<AllocationProposal> ProposeAsync(string tenantId, string experimentId, CancellationToken cancellationToken)
    {
        var experiment = await store.GetExperimentAsync(tenantId, experimentId, cancellationToken)
                         ?? throw new NotFoundException($"no experiment '{experimentId}'", "experiment_id");
        var (variants, _) = await lake.ExperimentStatsAsync(tenantId, experimentId, null, cancellationToken);
        var start = variants.Count == 0 ? null : await lake.ExperimentStartAsync(tenantId, experimentId, cancellationToken);
        var allocation = experiment.Allocation;
        var request = new RecommendationRequest(allocation.Goal, allocation.UnitCost, experiment.ControlVariant.VariantId,
            CapPercentile: statistics.Value.RevenueCapPercentile);
        var counted = experiment.Variants.Select(v => variants.FirstOrDefault(s => s.VariantId == v.VariantId)).OfType<VariantStats>().ToList();
        IReadOnlyList<BuyerSums>? buyers = null;
        if (allocation.Mode == AllocationMode.Adaptive && allocation.Goal != Goal.Conversions && counted.Count > 0)
        {
            var all = await lake.ExperimentBuyersAsync(tenantId, experimentId, request.CapPercentile, cancellationToken, null);
            buyers = [.. counted.Select(v => all.FirstOrDefault(b => b.VariantId == v.VariantId) ?? BuyerSums.From(v))];
        }

        return AllocationPlanner.Plan(experiment, counted, start, time.GetUtcNow(), null,
            () => counted.Count == experiment.Variants.Count ? new Recommender(recommendation.Value, charm).ValueDraws(counted, request, buyers) : null);
    }
}
