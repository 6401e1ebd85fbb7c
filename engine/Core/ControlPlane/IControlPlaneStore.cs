namespace PricingOptimizer.ControlPlane;

/// <summary>
/// The control plane's relational store, one small interface per aggregate (tenants and keys, provider keys,
/// experiments, usage counts, billing settings and dead letters) so each service depends on what it uses. SQLite by
/// default, PostgreSQL when configured: each implementation keeps one aggregate's SQL in a file of its own, and one
/// contract suite runs against both.
/// </summary>
public interface IControlPlaneStore : ITenantStore, IProviderKeyStore, IExperimentStore, IUsageStore, IBillingStore, IAllocationStore
{
    /// <summary>One round trip to the store: false (or an exception) when it cannot answer now.</summary>
    Task<bool> IsReachableAsync(CancellationToken cancellationToken);
}

/// <summary>Tenants, their plans and their API keys.</summary>
public interface ITenantStore
{
    Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken);

    Task<Tenant?> GetTenantAsync(string tenantId, CancellationToken cancellationToken);

    Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken cancellationToken);

    /// <summary>Changes the plan; false when there is no such tenant.</summary>
    Task<bool> SetPlanAsync(string tenantId, string plan, CancellationToken cancellationToken);

    Task AddApiKeyAsync(ApiKeyInfo key, byte[] hash, CancellationToken cancellationToken);

    /// <summary>The key whose hash is <paramref name="hash"/>, revoked or not; null when none.</summary>
    Task<ApiKeyInfo?> FindApiKeyAsync(byte[] hash, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string tenantId, CancellationToken cancellationToken);

    /// <summary>Revokes the tenant's key with <paramref name="prefix"/>; false when the tenant has no such live key.</summary>
    Task<bool> RevokeApiKeyAsync(string tenantId, string prefix, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>Tenants' sealed provider keys (BYOK).</summary>
public interface IProviderKeyStore
{
    /// <summary>Inserts or replaces the tenant's key for the provider.</summary>
    Task SaveProviderKeyAsync(SealedProviderKey key, CancellationToken cancellationToken);

    Task<SealedProviderKey?> GetProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken);

    /// <summary>The tenant's keys, or every tenant's when <paramref name="tenantId"/> is null (rotation).</summary>
    Task<IReadOnlyList<SealedProviderKey>> ListProviderKeysAsync(string? tenantId, CancellationToken cancellationToken);

    Task<bool> DeleteProviderKeyAsync(string tenantId, string provider, CancellationToken cancellationToken);
}

/// <summary>Experiment definitions, each write conditional on the stored version.</summary>
public interface IExperimentStore
{
    /// <summary>Inserts; false when the tenant already has an experiment with that id.</summary>
    Task<bool> InsertExperimentAsync(Experiments.Experiment experiment, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the stored experiment with <paramref name="experiment"/> (whose <c>Version</c> is the new one) only if
    /// the stored version is still <paramref name="expectedVersion"/>; false when it is not (changed or deleted meanwhile).
    /// </summary>
    Task<bool> UpdateExperimentAsync(Experiments.Experiment experiment, long expectedVersion, CancellationToken cancellationToken);

    Task<Experiments.Experiment?> GetExperimentAsync(string tenantId, string experimentId, CancellationToken cancellationToken);

    Task<IReadOnlyList<Experiments.Experiment>> ListExperimentsAsync(string tenantId, CancellationToken cancellationToken);

    /// <summary>Deletes the experiment only if its stored version is still <paramref name="expectedVersion"/>.</summary>
    Task<bool> DeleteExperimentAsync(string tenantId, string experimentId, long expectedVersion, CancellationToken cancellationToken);
}

/// <summary>Adaptive experiments: their weight versions, and each user's first assignment, which the user keeps.</summary>
public interface IAllocationStore
{
    /// <summary>Adds a weight version; false when the experiment has that version number already (another process updated first).</summary>
    Task<bool> AddWeightVersionAsync(Experiments.WeightVersion version, CancellationToken cancellationToken);

    /// <summary>The experiment's weight versions, oldest first.</summary>
    Task<IReadOnlyList<Experiments.WeightVersion>> ListWeightVersionsAsync(string tenantId, string experimentId, CancellationToken cancellationToken);

    /// <summary>
    /// Each user's first assignment, in the order asked. With <paramref name="recordNew"/> a request's
    /// <see cref="FirstAssignmentRequest.IfNew"/> is recorded when its user has none (the first request wins when one
    /// user is asked twice) and every answer is the recorded one; users already recorded are only read, the new ones
    /// written in one transaction. Without it nothing is written and a user with none gets null.
    /// </summary>
    Task<IReadOnlyList<Experiments.FirstAssignment?>> FirstAssignmentsAsync(IReadOnlyList<FirstAssignmentRequest> requests, bool recordNew,
        CancellationToken cancellationToken);
}

/// <summary>One user's first assignment asked of <see cref="IAllocationStore.FirstAssignmentsAsync"/>.</summary>
public sealed record FirstAssignmentRequest(string TenantId, string ExperimentId, string UserId, Experiments.FirstAssignment IfNew);

/// <summary>API calls per tenant and day.</summary>
public interface IUsageStore
{
    /// <summary>Adds API calls to the per-tenant, per-day counters (additive, so several processes can flush).</summary>
    Task AddApiCallsAsync(IReadOnlyCollection<ApiCallCount> counts, CancellationToken cancellationToken);

    /// <summary>The tenant's API calls per day from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    Task<IReadOnlyList<ApiCallDay>> GetApiCallsAsync(string tenantId, DateOnly from, DateOnly to, CancellationToken cancellationToken);
}

/// <summary>Each tenant's billing adapter and the dead letters billing gave up on.</summary>
public interface IBillingStore
{
    /// <summary>Sets (or replaces) the tenant's billing adapter.</summary>
    Task SetBillingAsync(Billing.BillingSettings settings, CancellationToken cancellationToken);

    Task<Billing.BillingSettings?> GetBillingAsync(string tenantId, CancellationToken cancellationToken);

    /// <summary>Removes the tenant's billing adapter; false when none was set.</summary>
    Task<bool> DeleteBillingAsync(string tenantId, CancellationToken cancellationToken);

    /// <summary>Parks items that failed for good.</summary>
    Task AddDeadLettersAsync(IReadOnlyCollection<Billing.DeadLetter> letters, CancellationToken cancellationToken);

    /// <summary>How many dead letters every tenant has, for the operator's metrics.</summary>
    Task<long> CountDeadLettersAsync(CancellationToken cancellationToken);

    /// <summary>The tenant's dead letters, newest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<Billing.DeadLetter>> ListDeadLettersAsync(string tenantId, int limit, CancellationToken cancellationToken);
}
