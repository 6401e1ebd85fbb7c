using PricingOptimizer.Errors;
using System.Security.Cryptography;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Events;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Experiments;

/// <summary>Experiments as the API changes them: create, replace, delete and move through the lifecycle, each a
/// conditional write on the stored version.</summary>
public sealed class ExperimentService(IExperimentStore store, ITenantStore tenants, ExperimentDefinitions definitions, TimeProvider time)
{
    public Task<IReadOnlyList<Experiment>> ListAsync(string tenantId, CancellationToken cancellationToken) =>
        store.ListExperimentsAsync(tenantId, cancellationToken);

    public async Task<Experiment> GetAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
        await store.GetExperimentAsync(tenantId, experimentId, cancellationToken)
        ?? throw new NotFoundException($"no experiment '{experimentId}'");

    public async Task<Experiment> CreateAsync(string tenantId, ExperimentRequest request, CancellationToken cancellationToken)
    {
        var id = request.ExperimentId ?? "exp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        ExperimentRules.CheckId(id, "experiment_id");
        if (await tenants.GetTenantAsync(tenantId, cancellationToken) is null)
        {
            throw new NotFoundException(
                $"tenant '{tenantId}' is not in the control plane (a development token?); create it with POST /v1/admin/tenants");
        }

        var now = time.GetUtcNow();
        var (goal, unitCost) = ExperimentRules.CheckGoal(request.Goal, request.UnitCost, null);
        var variants = ExperimentRules.CheckVariants(request.Variants);
        var allocation = ExperimentRules.CheckAllocation(request.Allocation, Allocation.FixedFor(goal, unitCost), variants.Count, goal,
            unitCost);
        var experiment = new Experiment(tenantId, id, ExperimentRules.CheckName(request.Name), ExperimentRules.CheckCurrency(request.Currency),
            ExperimentStatus.Draft, variants, now, now) { Goal = goal, UnitCost = unitCost, Allocation = allocation };
        if (!await store.InsertExperimentAsync(experiment, cancellationToken))
        {
            throw new ConflictException($"an experiment '{id}' exists already", "experiment_id");
        }

        return experiment;
    }

    /// <summary>
    /// Changes the name and goal anytime, variants, currency and allocation only in draft. <paramref name="ifMatch"/> is the request's
    /// <c>If-Match</c>: when given, the change is made only to that version (else 412).
    /// </summary>
    public Task<Experiment> ReplaceAsync(string tenantId, string experimentId, ExperimentRequest request, string? ifMatch, CancellationToken cancellationToken)
    {
        if (request.ExperimentId is not null && request.ExperimentId != experimentId)
        {
            throw new InvalidInputException("experiment_id cannot change", "experiment_id");
        }

        var variants = request.Variants is null ? null : ExperimentRules.CheckVariants(request.Variants);
        var currency = request.Currency is null ? null : ExperimentRules.CheckCurrency(request.Currency);
        var name = request.Name is null ? null : ExperimentRules.CheckName(request.Name);
        return ChangeAsync(tenantId, experimentId, ifMatch, current =>
        {
            var newVariants = variants ?? current.Variants;
            var newCurrency = currency ?? current.Currency;
            if (current.Status != ExperimentStatus.Draft && (!newVariants.SequenceEqual(current.Variants) || newCurrency != current.Currency))
            {
                throw new ConflictException(
                    $"variants and currency can change only in draft; this experiment is {Name(current.Status)}", "variants");
            }

            var (goal, unitCost) = request.Goal is null && request.UnitCost is null
                ? (current.Goal, current.UnitCost)
                : ExperimentRules.CheckGoal(request.Goal, request.UnitCost, current);
            var allocation = ExperimentRules.CheckAllocation(request.Allocation, current.Allocation, newVariants.Count, goal, unitCost);
            if (current.Status != ExperimentStatus.Draft && allocation != current.Allocation)
            {
                throw new ConflictException(
                    $"the allocation can change only in draft; this experiment is {Name(current.Status)}", "allocation");
            }

            return current with
            {
                Name = name ?? current.Name, Currency = newCurrency, Variants = newVariants, Goal = goal, UnitCost = unitCost, Allocation = allocation,
            };
        }, cancellationToken);
    }

    /// <summary>Deletes a draft or completed experiment; with <paramref name="ifMatch"/> only that version (else 412).</summary>
    public async Task DeleteAsync(string tenantId, string experimentId, string? ifMatch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetAsync(tenantId, experimentId, cancellationToken);
            CheckPrecondition(current, ifMatch);
            if (current.Status is ExperimentStatus.Active or ExperimentStatus.Paused)
            {
                throw new ConflictException($"an {Name(current.Status)} experiment cannot be deleted; complete it first", allowed: ["complete"]);
            }

            if (await store.DeleteExperimentAsync(tenantId, experimentId, current.Version, cancellationToken))
            {
                definitions.Forget(tenantId, experimentId);
                return;
            }

            LostRace(ifMatch, attempt, experimentId);
        }
    }

    /// <summary>
    /// Moves the experiment by <paramref name="action"/> (start, pause, complete); an illegal move names the allowed
    /// ones. With <paramref name="ifMatch"/> only that version is moved (else 412).
    /// </summary>
    public Task<Experiment> MoveAsync(string tenantId, string experimentId, string action, string? ifMatch, CancellationToken cancellationToken)
    {
        ExperimentLifecycle.EnsureAction(action);
        return ChangeAsync(tenantId, experimentId, ifMatch, current => current with { Status = ExperimentLifecycle.Next(action, current.Status) },
            cancellationToken);
    }

    /// <summary>
    /// Read, check, conditional write: <paramref name="change"/> is judged against the stored version and written only
    /// if that version is still the stored one. Without If-Match a lost race is decided again on the new state (so
    /// a concurrent pause and complete end as one 200 and one 409, never two 200s of which one is lost); with
    /// If-Match it is 412.
    /// </summary>
    private async Task<Experiment> ChangeAsync(string tenantId, string experimentId, string? ifMatch, Func<Experiment, Experiment> change,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetAsync(tenantId, experimentId, cancellationToken);
            CheckPrecondition(current, ifMatch);
            var updated = change(current) with { UpdatedAt = time.GetUtcNow(), Version = current.Version + 1 };
            if (await store.UpdateExperimentAsync(updated, current.Version, cancellationToken))
            {
                definitions.Forget(tenantId, experimentId);
                return updated;
            }

            LostRace(ifMatch, attempt, experimentId);
        }
    }

    private const int MaxWriteAttempts = 50;

    /// <exception cref="PreconditionFailedException">The request's If-Match names another version.</exception>
    private static void CheckPrecondition(Experiment current, string? ifMatch)
    {
        if (ifMatch is null || ifMatch.Trim() == "*")
        {
            return;
        }

        var tags = ifMatch.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.StartsWith("W/", StringComparison.Ordinal) ? t[2..] : t);
        if (!tags.Contains(current.ETag, StringComparer.Ordinal))
        {
            throw new PreconditionFailedException(
                $"If-Match {ifMatch} is not the current version {current.ETag}: the experiment changed since it was read; GET it again", current.ETag);
        }
    }

    /// <exception cref="PreconditionFailedException">The version the request named changed between the read and the write.</exception>
    /// <exception cref="UnavailableException">Writers kept winning for <see cref="MaxWriteAttempts"/> tries.</exception>
    private static void LostRace(string? ifMatch, int attempt, string experimentId)
    {
        if (ifMatch is not null && ifMatch.Trim() != "*")
        {
            throw new PreconditionFailedException($"experiment '{experimentId}' changed while this request was applied; GET it again", null);
        }

        if (attempt >= MaxWriteAttempts)
        {
            throw new UnavailableException($"experiment '{experimentId}' is being changed by many requests at once; retry") { RetryAfter = TimeSpan.FromSeconds(1) };
        }
    }

    private static string Name(ExperimentStatus status) => ExperimentLifecycle.Name(status);
}
