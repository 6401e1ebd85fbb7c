using PricingOptimizer.ControlPlane;
using PricingOptimizer.Experiments;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Analytics;

/// <summary>
/// The experiments of a lake read alone, without a control plane: each experiment with events, its variants and prices
/// as its users saw them, equal weights (as the readout assumes when it knows none), the variant named "control" else
/// the first by id as the control (the readout's own default), active since its first assign. Read-only: a lake alone
/// has nowhere to keep a definition, so writes throw.
/// </summary>
public sealed class LakeExperimentCatalog(LakeQueries lake) : IExperimentStore
{
    /// <summary>Each experiment's currency, read once: the event contract gives an experiment one currency, and finding it scans its events.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Tenant, string Experiment), string> currencies = new();

    public async Task<Experiment?> GetExperimentAsync(string tenantId, string experimentId, CancellationToken cancellationToken)
    {
        var (stats, _) = await lake.ExperimentStatsAsync(tenantId, experimentId, cancellationToken);
        if (stats.Count == 0)
        {
            return null;
        }

        var control = stats.FirstOrDefault(v => v.VariantId == "control") ?? stats.OrderBy(v => v.VariantId, StringComparer.Ordinal).First();
        var start = await lake.ExperimentStartAsync(tenantId, experimentId, cancellationToken) ?? DateTimeOffset.UnixEpoch;
        if (!currencies.TryGetValue((tenantId, experimentId), out var currency))
        {
            currency = await lake.ExperimentCurrencyAsync(tenantId, experimentId, cancellationToken) ?? "";
            currencies[(tenantId, experimentId)] = currency;
        }

        return new Experiment(tenantId, experimentId, experimentId, currency, ExperimentStatus.Active,
            [.. stats.OrderBy(v => v.VariantId, StringComparer.Ordinal).Select(v => new Variant(v.VariantId, v.Price, 1.0, v == control))], start, start);
    }

    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(string tenantId, CancellationToken cancellationToken)
    {
        var result = new List<Experiment>();
        foreach (var (experimentId, _, _, _) in await lake.ExperimentsAsync(tenantId, DateOnly.MinValue, DateOnly.MaxValue, cancellationToken))
        {
            if (await GetExperimentAsync(tenantId, experimentId, cancellationToken) is { } experiment)
            {
                result.Add(experiment);
            }
        }

        return result;
    }

    public Task<bool> InsertExperimentAsync(Experiment experiment, CancellationToken cancellationToken) => throw ReadOnly();

    public Task<bool> UpdateExperimentAsync(Experiment experiment, long expectedVersion, CancellationToken cancellationToken) => throw ReadOnly();

    public Task<bool> DeleteExperimentAsync(string tenantId, string experimentId, long expectedVersion,
        CancellationToken cancellationToken) => throw ReadOnly();

    private static NotSupportedException ReadOnly() =>
        new("a lake read alone has no control plane to keep experiment definitions in; define experiments through the API or po");
}
