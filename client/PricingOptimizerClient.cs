using System.Globalization;
using System.Net;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.Client;

/// <summary>
/// The SDK for customer apps. <see cref="AssignAsync"/> computes the variant locally — the server's own hash over a
/// cached experiment definition, no round trip — and records the assign; <see cref="TrackConversionAsync"/> records a
/// purchase. Events are queued and sent in the background in batches. A failed send (network, timeout, 408, 429, 5xx)
/// is retried with the same event ids, so the API counts each event once: at most
/// <see cref="PricingOptimizerClientOptions.MaxAttempts"/> tries within
/// <see cref="PricingOptimizerClientOptions.MaxSendTime"/>, waiting as Retry-After says or else with jittered
/// exponential backoff; then the events are reported through <see cref="Failed"/>. A refusal (any other 4xx) is final
/// and reported through <see cref="Rejected"/>. <see cref="FlushAsync"/> and disposing send what is queued. The typed
/// reads (<see cref="GetReadoutAsync"/>, <see cref="GetRecommendationAsync"/>, <see cref="GetDashboardAsync"/>,
/// <see cref="GetUsageAsync"/>, <see cref="GetBillAsync"/>) run within the same bounds.
/// </summary>
public sealed class PricingOptimizerClient : IAsyncDisposable
{
    private readonly TimeProvider time;
    private readonly ApiConnection api;
    private readonly ExperimentDefinitions definitions;
    private readonly EventSender events;
    private readonly PricingOptimizerClientOptions options;
    private readonly int rememberedLimit;
    private readonly Dictionary<string, long> fallbacks = new(StringComparer.Ordinal);
    private readonly Caching.TimedCache<(string Experiment, string Reason), bool> loggedFallbacks;
    private readonly Dictionary<(string Experiment, DateTimeOffset? Created, string User), AssignAnswer> remembered = [];
    private readonly Queue<(string Experiment, DateTimeOffset? Created, string User)> rememberedOrder = new();

    /// <exception cref="ArgumentException">A missing address or key, or a bound out of range.</exception>
    public PricingOptimizerClient(PricingOptimizerClientOptions options, HttpClient? http = null)
    {
        if (string.IsNullOrEmpty(options.ApiKey))
        {
            throw new ArgumentException("set ApiKey", nameof(options));
        }

        if (options.MaxAttempts < 1 || options.MaxSendTime <= TimeSpan.Zero || options.AttemptTimeout <= TimeSpan.Zero || options.RetryDelay < TimeSpan.Zero
            || options.MaxRetryDelay < options.RetryDelay || options.BatchSize < 1 || options.ExperimentCacheTime < TimeSpan.Zero
            || options.RememberedAssignments < 0 || options.EvaluationTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("MaxAttempts and BatchSize must be at least 1, MaxSendTime and AttemptTimeout positive, 0 <= RetryDelay <= " +
                "MaxRetryDelay, RememberedAssignments not negative, EvaluationTimeout positive",
                nameof(options));
        }

        this.options = options;
        loggedFallbacks = new(options.Time, 1_000);
        rememberedLimit = options.RememberedAssignments;

        time = options.Time;
        api = new ApiConnection(options, http);
        definitions = new ExperimentDefinitions(api, options);
        events = new EventSender(api, options);
    }

    /// <summary>Events the API refused for good (for example a price with more than four decimals, or a refused key).</summary>
    public event Action<Rejection>? Rejected
    {
        add => events.Rejected += value;
        remove => events.Rejected -= value;
    }

    /// <summary>Events not delivered within the bounds of the retries (the API or the network kept failing).</summary>
    public event Action<DeliveryFailure>? Failed
    {
        add => events.Failed += value;
        remove => events.Failed -= value;
    }

    /// <summary>Events the API has accepted so far.</summary>
    public long Sent => events.Sent;

    /// <summary>Tries that failed and were made again.</summary>
    public long Retries => api.Retries;

    /// <summary>
    /// The price to show <paramref name="userId"/>; never throws and never waits longer than
    /// <see cref="PricingOptimizerClientOptions.EvaluationTimeout"/>. For an active experiment the user's variant,
    /// computed locally, and the assign is queued (one assign event per user and experiment); for an adaptive one the
    /// API's answer (one <c>POST /v1/assign</c>, which records the assign), remembered after. Otherwise a fallback
    /// (<see cref="Assignment.FallbackReason"/>): the control when the experiment's definition is known (paused, draft,
    /// completed, or the API unreachable after it was fetched once), else <paramref name="defaultPrice"/> — the price
    /// the checkout shows without a test. Each fallback is counted in <see cref="Fallbacks"/> and logged.
    /// </summary>
    /// <exception cref="OperationCanceledException">Only when <paramref name="cancellationToken"/> is cancelled.</exception>
    public async Task<Assignment> AssignAsync(string experimentId, string userId, decimal defaultPrice, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(experimentId) || string.IsNullOrEmpty(userId))
        {
            return Fallback(experimentId ?? "", userId ?? "", defaultPrice, FallbackReasons.InvalidArgument, "the experiment id and the user id must not be empty");
        }

        try
        {
            return await EvaluateAsync(experimentId, userId, defaultPrice, cancellationToken)
                .WaitAsync(options.EvaluationTimeout, time, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (TimeoutException)
        {
            var detail = $"no answer within {options.EvaluationTimeout.TotalMilliseconds:0} ms";
            definitions.RememberFailure(experimentId, detail, null);
            return Fallback(experimentId, userId, defaultPrice, FallbackReasons.Unreachable, detail);
        }
        catch (HttpRequestException e)
        {
            var reason = e.StatusCode switch
            {
                HttpStatusCode.NotFound => FallbackReasons.UnknownExperiment,
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => FallbackReasons.NoAccess,
                var status when ApiConnection.Transient(status) => FallbackReasons.Unreachable,
                _ => FallbackReasons.Error,
            };
            return Fallback(experimentId, userId, defaultPrice, reason, e.Message);
        }
        catch (Exception e)
        {
            return Fallback(experimentId, userId, defaultPrice, FallbackReasons.Error, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Fallbacks so far, by <see cref="FallbackReasons">reason</see>.</summary>
    public IReadOnlyDictionary<string, long> Fallbacks
    {
        get
        {
            lock (fallbacks)
            {
                return new Dictionary<string, long>(fallbacks, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>
    /// Queues a purchase by <paramref name="userId"/>, attributed to the variant the user is assigned, and returns its
    /// event id. Give the order's id as <paramref name="eventId"/> so a resend is not a second purchase; a new id is
    /// made otherwise. Never throws: when the experiment's definition cannot be had (fresh or last known) the purchase
    /// is reported through <see cref="Failed"/> and logged.
    /// </summary>
    /// <exception cref="OperationCanceledException">Only when <paramref name="cancellationToken"/> is cancelled.</exception>
    public async Task<string> TrackConversionAsync(string experimentId, string userId, string? eventId = null, decimal? revenue = null,
        DateTimeOffset? occurredAt = null, CancellationToken cancellationToken = default)
    {
        var id = eventId ?? "c-" + Guid.NewGuid().ToString("N");
        try
        {
            var (experiment, assigner) = await DefinitionAsync(experimentId, cancellationToken);
            var variant = experiment.Variants[assigner.Assign(userId)];
            if (experiment.Adaptive)
            {
                // The user's first variant, kept by the API across weight versions.
                var assigned = (await AdaptiveVariantAsync(experiment, userId, cancellationToken)).VariantId;
                variant = experiment.Variants.Find(v => v.VariantId == assigned)
                          ?? throw new HttpRequestException($"the API assigned {userId} a variant its definition of '{experimentId}' does not have");
            }

            events.Enqueue(new EventDto(id, "convert", experimentId, variant.VariantId, userId, variant.Price, revenue, experiment.Currency,
                Rfc3339(occurredAt ?? time.GetUtcNow())));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            events.ReportFailure(new DeliveryFailure(id, $"the purchase of {userId} in '{experimentId}' was not recorded: {e.Message}"));
        }

        return id;
    }

    /// <summary>Waits until every event queued so far has been accepted, refused or given up on.</summary>
    /// <exception cref="InvalidOperationException">The background sender stopped on an unexpected error (the inner exception).</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default) => events.FlushAsync(cancellationToken);

    /// <summary>The experiment's readout (<c>GET /v1/experiments/{id}/readout</c>).</summary>
    /// <exception cref="HttpRequestException">No answer within the bounds, or a refusal (its status and the API's detail).</exception>
    public Task<Readout> GetReadoutAsync(string experimentId, CancellationToken cancellationToken = default) =>
        ReadAsync<Readout>($"v1/experiments/{Uri.EscapeDataString(experimentId)}/readout", cancellationToken);

    /// <summary>
    /// The price recommendation (<c>GET /v1/experiments/{id}/recommendation</c>) on <paramref name="goal"/> (revenue,
    /// profit, conversions; null: the experiment's own), with <paramref name="unitCost"/> for profit.
    /// </summary>
    /// <exception cref="HttpRequestException">No answer within the bounds, or a refusal (its status and the API's detail).</exception>
    public Task<Recommendation> GetRecommendationAsync(string experimentId, string? goal = null, decimal? unitCost = null,
        CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (goal is not null)
        {
            query.Add("goal=" + Uri.EscapeDataString(goal));
        }

        if (unitCost is { } cost)
        {
            query.Add("unit_cost=" + cost.ToString(CultureInfo.InvariantCulture));
        }

        var path = $"v1/experiments/{Uri.EscapeDataString(experimentId)}/recommendation" + (query.Count == 0 ? "" : "?" + string.Join('&', query));
        return ReadAsync<Recommendation>(path, cancellationToken);
    }

    /// <summary>Every experiment of the tenant with its leader and health (<c>GET /v1/analytics/experiments</c>).</summary>
    /// <exception cref="HttpRequestException">No answer within the bounds, or a refusal (its status and the API's detail).</exception>
    public Task<Dashboard> GetDashboardAsync(CancellationToken cancellationToken = default) => ReadAsync<Dashboard>("v1/analytics/experiments",
        cancellationToken);

    /// <summary>The tenant's usage in <paramref name="month"/> (yyyy-MM; null: this month) (<c>GET /v1/usage</c>).</summary>
    /// <exception cref="HttpRequestException">No answer within the bounds, or a refusal (its status and the API's detail).</exception>
    public Task<Usage> GetUsageAsync(string? month = null, CancellationToken cancellationToken = default) =>
        ReadAsync<Usage>(month is null ? "v1/usage" : "v1/usage?month=" + Uri.EscapeDataString(month), cancellationToken);

    /// <summary>The tenant's bill for <paramref name="month"/> (yyyy-MM) (<c>GET /v1/billing/{month}</c>).</summary>
    /// <exception cref="HttpRequestException">No answer within the bounds, or a refusal (its status and the API's detail).</exception>
    public Task<Bill> GetBillAsync(string month, CancellationToken cancellationToken = default) =>
        ReadAsync<Bill>("v1/billing/" + Uri.EscapeDataString(month), cancellationToken);

    /// <summary>Sends what is queued (up to <see cref="PricingOptimizerClientOptions.DisposeTimeout"/>), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        await events.StopAsync();
        definitions.Dispose();
        loggedFallbacks.Dispose();
        api.Dispose();
    }

    /// <summary>
    /// The user's variant of an adaptive experiment: remembered, or asked of the API (which records the assign). A
    /// remembered answer is used only while the experiment is the same one (its creation time) and has that variant.
    /// </summary>
    private async Task<AssignAnswer> AdaptiveVariantAsync(ExperimentDefinitions.ExperimentDto experiment, string userId, CancellationToken cancellationToken)
    {
        var key = (experiment.ExperimentId, experiment.CreatedAt, userId);
        lock (remembered)
        {
            if (remembered.TryGetValue(key, out var known) && experiment.Variants.Exists(v => v.VariantId == known.VariantId))
            {
                return known;
            }
        }

        var answer = await ServerAssignAsync(experiment.ExperimentId, userId, cancellationToken);
        if (rememberedLimit > 0)
        {
            lock (remembered)
            {
                if (remembered.TryAdd(key, answer))
                {
                    rememberedOrder.Enqueue(key);
                    while (remembered.Count > rememberedLimit)
                    {
                        remembered.Remove(rememberedOrder.Dequeue());
                    }
                }
            }
        }

        return answer;
    }

    /// <summary>The user's variant of an adaptive experiment, from <c>POST /v1/assign</c> within the same bounds.</summary>
    private async Task<AssignAnswer> ServerAssignAsync(string experimentId, string userId, CancellationToken cancellationToken)
    {
        var outcome = await api.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, "v1/assign")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { experiment_id = experimentId, user_id = userId }, options: ApiConnection.Json),
        }, cancellationToken);
        if (outcome.Exception is { } failed)
        {
            throw failed as HttpRequestException ?? new HttpRequestException($"POST /v1/assign: {failed.Message}", failed);
        }

        using var response = outcome.Result!;
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST /v1/assign answered {(int)response.StatusCode}: {await ApiConnection.ProblemDetailAsync(response)}", null,
                response.StatusCode);
        }

        return await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<AssignAnswer>(response.Content, ApiConnection.Json, cancellationToken)
               ?? throw new HttpRequestException("POST /v1/assign answered nothing");
    }

    private sealed record AssignAnswer(string ExperimentId, string VariantId, decimal Price, string Currency);

    /// <summary>The assignment of an experiment the API can be asked about; throws what the fallback reports.</summary>
    private async Task<Assignment> EvaluateAsync(string experimentId, string userId, decimal defaultPrice, CancellationToken cancellationToken)
    {
        var (experiment, assigner) = await definitions.GetAsync(experimentId, cancellationToken);
        if (experiment.Status != "active")
        {
            return Fallback(experimentId, userId, defaultPrice, FallbackReasons.NotActive, $"experiment '{experimentId}' is {experiment.Status}, not active");
        }

        if (experiment.Adaptive)
        {
            // The API assigns (the user's first variant, kept across weight versions) and records the assign itself.
            var answer = await AdaptiveVariantAsync(experiment, userId, cancellationToken);
            return new Assignment(experimentId, userId, answer.VariantId, answer.Price, answer.Currency);
        }

        var variant = experiment.Variants[assigner.Assign(userId)];
        events.Enqueue(new EventDto(VariantAssigner.AssignEventId(experimentId, userId), "assign", experimentId, variant.VariantId, userId, variant.Price,
            null, experiment.Currency, Rfc3339(time.GetUtcNow())));
        return new Assignment(experimentId, userId, variant.VariantId, variant.Price, experiment.Currency);
    }

    /// <summary>The fresh definition, or else the last one fetched (a purchase is attributed by the same hash either way).</summary>
    private async Task<ExperimentDefinitions.Definition> DefinitionAsync(string experimentId, CancellationToken cancellationToken)
    {
        try
        {
            return await definitions.GetAsync(experimentId, cancellationToken);
        }
        catch (HttpRequestException e) when (ApiConnection.Transient(e.StatusCode) && definitions.TryGetLastKnown(experimentId, out var known))
        {
            return known;
        }
    }

    /// <summary>The control of the last-known definition, else the caller's default; counted and logged.</summary>
    private Assignment Fallback(string experimentId, string userId, decimal defaultPrice, string reason, string detail)
    {
        lock (fallbacks)
        {
            fallbacks[reason] = fallbacks.GetValueOrDefault(reason) + 1;
        }

        var control = experimentId.Length > 0 && definitions.TryGetLastKnown(experimentId, out var known) ? known.Experiment : null;
        // One warning per experiment and reason per cache time: an API that is down at checkout volume is one line, not thousands.
        if (options.Logger is { } logger && !loggedFallbacks.TryGetFresh((experimentId, reason), out _))
        {
            loggedFallbacks.Set((experimentId, reason), true, options.ExperimentCacheTime);
            ClientLog.Fallback(logger, experimentId, userId, reason, detail, control is null ? "the default price" : "the control");
        }

        return control?.Control is { } variant
            ? new Assignment(experimentId, userId, variant.VariantId, variant.Price, control.Currency) { FallbackReason = reason }
            : new Assignment(experimentId, userId, "", defaultPrice, "") { FallbackReason = reason };
    }

    private async Task<T> ReadAsync<T>(string path, CancellationToken cancellationToken)
    {
        var (value, response) = await api.GetAsync<T>(path, cancellationToken);
        response.Dispose();
        return value;
    }

    private static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
