using System.Collections.Concurrent;
using System.Net;
using PricingOptimizer.Caching;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.Client;

/// <summary>
/// Experiment definitions as the SDK assigns from them: each fetched once and kept for the shorter of
/// <see cref="PricingOptimizerClientOptions.ExperimentCacheTime"/> and the API's <c>Cache-Control: max-age</c>, with the
/// server's assignment hash over its weights. A copy past its time stays as the last-known one (its control's price
/// is what a fallback shows). A fetch that failed is not tried again for <see cref="PricingOptimizerClientOptions.ExperimentCacheTime"/>:
/// until then asking again fails at once with the same error, so an API that is down costs a checkout nothing. Callers
/// asking for the same experiment at once share one fetch.
/// </summary>
internal sealed class ExperimentDefinitions(ApiConnection api, PricingOptimizerClientOptions options) : IDisposable
{
    /// <summary>The most definitions kept; beyond it the least used are fetched again.</summary>
    private const int MaxDefinitions = 10_000;

    private readonly TimedCache<string, Definition> cache = new(options.Time, MaxDefinitions, keepLastKnown: true);
    private readonly TimedCache<string, FetchFailure> failures = new(options.Time, MaxDefinitions);
    private readonly ConcurrentDictionary<string, Lazy<Task<Definition>>> fetching = new(StringComparer.Ordinal);

    /// <exception cref="HttpRequestException">
    /// The experiment could not be fetched (unknown id, no access, the API unreachable), now or within the last
    /// <see cref="PricingOptimizerClientOptions.ExperimentCacheTime"/>; the status says which.
    /// </exception>
    public Task<Definition> GetAsync(string experimentId, CancellationToken cancellationToken)
    {
        if (cache.TryGetFresh(experimentId, out var cached))
        {
            return Task.FromResult(cached);
        }

        if (failures.TryGetFresh(experimentId, out var failure))
        {
            return Task.FromException<Definition>(new HttpRequestException(failure.Message, null, failure.Status));
        }

        // One fetch per experiment at a time; it is not cancelled by one caller giving up, so it still fills the cache.
        var shared = fetching.GetOrAdd(experimentId, id => new Lazy<Task<Definition>>(() => FetchAsync(id)));
        return shared.Value.WaitAsync(cancellationToken);
    }

    /// <summary>The last definition fetched, however old (for a fallback's control price).</summary>
    public bool TryGetLastKnown(string experimentId, out Definition definition) => cache.TryGetLastKnown(experimentId, out definition);

    /// <summary>Answers <paramref name="experimentId"/> with this failure, without asking the API, until the cache time has passed.</summary>
    public void RememberFailure(string experimentId, string message, HttpStatusCode? status) =>
        failures.Set(experimentId, new FetchFailure(message, status), options.ExperimentCacheTime);

    public void Dispose()
    {
        cache.Dispose();
        failures.Dispose();
    }

    private async Task<Definition> FetchAsync(string experimentId)
    {
        try
        {
            var (experiment, response) = await api.GetAsync<ExperimentDto>("v1/experiments/" + Uri.EscapeDataString(experimentId), CancellationToken.None);
            using (response)
            {
                var definition = new Definition(experiment, new VariantAssigner(experimentId, [.. experiment.Variants.Select(v => v.Weight)]));
                var keep = response.Headers.CacheControl?.MaxAge is { } maxAge && maxAge < options.ExperimentCacheTime ? maxAge : options.ExperimentCacheTime;
                cache.Set(experimentId, definition, keep);
                return definition;
            }
        }
        catch (HttpRequestException e)
        {
            RememberFailure(experimentId, e.Message, e.StatusCode);
            throw;
        }
        finally
        {
            fetching.TryRemove(experimentId, out _);
        }
    }

    private sealed record FetchFailure(string Message, HttpStatusCode? Status);

    internal sealed record Definition(ExperimentDto Experiment, VariantAssigner Assigner);

    internal sealed record VariantDto(string VariantId, decimal Price, double Weight, bool Control);

    internal sealed record ExperimentDto(string ExperimentId, string Currency, string Status, List<VariantDto> Variants, AllocationDto? Allocation = null,
        DateTimeOffset? CreatedAt = null)
    {
        /// <summary>Adaptive weights change over time and each user keeps their first variant: only the API can say which.</summary>
        public bool Adaptive => Allocation?.Mode == "adaptive";

        /// <summary>The control (the first variant when none is marked).</summary>
        public VariantDto? Control => Variants.Find(v => v.Control) ?? Variants.FirstOrDefault();
    }

    internal sealed record AllocationDto(string Mode);
}
