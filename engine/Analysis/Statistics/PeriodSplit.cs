using PricingOptimizer.ControlPlane;
using PricingOptimizer.Experiments;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Statistics;

/// <summary>
/// An adaptive experiment's counted users split by allocation period (the weight version in force at each user's first
/// assign), the share of each variant a new user had in each period, the stratified estimates and the sample-ratio
/// p-value against those shares. <see cref="Stratify"/> says whether the weights changed while users arrived (two or
/// more periods with users): only then do figures differ from pooled ones.
/// </summary>
public sealed record PeriodSplit(IReadOnlyList<PeriodStats> Cells, IReadOnlyList<AllocationPeriod> Periods, IReadOnlyList<StratifiedVariant> Estimates,
    double? SampleRatioPValue)
{
    public bool Stratify => Periods.Count(p => p.Users > 0) >= 2;

    /// <summary>
    /// The split of an adaptive experiment; null for a fixed one (or without an allocation store), whose readout stays
    /// exactly the pooled one.
    /// </summary>
    public static async Task<PeriodSplit?> LoadAsync(LakeQueries lake, IAllocationStore? allocations, Experiment? experiment, double? capPercentile,
        Attribution? window, CancellationToken cancellationToken)
    {
        if (experiment is not { Allocation.Mode: AllocationMode.Adaptive } || allocations is null)
        {
            return null;
        }

        var versions = await allocations.ListWeightVersionsAsync(experiment.TenantId, experiment.ExperimentId, cancellationToken);
        var cells = await lake.ExperimentPeriodsAsync(experiment.TenantId, experiment.ExperimentId, [.. versions.Select(v => v.StartsAt)], capPercentile,
            cancellationToken, window);
        var ids = experiment.Variants.Select(v => v.VariantId).ToList();
        var periods = Enumerable.Range(0, versions.Count + 1).Select(p => new AllocationPeriod(p == 0 ? 0 : versions[p - 1].Version,
            p == 0 ? null : versions[p - 1].StartsAt, ids.ToDictionary(id => id, id => WeightVersion.Probability(experiment, p == 0 ? null : versions[p - 1], id), StringComparer.Ordinal),
            cells.Where(c => c.Period == p).Sum(c => c.Users))).ToList();
        var srm = Stratified.SampleRatio(cells, ids, (p, id) => periods[p].Weights.GetValueOrDefault(id));
        return new PeriodSplit(cells, periods, Stratified.Estimate(cells, ids), srm);
    }
}
