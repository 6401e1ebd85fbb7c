using PricingOptimizer.ControlPlane;
using PricingOptimizer.Errors;
using PricingOptimizer.Events;

namespace PricingOptimizer.Experiments;

/// <summary>
/// Assignment and event checks on the cached definitions: the user's variant by the deterministic hash, the variant
/// a conversion belongs to, and whether an event fits its experiment.
/// </summary>
public sealed class ExperimentAssignments(ExperimentDefinitions definitions, ControlPlaneStatus status, IAllocationStore? allocations = null,
    TimeProvider? clock = null)
{
    /// <summary>
    /// A process remembers first assignments of adaptive experiments in 2^20 slots (about a million users, 24 MB); the
    /// users it forgets are read from the store again.
    /// </summary>
    private const int RememberedSlotsLog2 = 20;

    private static readonly TimeSpan RememberFor = TimeSpan.FromHours(1);

    private readonly TimeProvider time = clock ?? TimeProvider.System;

    private readonly FirstAssignmentBatcher? firstAssignments = allocations is null ? null : new(allocations);

    private readonly RememberedVariants firstVariants = new(clock ?? TimeProvider.System, RememberedSlotsLog2, RememberFor);

    /// <summary>The user's variant of an active experiment.</summary>
    public async Task<(Experiment Experiment, Variant Variant)> AssignAsync(string tenantId, string? experimentId, string? userId,
        CancellationToken cancellationToken)
    {
        var cached = await ResolveAsync(tenantId, experimentId, userId, cancellationToken);
        var experiment = cached.Experiment!;
        if (experiment.Status != ExperimentStatus.Active)
        {
            throw new ConflictException(
                $"only active experiments assign; '{experiment.ExperimentId}' is {ExperimentLifecycle.Name(experiment.Status)}", "experiment_id",
                experiment.Status is ExperimentStatus.Draft or ExperimentStatus.Paused ? ["start"] : []);
        }

        return (experiment, await VariantOfAsync(tenantId, cached, userId!, cancellationToken));
    }

    /// <summary>The user's variant for a conversion: the experiment may be active or paused (late buyers still count).</summary>
    public async Task<(Experiment Experiment, Variant Variant)> VariantForConversionAsync(string tenantId, string? experimentId, string? userId,
        CancellationToken cancellationToken)
    {
        var cached = await ResolveAsync(tenantId, experimentId, userId, cancellationToken);
        var experiment = cached.Experiment!;
        if (experiment.Status is not (ExperimentStatus.Active or ExperimentStatus.Paused))
        {
            throw new ConflictException(
                $"conversions are recorded for active or paused experiments; '{experiment.ExperimentId}' is " +
                    $"{ExperimentLifecycle.Name(experiment.Status)}", "experiment_id");
        }

        return (experiment, await VariantOfAsync(tenantId, cached, userId!, cancellationToken));
    }

    /// <summary>
    /// The user's variant: by the hash over the configured weights for a fixed experiment (and for an adaptive one's
    /// holdout); for an adaptive one the variant of the user's first assignment, which the hash over the weight version
    /// then in force chose and the store keeps, so a user keeps their price when the weights change. With the store
    /// down, a new user gets the variant the version in force gives, unrecorded (degraded mode).
    /// </summary>
    private async ValueTask<Variant> VariantOfAsync(string tenantId, ExperimentDefinitions.Cached cached, string userId, CancellationToken cancellationToken)
    {
        var experiment = cached.Experiment!;
        var allocation = experiment.Allocation;
        if (allocation.Mode != AllocationMode.Adaptive || allocations is null || cached.VersionAssigners.Count == 0
            || cached.HoldoutAssigner?.Assign(userId) == 0)
        {
            return experiment.Variants[cached.Assigner!.Assign(userId)];
        }

        if (firstVariants.TryGet(tenantId, experiment, userId, out var known) && known < experiment.Variants.Count)
        {
            return experiment.Variants[known];
        }

        var now = time.GetUtcNow();
        var inForce = cached.Versions.Count;
        while (inForce > 0 && cached.Versions[inForce - 1].StartsAt > now)
        {
            inForce--;
        }

        var version = inForce == 0 ? 0 : cached.Versions[inForce - 1].Version;
        var proposed = experiment.Variants[cached.VersionAssigners[inForce].Assign(userId)];
        FirstAssignment first;
        try
        {
            first = await firstAssignments!.FirstAssignmentAsync(
                new ControlPlane.FirstAssignmentRequest(tenantId, experiment.ExperimentId, userId, new FirstAssignment(proposed.VariantId, version, now)))
                .WaitAsync(cancellationToken);
        }
        catch (Exception fault) when (status.Failed(fault))
        {
            return proposed;
        }

        var variant = experiment.FindVariant(first.VariantId) ?? proposed;
        var index = 0;
        while (!ReferenceEquals(experiment.Variants[index], variant))
        {
            index++;
        }

        firstVariants.Set(tenantId, experiment, userId, index);
        return variant;
    }

    /// <summary>
    /// Checks an event against the tenant's experiment definitions (README "Events (contract v1)": the experiment must exist when the
    /// control plane knows it; one currency per experiment). Tenants the control plane does not know (development
    /// tokens) are not checked. While the store is down (degraded mode), events are checked against the last-known
    /// copies, and accepted unchecked where there is none: an event is never dropped because the control plane blinked.
    /// Returns the broken rule, or null.
    /// </summary>
    public ValueTask<EventError?> CheckEventAsync(string tenantId, PricingEvent e, CancellationToken cancellationToken) =>
        ChecksFor(tenantId).CheckAsync(e, cancellationToken);

    /// <summary>
    /// The checks of one request's events: the tenant is looked up once and each experiment once, however many events
    /// the batch holds (a batch of 1,000 events of one experiment costs two cache lookups, not 4,000).
    /// </summary>
    public EventChecks ChecksFor(string tenantId) => new(definitions, status, tenantId);

    /// <summary>The rules of <see cref="CheckEventAsync"/> over one request, remembering what it has looked up.</summary>
    public sealed class EventChecks(ExperimentDefinitions definitions, ControlPlaneStatus status, string tenantId)
    {
        private readonly Dictionary<string, Experiment?> seen = new(StringComparer.Ordinal);
        private bool? tenantKnown;
        private bool tenantLookedUp;

        /// <summary>The broken rule of <paramref name="e"/>, or null.</summary>
        public async ValueTask<EventError?> CheckAsync(PricingEvent e, CancellationToken cancellationToken)
        {
            if (!tenantLookedUp)
            {
                tenantKnown = await definitions.TenantKnownAsync(tenantId, cancellationToken);
                tenantLookedUp = true;
            }

            // Degraded mode: with the store down, a tenant without a last-known answer is accepted unchecked.
            if (tenantKnown is not true)
            {
                return null;
            }

            if (!seen.TryGetValue(e.ExperimentId, out var experiment))
            {
                if (status.RecentlyDown && !definitions.Holds(tenantId, e.ExperimentId))
                {
                    return null;
                }

                try
                {
                    experiment = (await definitions.GetAsync(tenantId, e.ExperimentId, cancellationToken, allowStale: true)).Experiment;
                }
                catch (Exception fault) when (status.Failed(fault))
                {
                    return null;
                }

                seen[e.ExperimentId] = experiment;
            }

            if (experiment is null)
            {
                return new EventError("experiment_id",
                    "is not an experiment of this tenant; create it with POST /v1/experiments (late or foreign data: po import)");
            }

            if (experiment.FindVariant(e.VariantId) is null)
            {
                return new EventError("variant_id",
                    $"is not a variant of '{experiment.ExperimentId}' ({string.Join(", ", experiment.Variants.Select(v => v.VariantId))})");
            }

            return e.Currency != experiment.Currency ? new EventError("currency",
                $"must be {experiment.Currency}, the currency of '{experiment.ExperimentId}'") : null;
        }
    }

    private async Task<ExperimentDefinitions.Cached> ResolveAsync(string tenantId, string? experimentId, string? userId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(experimentId))
        {
            throw new InvalidInputException("experiment_id is required", "experiment_id");
        }

        if (EventRules.IdProblem(userId, EventRules.MaxUserIdLength) is { } problem)
        {
            throw new InvalidInputException("user_id " + problem, "user_id");
        }

        var cached = await definitions.GetAsync(tenantId, experimentId, cancellationToken, allowStale: true);
        return cached.Experiment is null
            ? throw new NotFoundException($"no experiment '{experimentId}'", "experiment_id")
            : cached;
    }
}
