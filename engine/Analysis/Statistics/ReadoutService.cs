using PricingOptimizer.Errors;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Statistics;

/// <summary>Readouts of experiments: sufficient statistics from the lake, the control and weights from the control
/// plane when it knows the experiment; an adaptive experiment's figures stratified by allocation period (its weight
/// versions from <paramref name="allocations"/>, else from the store when it keeps them too).</summary>
public sealed class ReadoutService(LakeQueries lake, IExperimentStore store, StatisticsOptions? defaults = null, IAllocationStore? allocations = null)
{
    private readonly IAllocationStore? allocations = allocations ?? store as IAllocationStore;

    /// <summary>The readout with the configured defaults (<c>Statistics:*</c>).</summary>
    public Task<Readout> GetAsync(string tenantId, string experimentId, string? controlVariantId, CancellationToken cancellationToken) =>
        GetAsync(tenantId, experimentId, controlVariantId, null, cancellationToken);

    /// <summary>The options a readout takes when the caller names none: the configured defaults.</summary>
    public ReadoutOptions Defaults => (defaults ?? new StatisticsOptions()).Defaults;

    /// <exception cref="Errors.ProblemException">Unknown experiment (no definition and no data), an unknown control, or bad options.</exception>
    public async Task<Readout> GetAsync(string tenantId, string experimentId, string? controlVariantId, ReadoutOptions? options,
        CancellationToken cancellationToken)
    {
        options ??= Defaults;
        if (options.Problem() is { } problem)
        {
            throw problem;
        }

        var definition = await store.GetExperimentAsync(tenantId, experimentId, cancellationToken);
        var (stats, multiple, moments) = await lake.ExperimentReadoutStatsAsync(tenantId, experimentId, options.CapPercentile, cancellationToken,
            options.Window);
        if (definition is null && stats.Count == 0 && multiple == 0)
        {
            throw new NotFoundException($"no experiment '{experimentId}' (neither defined nor in the lake)", "experiment_id");
        }

        var control = controlVariantId ?? definition?.ControlVariant.VariantId;
        if (control is not null && stats.Count > 0 && stats.All(s => s.VariantId != control))
        {
            throw new InvalidInputException(
                $"control '{control}' has no users; variants with users: {string.Join(", ", stats.Select(s => s.VariantId))}", "control");
        }

        var weights = definition?.Variants.ToDictionary(v => v.VariantId, v => v.Weight);
        var readout = ReadoutCalculator.Compute(tenantId, experimentId, stats, multiple, control, weights, moments, options);
        if (await PeriodSplit.LoadAsync(lake, allocations, definition, options.CapPercentile, options.Window, cancellationToken) is { } split)
        {
            readout = split.Stratify
                ? Stratified.Apply(readout, split.Estimates, split.SampleRatioPValue, split.Periods)
                : readout with { SrmPValue = split.SampleRatioPValue, AllocationPeriods = split.Periods };
        }

        return readout with
        {
            AttributionDays = options.AttributionDays,
            MatureOnly = options.AttributionDays is not null && options.MatureOnly,
            Notes = [.. readout.Notes, .. QuarantineNotes(lake.QuarantinedFiles(tenantId))],
        };
    }

    /// <summary>A note naming the tenant's lake files that could not be read: their events are missing from every figure.</summary>
    public static IEnumerable<string> QuarantineNotes(IReadOnlyList<QuarantinedFile> files)
    {
        if (files.Count == 0)
        {
            yield break;
        }

        var named = string.Join(", ", files.Take(3).Select(f => Path.GetFileName(Path.GetDirectoryName(f.OriginalPath)) + "/" + Path.GetFileName(f.OriginalPath)));
        yield return $"{files.Count} lake file(s) of this tenant could not be read and were moved to quarantine ({named}{(files.Count > 3 ? ", …" : "")}): "
            + "their events are not counted until the files are repaired and moved back";
    }
}
