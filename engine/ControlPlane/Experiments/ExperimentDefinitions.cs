using PricingOptimizer.Caching;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Experiments;

/// <summary>
/// The experiment definitions and tenants a process assigns and checks events against: copies kept for
/// <see cref="CacheTime"/>, dropped at once when another process announces a change (PostgreSQL's NOTIFY), and kept
/// as the last-known ones while the control plane is down (degraded mode).
/// </summary>
public sealed class ExperimentDefinitions
{
    /// <summary>The most experiment and tenant copies a process keeps; beyond it the least used are dropped and read again.</summary>
    private const int MaxCached = 100_000;

    private static readonly TimeSpan TenantCacheTime = TimeSpan.FromSeconds(30);

    private readonly IExperimentStore store;
    private readonly IAllocationStore? allocations;
    private readonly ITenantStore tenants;
    private readonly ControlPlaneStatus status;
    private readonly TimedCache<(string Tenant, string Experiment), Cached> cache;

    /// <summary>Whether the control plane knows a tenant (development tokens name tenants it does not).</summary>
    private readonly TimedCache<string, bool> knownTenants;

    public ExperimentDefinitions(IExperimentStore store, ITenantStore tenants, TimeProvider time, ControlPlaneStatus status,
        ControlPlaneChanges? changes = null, IAllocationStore? allocations = null)
    {
        this.store = store;
        this.allocations = allocations;
        this.tenants = tenants;
        this.status = status;
        cache = new(time, MaxCached, keepLastKnown: true);
        knownTenants = new(time, MaxCached, keepLastKnown: true);
        if (changes is not null)
        {
            changes.Changed += OnChanged;
        }
    }

    /// <summary>
    /// How long a process trusts its cached copy of an experiment another process may have changed: a pause takes
    /// effect everywhere within this bound. <c>GET /v1/experiments/{id}</c> announces it as <c>max-age</c>, so SDKs
    /// that cache definitions keep the same bound.
    /// </summary>
    public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An experiment (null: none by that id) with the assignment hash over its weights and, when it is adaptive, its
    /// weight versions (oldest first) with a hash over each; the first hash is version 0, the burn-in's equal split.
    /// </summary>
    public sealed record Cached(Experiment? Experiment, VariantAssigner? Assigner)
    {
        public IReadOnlyList<WeightVersion> Versions { get; init; } = [];

        public IReadOnlyList<VariantAssigner> VersionAssigners { get; init; } = [];

        /// <summary>The holdout's own hash (share, rest), so a fixed share of users stays on the configured weights; null without a holdout.</summary>
        public VariantAssigner? HoldoutAssigner { get; init; }
    }

    /// <summary>
    /// Whether the control plane knows the tenant: from the copy when fresh, else from the store; with the store down, the
    /// last-known answer, or null when there is none (degraded mode: the caller accepts what it cannot check).
    /// </summary>
    public async Task<bool?> TenantKnownAsync(string tenantId, CancellationToken cancellationToken)
    {
        var known = knownTenants.TryGet(tenantId, out var tenantKnown, out var fresh);
        if (!known && status.RecentlyDown)
        {
            return null;
        }

        if (!fresh && !status.RecentlyDown)
        {
            try
            {
                tenantKnown = await tenants.GetTenantAsync(tenantId, cancellationToken) is not null;
                knownTenants.Set(tenantId, tenantKnown, TenantCacheTime);
            }
            catch (Exception fault) when (status.Failed(fault))
            {
                if (!known)
                {
                    return null;
                }
            }
        }

        return tenantKnown;
    }

    /// <summary>Whether a copy of the experiment is held, fresh or not.</summary>
    public bool Holds(string tenantId, string experimentId) => cache.Contains((tenantId, experimentId));

    /// <summary>Another process changed the control plane: drop the cached copies it names.</summary>
    private void OnChanged(ControlPlaneChange change)
    {
        switch (change.Kind)
        {
            case ControlPlaneChangeKind.Experiment:
                Forget(change.TenantId!, change.ExperimentId!);
                break;
            case ControlPlaneChangeKind.Tenant:
                knownTenants.Remove(change.TenantId!);
                break;
            default:
                // Changes may have been missed (the listener lost its connection): every copy is out of date, but stays
                // as the last-known one for degraded mode while the store is down.
                cache.MarkAllStale();
                knownTenants.MarkAllStale();

                break;
        }
    }

    /// <summary>
    /// The experiment from the cache, or from the store when the copy is older than <see cref="CacheTime"/>. With
    /// <paramref name="allowStale"/>, a store outage falls back to the last-known copy (degraded mode: assignment and
    /// event checks go on; a change made meanwhile counts once the store answers again).
    /// </summary>
    public async Task<Cached> GetAsync(string tenantId, string experimentId, CancellationToken cancellationToken, bool allowStale = false)
    {
        var had = cache.TryGet((tenantId, experimentId), out var cached, out var fresh);
        var lastKnown = cached;
        if (had && fresh)
        {
            return cached;
        }

        if (had && allowStale && status.RecentlyDown)
        {
            return cached;
        }

        Experiment? experiment;
        try
        {
            experiment = await store.GetExperimentAsync(tenantId, experimentId, cancellationToken);
        }
        catch (Exception fault) when (status.Failed(fault) && had && allowStale)
        {
            return cached;
        }

        cached = new Cached(experiment, experiment is null ? null : new VariantAssigner(experiment.ExperimentId,
            experiment.Variants.Select(v => v.Weight).ToList()));
        if (experiment is { Allocation.Mode: AllocationMode.Adaptive } && allocations is not null)
        {
            IReadOnlyList<WeightVersion> versions;
            try
            {
                versions = await allocations.ListWeightVersionsAsync(tenantId, experimentId, cancellationToken);
            }
            catch (Exception fault) when (status.Failed(fault) && had && allowStale)
            {
                return lastKnown;
            }

            cached = cached with
            {
                Versions = versions,
                VersionAssigners =
                [
                    new VariantAssigner(experiment.ExperimentId, WeightVersion.AssignmentWeights(experiment, null)),
                    .. versions.Select(v => new VariantAssigner(experiment.ExperimentId, WeightVersion.AssignmentWeights(experiment, v))),
                ],
                HoldoutAssigner = experiment.Allocation.Holdout > 0
                    ? new VariantAssigner(experiment.ExperimentId + "#holdout", [experiment.Allocation.Holdout, 1 - experiment.Allocation.Holdout])
                    : null,
            };
        }

        cache.Set((tenantId, experimentId), cached, CacheTime);
        return cached;
    }

    /// <summary>Drops the copy (after a write here).</summary>
    public void Forget(string tenantId, string experimentId) => cache.Remove((tenantId, experimentId));
}
