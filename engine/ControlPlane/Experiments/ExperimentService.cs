using PricingOptimizer.Errors;
using PricingOptimizer.Caching;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Events;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Experiments;

/// <summary>Experiments: validation, lifecycle, and deterministic assignment from a short-lived cache.</summary>
public sealed partial class ExperimentService
{
    private readonly IExperimentStore store;
    private readonly ITenantStore tenants;
    private readonly TimeProvider time;

    private readonly ControlPlaneStatus status;

    public ExperimentService(IExperimentStore store, ITenantStore tenants, TimeProvider time, ControlPlaneChanges? changes = null,
        ControlPlaneStatus? status = null)
    {
        this.store = store;
        this.tenants = tenants;
        this.time = time;
        this.status = status ?? new ControlPlaneStatus(time);
        cache = new(time, MaxCachedExperiments, keepLastKnown: true);
        knownTenants = new(time, MaxCachedExperiments, keepLastKnown: true);
        if (changes is not null)
        {
            changes.Changed += OnChanged;
        }
    }

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
    /// How long a process trusts its cached copy of an experiment another process may have changed: a pause takes
    /// effect everywhere within this bound. <c>GET /v1/experiments/{id}</c> announces it as <c>max-age</c>, so SDKs
    /// that cache definitions keep the same bound.
    /// </summary>
    public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(5);

    /// <summary>The most experiment copies a process keeps; beyond it the least used are dropped and read again.</summary>
    private const int MaxCachedExperiments = 100_000;

    private readonly TimedCache<(string Tenant, string Experiment), Cached> cache;

    private sealed record Cached(Experiment? Experiment, VariantAssigner? Assigner);

    public Task<IReadOnlyList<Experiment>> ListAsync(string tenantId, CancellationToken cancellationToken) =>
        store.ListExperimentsAsync(tenantId, cancellationToken);

    public async Task<Experiment> GetAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
        await store.GetExperimentAsync(tenantId, experimentId, cancellationToken)
        ?? throw new NotFoundException($"no experiment '{experimentId}'");

    public async Task<Experiment> CreateAsync(string tenantId, ExperimentRequest request, CancellationToken cancellationToken)
    {
        var id = request.ExperimentId ?? "exp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        CheckId(id, "experiment_id");
        if (await tenants.GetTenantAsync(tenantId, cancellationToken) is null)
        {
            throw new NotFoundException(
                $"tenant '{tenantId}' is not in the control plane (a development token?); create it with POST /v1/admin/tenants");
        }

        var now = time.GetUtcNow();
        var (goal, unitCost) = CheckGoal(request.Goal, request.UnitCost, null);
        var experiment = new Experiment(tenantId, id, CheckName(request.Name), CheckCurrency(request.Currency), ExperimentStatus.Draft,
            CheckVariants(request.Variants), now, now) { Goal = goal, UnitCost = unitCost };
        if (!await store.InsertExperimentAsync(experiment, cancellationToken))
        {
            throw new ConflictException($"an experiment '{id}' exists already", "experiment_id");
        }

        return experiment;
    }

    /// <summary>
    /// Changes the name anytime, variants and currency only in draft. <paramref name="ifMatch"/> is the request's
    /// <c>If-Match</c>: when given, the change is made only to that version (else 412).
    /// </summary>
    public Task<Experiment> ReplaceAsync(string tenantId, string experimentId, ExperimentRequest request, string? ifMatch, CancellationToken cancellationToken)
    {
        if (request.ExperimentId is not null && request.ExperimentId != experimentId)
        {
            throw new InvalidInputException("experiment_id cannot change", "experiment_id");
        }

        var variants = request.Variants is null ? null : CheckVariants(request.Variants);
        var currency = request.Currency is null ? null : CheckCurrency(request.Currency);
        var name = request.Name is null ? null : CheckName(request.Name);
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
                : CheckGoal(request.Goal, request.UnitCost, current);
            return current with { Name = name ?? current.Name, Currency = newCurrency, Variants = newVariants, Goal = goal, UnitCost = unitCost };
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
                Forget(tenantId, experimentId);
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
                Forget(tenantId, experimentId);
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

    /// <summary>The user's variant of an active experiment.</summary>
    public async Task<(Experiment Experiment, Variant Variant)> AssignAsync(string tenantId, string? experimentId, string? userId,
        CancellationToken cancellationToken)
    {
        var (experiment, assigner) = await ResolveAsync(tenantId, experimentId, userId, cancellationToken);
        if (experiment.Status != ExperimentStatus.Active)
        {
            throw new ConflictException(
                $"only active experiments assign; '{experiment.ExperimentId}' is {Name(experiment.Status)}", "experiment_id",
                experiment.Status is ExperimentStatus.Draft or ExperimentStatus.Paused ? ["start"] : []);
        }

        return (experiment, experiment.Variants[assigner.Assign(userId!)]);
    }

    /// <summary>The user's variant for a conversion: the experiment may be active or paused (late buyers still count).</summary>
    public async Task<(Experiment Experiment, Variant Variant)> VariantForConversionAsync(string tenantId, string? experimentId, string? userId,
        CancellationToken cancellationToken)
    {
        var (experiment, assigner) = await ResolveAsync(tenantId, experimentId, userId, cancellationToken);
        if (experiment.Status is not (ExperimentStatus.Active or ExperimentStatus.Paused))
        {
            throw new ConflictException(
                $"conversions are recorded for active or paused experiments; '{experiment.ExperimentId}' is {Name(experiment.Status)}", "experiment_id");
        }

        return (experiment, experiment.Variants[assigner.Assign(userId!)]);
    }

    private static readonly TimeSpan TenantCacheTime = TimeSpan.FromSeconds(30);

    /// <summary>Whether the control plane knows a tenant (development tokens name tenants it does not).</summary>
    private readonly TimedCache<string, bool> knownTenants;

    /// <summary>
    /// Checks an event against the tenant's experiment definitions (DESIGN.md: the experiment must exist when the
    /// control plane knows it; one currency per experiment). Tenants the control plane does not know (development
    /// tokens) are not checked. While the store is down (degraded mode), events are checked against the last-known
    /// copies, and accepted unchecked where there is none: an event is never dropped because the control plane blinked.
    /// Returns the broken rule, or null.
    /// </summary>
    public async Task<EventError?> CheckEventAsync(string tenantId, PricingEvent e, CancellationToken cancellationToken)
    {
        var known = knownTenants.TryGetLastKnown(tenantId, out var tenantKnown);
        // Degraded mode: with the store down a moment ago, a known tenant keeps its last-known answer.
        if (!known && status.RecentlyDown)
        {
            return null;
        }

        if (!knownTenants.TryGetFresh(tenantId, out _) && !status.RecentlyDown)
        {
            try
            {
                tenantKnown = await tenants.GetTenantAsync(tenantId, cancellationToken) is not null;
                knownTenants.Set(tenantId, tenantKnown, TenantCacheTime);
            }
            catch (Exception fault) when (status.Failed(fault))
            {
                // Degraded mode: the event is checked against the last-known copy, or, with none, accepted as the contract allows.
                if (!known)
                {
                    return null;
                }
            }
        }

        if (!tenantKnown)
        {
            return null;
        }

        if (status.RecentlyDown && !cache.Contains((tenantId, e.ExperimentId)))
        {
            return null;
        }

        Cached cached;
        try
        {
            cached = await CachedAsync(tenantId, e.ExperimentId, cancellationToken, allowStale: true);
        }
        catch (Exception fault) when (status.Failed(fault))
        {
            return null;
        }

        var experiment = cached.Experiment;
        if (experiment is null)
        {
            return new EventError("experiment_id", "is not an experiment of this tenant; create it with POST /v1/experiments (late or foreign data: po import)");
        }

        if (experiment.FindVariant(e.VariantId) is null)
        {
            return new EventError("variant_id", $"is not a variant of '{experiment.ExperimentId}' ({string.Join(", ", experiment.Variants.Select(v => v.VariantId))})");
        }

        return e.Currency != experiment.Currency ? new EventError("currency", $"must be {experiment.Currency}, the currency of '{experiment.ExperimentId}'") : null;
    }

    private async Task<(Experiment, VariantAssigner)> ResolveAsync(string tenantId, string? experimentId, string? userId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(experimentId))
        {
            throw new InvalidInputException("experiment_id is required", "experiment_id");
        }

        if (EventRules.IdProblem(userId, EventRules.MaxUserIdLength) is { } problem)
        {
            throw new InvalidInputException("user_id " + problem, "user_id");
        }

        var cached = await CachedAsync(tenantId, experimentId, cancellationToken, allowStale: true);
        return cached.Experiment is null
            ? throw new NotFoundException($"no experiment '{experimentId}'", "experiment_id")
            : (cached.Experiment, cached.Assigner!);
    }

    /// <summary>
    /// The experiment from the cache, or from the store when the copy is older than <see cref="CacheTime"/>. With
    /// <paramref name="allowStale"/>, a store outage falls back to the last-known copy (degraded mode: assignment and
    /// event checks go on; a change made meanwhile counts once the store answers again).
    /// </summary>
    private async Task<Cached> CachedAsync(string tenantId, string experimentId, CancellationToken cancellationToken, bool allowStale = false)
    {
        if (cache.TryGetFresh((tenantId, experimentId), out var cached))
        {
            return cached;
        }

        var had = cache.TryGetLastKnown((tenantId, experimentId), out cached);
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

        cached = new Cached(experiment, experiment is null ? null : new VariantAssigner(experiment.ExperimentId, experiment.Variants.Select(v => v.Weight).ToList()));
        cache.Set((tenantId, experimentId), cached, CacheTime);
        return cached;
    }

    private void Forget(string tenantId, string experimentId) => cache.Remove((tenantId, experimentId));

    private static string Name(ExperimentStatus status) => ExperimentLifecycle.Name(status);

    private static void CheckId(string id, string field)
    {
        if (!IdPattern().IsMatch(id))
        {
            throw new InvalidInputException($"{field} must be 1-128 characters of letters, digits, '.', '_' or '-'", field);
        }
    }

    private static string CheckName(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Length > 200
            ? throw new InvalidInputException("name is required, at most 200 characters", "name")
            : name.Trim();

    /// <summary>The goal and unit cost a request sets (each absent one kept from <paramref name="current"/>, else the defaults).</summary>
    private static (Pricing.Goal Goal, decimal? UnitCost) CheckGoal(string? goalText, decimal? unitCost, Experiment? current)
    {
        var goal = current?.Goal ?? Pricing.Goal.Revenue;
        if (goalText is not null && !Pricing.Goals.TryParse(goalText, out goal))
        {
            throw new InvalidInputException($"goal '{goalText}' is not one of revenue, profit, conversions", "goal");
        }

        var cost = unitCost ?? current?.UnitCost;
        return (goal, cost) switch
        {
            (_, < 0) => throw new InvalidInputException("unit_cost must not be negative", "unit_cost"),
            (Pricing.Goal.Profit, null) => throw new InvalidInputException("the profit goal needs a unit_cost", "unit_cost"),
            (Pricing.Goal.Profit, _) => (goal, cost),
            _ => (goal, cost),
        };
    }

    private static string CheckCurrency(string? currency) =>
        currency is not null && Currencies.IsIso4217(currency)
            ? currency
            : throw new InvalidInputException("currency must be an ISO 4217 code in upper case, e.g. USD", "currency");

    /// <summary>The most variants an experiment may have: more cannot each reach a useful sample.</summary>
    public const int MaxVariants = 100;

    /// <summary>Weights are relative shares; bounding them keeps their sum and each share exact in the assignment.</summary>
    public const double MinWeight = 0.001;

    public const double MaxWeight = 1_000_000;

    private static List<Variant> CheckVariants(List<VariantRequest>? requests)
    {
        if (requests is null || requests.Count < 2)
        {
            throw new InvalidInputException("an experiment needs at least two variants", "variants");
        }

        if (requests.Count > MaxVariants)
        {
            throw new InvalidInputException($"an experiment has at most {MaxVariants} variants; this one has {requests.Count}", "variants");
        }

        var variants = new List<Variant>();
        for (var i = 0; i < requests.Count; i++)
        {
            var field = $"variants[{i}]";
            var r = requests[i] ?? throw new InvalidInputException("each variant must be an object {variant_id, price, weight?, control?}", field);
            CheckId(r.VariantId ?? "", field + ".variant_id");
            if (r.Price is not { } price || price < 0 || decimal.Round(price, EventRules.MoneyScale) != price || price > EventRules.MaxMoney)
            {
                throw new InvalidInputException($"price must be >= 0 with at most {EventRules.MoneyScale} decimal places", field + ".price");
            }

            var weight = r.Weight ?? 1.0;
            if (!(weight >= MinWeight && weight <= MaxWeight))
            {
                throw new InvalidInputException($"weight must be a number from {MinWeight} to {MaxWeight:N0} (weights are relative shares)", field + ".weight");
            }

            variants.Add(new Variant(r.VariantId!, price, weight, r.Control));
        }

        if (variants.Select(v => v.VariantId).Distinct().Count() != variants.Count)
        {
            throw new InvalidInputException("variant ids must be unique", "variants");
        }

        if (variants.Count(v => v.Control) != 1)
        {
            throw new InvalidInputException("exactly one variant must be the control", "variants");
        }

        return variants;
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex IdPattern();
}
