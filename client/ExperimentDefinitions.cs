using PricingOptimizer.Caching;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.Client;

/// <summary>
/// Experiment definitions as the SDK assigns from them: each fetched once and kept for the shorter of
/// <see cref="PricingOptimizerClientOptions.ExperimentCacheTime"/> and the API's <c>Cache-Control: max-age</c>, with the
/// server's assignment hash over its weights.
/// </summary>
internal sealed class ExperimentDefinitions(ApiConnection api, PricingOptimizerClientOptions options) : IDisposable
{
    /// <summary>The most definitions kept; beyond it the least used are fetched again.</summary>
    private const int MaxDefinitions = 10_000;

    private readonly TimedCache<string, Definition> cache = new(options.Time, MaxDefinitions);

    /// <exception cref="HttpRequestException">The experiment could not be fetched (unknown id, no access, the API unreachable).</exception>
    public async Task<Definition> GetAsync(string experimentId, CancellationToken cancellationToken)
    {
        if (cache.TryGetFresh(experimentId, out var cached))
        {
            return cached;
        }

        var (experiment, response) = await api.GetAsync<ExperimentDto>("v1/experiments/" + Uri.EscapeDataString(experimentId), cancellationToken);
        using (response)
        {
            var definition = new Definition(experiment, new VariantAssigner(experimentId, [.. experiment.Variants.Select(v => v.Weight)]));
            var keep = response.Headers.CacheControl?.MaxAge is { } maxAge && maxAge < options.ExperimentCacheTime ? maxAge : options.ExperimentCacheTime;
            cache.Set(experimentId, definition, keep);
            return definition;
        }
    }

    public void Dispose() => cache.Dispose();

    internal sealed record Definition(ExperimentDto Experiment, VariantAssigner Assigner);

    internal sealed record VariantDto(string VariantId, decimal Price, double Weight, bool Control);

    internal sealed record ExperimentDto(string ExperimentId, string Currency, string Status, List<VariantDto> Variants, AllocationDto? Allocation = null,
        DateTimeOffset? CreatedAt = null)
    {
        /// <summary>Adaptive weights change over time and each user keeps their first variant: only the API can say which.</summary>
        public bool Adaptive => Allocation?.Mode == "adaptive";
    }

    internal sealed record AllocationDto(string Mode);
}
