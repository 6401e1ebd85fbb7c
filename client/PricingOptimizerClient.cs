using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.Client;

/// <summary>Settings of <see cref="PricingOptimizerClient"/>.</summary>
public sealed class PricingOptimizerClientOptions
{
    /// <summary>The API's address, e.g. <c>https://pricing.example.com/</c>.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The tenant's API key (<c>po_…</c>); exchanged for a token, renewed before it expires.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>Most events per <c>POST /v1/events</c>.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How long an event may wait for a batch to fill (on the machine's clock; <c>FlushAsync</c> sends at once).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest a fetched experiment definition is used before it is fetched again. The API's <c>Cache-Control:
    /// max-age</c> shortens it to the bound its own caches keep, so a paused experiment stops being assigned here
    /// no later than on the server.
    /// </summary>
    public TimeSpan ExperimentCacheTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most tries of one request (the first send and its retries); at least 1.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>Longest one request may take with all its tries and waits; then its events are reported through <c>Failed</c>.</summary>
    public TimeSpan MaxSendTime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Longest one try may take; <c>null</c> leaves it to the HttpClient's own timeout.</summary>
    public TimeSpan? AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Base of the exponential, jittered wait between tries, unless the API sends Retry-After.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest backoff wait between tries (a Retry-After from the API is honoured as sent).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock of caches, token renewal and retry waits.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>How long disposing waits to send what is queued.</summary>
    public TimeSpan DisposeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The variant a user sees.</summary>
public sealed record Assignment(string ExperimentId, string UserId, string VariantId, decimal Price, string Currency);

/// <summary>An event the API refused for good (a 4xx other than 408 and 429), with the field and the reason.</summary>
public sealed record Rejection(string EventId, string Field, string Reason);

/// <summary>An event not delivered: every try failed (network, timeout, 429, 5xx) within the attempt and time bounds.</summary>
public sealed record DeliveryFailure(string EventId, string Reason);

/// <summary>
/// The SDK for customer apps. <see cref="AssignAsync"/> computes the variant locally — the server's own hash over a
/// cached experiment definition, no round trip — and records the assign; <see cref="TrackConversionAsync"/> records a
/// purchase. Events are queued and sent in the background in batches. A failed send (network, timeout, 408, 429, 5xx)
/// is retried with the same event ids, so the API counts each event once: at most
/// <see cref="PricingOptimizerClientOptions.MaxAttempts"/> tries within
/// <see cref="PricingOptimizerClientOptions.MaxSendTime"/>, waiting as Retry-After says or else with jittered
/// exponential backoff; then the events are reported through <see cref="Failed"/>. A refusal (any other 4xx) is final
/// and reported through <see cref="Rejected"/>. <see cref="FlushAsync"/> and disposing send what is queued.
/// </summary>
public sealed class PricingOptimizerClient : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    private static readonly ResiliencePropertyKey<DateTimeOffset> Deadline = new("po.deadline");
    private readonly PricingOptimizerClientOptions options;
    private readonly TimeProvider time;
    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly ResiliencePipeline<HttpResponseMessage> pipeline;
    private readonly Channel<EventDto> queue = Channel.CreateUnbounded<EventDto>();
    private readonly Dictionary<string, (ExperimentDto Experiment, VariantAssigner Assigner, DateTimeOffset Until)> experiments = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim tokenLock = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private readonly Task sender;
    private readonly object pendingLock = new();
    private long pending;
    private TaskCompletionSource idle = NewIdle(completed: true);
    private TaskCompletionSource flushing = NewIdle(completed: false);
    private string? token;
    private DateTimeOffset tokenUntil;
    private long sent;
    private long retries;

    /// <exception cref="ArgumentException">A missing address or key, or a bound out of range.</exception>
    public PricingOptimizerClient(PricingOptimizerClientOptions options, HttpClient? http = null)
    {
        this.options = options;
        if (string.IsNullOrEmpty(options.ApiKey))
        {
            throw new ArgumentException("set ApiKey", nameof(options));
        }

        if (options.MaxAttempts < 1 || options.MaxSendTime <= TimeSpan.Zero || options.AttemptTimeout <= TimeSpan.Zero || options.RetryDelay < TimeSpan.Zero
            || options.MaxRetryDelay < options.RetryDelay || options.BatchSize < 1 || options.ExperimentCacheTime < TimeSpan.Zero)
        {
            throw new ArgumentException("MaxAttempts and BatchSize must be at least 1, MaxSendTime and AttemptTimeout positive, 0 <= RetryDelay <= MaxRetryDelay",
                nameof(options));
        }

        time = options.Time;
        if (http is null)
        {
            this.http = new HttpClient { BaseAddress = options.BaseAddress ?? throw new ArgumentException("set BaseAddress", nameof(options)) };
            ownsHttp = true;
        }
        else
        {
            this.http = http;
        }

        pipeline = BuildPipeline();
        sender = Task.Run(SendLoopAsync);
    }

    /// <summary>Events the API refused for good (for example a price with more than four decimals, or a refused key).</summary>
    public event Action<Rejection>? Rejected;

    /// <summary>Events not delivered within the bounds of the retries (the API or the network kept failing).</summary>
    public event Action<DeliveryFailure>? Failed;

    /// <summary>Events the API has accepted so far.</summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Tries that failed and were made again.</summary>
    public long Retries => Interlocked.Read(ref retries);

    /// <summary>The user's variant, computed locally; the assign is queued (one assign event per user and experiment).</summary>
    /// <exception cref="InvalidOperationException">The experiment is not active.</exception>
    /// <exception cref="HttpRequestException">The experiment could not be fetched (unknown id, no access, the API unreachable).</exception>
    public async Task<Assignment> AssignAsync(string experimentId, string userId, CancellationToken cancellationToken = default)
    {
        var (experiment, assigner) = await ExperimentAsync(experimentId, cancellationToken);
        if (experiment.Status != "active")
        {
            throw new InvalidOperationException($"experiment '{experimentId}' is {experiment.Status}, not active: nothing to assign");
        }

        var variant = experiment.Variants[assigner.Assign(userId)];
        Enqueue(new EventDto(VariantAssigner.AssignEventId(experimentId, userId), "assign", experimentId, variant.VariantId, userId, variant.Price, null,
            experiment.Currency, Rfc3339(time.GetUtcNow())));
        return new Assignment(experimentId, userId, variant.VariantId, variant.Price, experiment.Currency);
    }

    /// <summary>
    /// Queues a purchase by <paramref name="userId"/>, attributed to the variant the user is assigned. Give the
    /// order's id as <paramref name="eventId"/> so a resend is not a second purchase; a new id is made otherwise.
    /// </summary>
    /// <exception cref="HttpRequestException">The experiment could not be fetched (unknown id, no access, the API unreachable).</exception>
    public async Task<string> TrackConversionAsync(string experimentId, string userId, string? eventId = null, decimal? revenue = null,
        DateTimeOffset? occurredAt = null, CancellationToken cancellationToken = default)
    {
        var (experiment, assigner) = await ExperimentAsync(experimentId, cancellationToken);
        var variant = experiment.Variants[assigner.Assign(userId)];
        var id = eventId ?? "c-" + Guid.NewGuid().ToString("N");
        Enqueue(new EventDto(id, "convert", experimentId, variant.VariantId, userId, variant.Price, revenue, experiment.Currency,
            Rfc3339(occurredAt ?? time.GetUtcNow())));
        return id;
    }

    /// <summary>Waits until every event queued so far has been accepted, refused or given up on.</summary>
    /// <exception cref="InvalidOperationException">The background sender stopped on an unexpected error (the inner exception).</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Task wait;
        lock (pendingLock)
        {
            wait = idle.Task;
            if (pending > 0)
            {
                flushing.TrySetResult(); // send now, without waiting for the flush interval
            }
        }

        if (await Task.WhenAny(wait, sender).WaitAsync(cancellationToken) == sender && !wait.IsCompleted)
        {
            throw new InvalidOperationException("the client's background sender stopped; queued events were not sent", sender.Exception?.InnerException);
        }
    }

    /// <summary>Sends what is queued (up to <see cref="PricingOptimizerClientOptions.DisposeTimeout"/>), then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        try
        {
            await sender.WaitAsync(options.DisposeTimeout);
        }
        catch (TimeoutException)
        {
            await stopping.CancelAsync();
        }

        try
        {
            await sender;
        }
        catch (OperationCanceledException)
        {
            // stopped with events unsent: they were never acknowledged, and the next process may send them again
        }

        stopping.Dispose();
        tokenLock.Dispose();
        if (ownsHttp)
        {
            http.Dispose();
        }
    }

    private static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            source.SetResult();
        }

        return source;
    }

    /// <summary>Transient: no answer, or an answer that may change on its own (408, 429, 5xx).</summary>
    private static bool Transient(HttpStatusCode? status) => status is null or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>
    /// The bounds of every request: a total time (<see cref="PricingOptimizerClientOptions.MaxSendTime"/>) around
    /// at most <see cref="PricingOptimizerClientOptions.MaxAttempts"/> tries, each within
    /// <see cref="PricingOptimizerClientOptions.AttemptTimeout"/>. A 401 is retried once with a new token.
    /// </summary>
    private ResiliencePipeline<HttpResponseMessage> BuildPipeline()
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddTimeout(options.MaxSendTime);
        if (options.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.AttemptNumber, args.Context)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response) : null),
                OnRetry = args =>
                {
                    Interlocked.Increment(ref retries);
                    if (args.Outcome.Result?.StatusCode == HttpStatusCode.Unauthorized)
                    {
                        tokenUntil = DateTimeOffset.MinValue; // renew, then try again
                    }

                    return default;
                },
            });
        }

        if (options.AttemptTimeout is { } attempt)
        {
            builder.AddTimeout(attempt);
        }

        return builder.Build();
    }

    private bool ShouldRetry(Outcome<HttpResponseMessage> outcome, int attemptNumber, ResilienceContext context) => outcome switch
    {
        { Exception: HttpRequestException e } => Transient(e.StatusCode),
        { Exception: TimeoutRejectedException } => true, // one try took too long
        { Exception: OperationCanceledException } => !context.CancellationToken.IsCancellationRequested, // the HttpClient's own timeout
        { Exception: not null } => false,
        { Result.StatusCode: HttpStatusCode.Unauthorized } => attemptNumber == 0,
        { Result: { } response } when Transient(response.StatusCode) =>
            // Waiting longer than the time left would only end in the total timeout: give up now instead.
            RetryAfter(response) is not { } wait || time.GetUtcNow() + wait <= context.Properties.GetValue(Deadline, DateTimeOffset.MaxValue),
        _ => false,
    };

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date > time.GetUtcNow() ? date - time.GetUtcNow() : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>Runs <paramref name="send"/> within the bounds of <see cref="pipeline"/>; the outcome is the last try's, or why it gave up.</summary>
    private async Task<Outcome<HttpResponseMessage>> SendBoundedAsync(Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(Deadline, time.GetUtcNow() + options.MaxSendTime);
            return await pipeline.ExecuteOutcomeAsync(static async (ctx, send) =>
            {
                try
                {
                    return Outcome.FromResult(await send(ctx.CancellationToken));
                }
                catch (Exception e)
                {
                    return Outcome.FromException<HttpResponseMessage>(e);
                }
            }, context, send);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private void Enqueue(EventDto e)
    {
        lock (pendingLock)
        {
            if (pending++ == 0)
            {
                idle = NewIdle(completed: false);
            }
        }

        if (!queue.Writer.TryWrite(e))
        {
            Done(1);
            throw new ObjectDisposedException(nameof(PricingOptimizerClient), "the client is disposed: events can no longer be queued");
        }
    }

    private void Done(int count)
    {
        lock (pendingLock)
        {
            pending -= count;
            if (pending == 0)
            {
                idle.TrySetResult();
                if (flushing.Task.IsCompleted)
                {
                    flushing = NewIdle(completed: false);
                }
            }
        }
    }

    private async Task SendLoopAsync()
    {
        var batch = new List<EventDto>(options.BatchSize);
        while (await queue.Reader.WaitToReadAsync(stopping.Token))
        {
            using (var window = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token))
            {
                window.CancelAfter(options.FlushInterval);
                try
                {
                    // Fill the batch until it is full, the flush interval is over, or someone waits in FlushAsync.
                    while (true)
                    {
                        while (batch.Count < options.BatchSize && queue.Reader.TryRead(out var e))
                        {
                            batch.Add(e);
                        }

                        Task flush;
                        lock (pendingLock)
                        {
                            flush = flushing.Task;
                        }

                        if (flush.IsCompleted)
                        {
                            // Everything queued before the flush is in the queue now: take it along.
                            while (batch.Count < options.BatchSize && queue.Reader.TryRead(out var e))
                            {
                                batch.Add(e);
                            }

                            break;
                        }

                        if (batch.Count >= options.BatchSize)
                        {
                            break;
                        }

                        // Either wakes the loop; a flush is then seen above, after one more drain.
                        var more = queue.Reader.WaitToReadAsync(window.Token).AsTask();
                        if (await Task.WhenAny(more, flush) == more && !await more)
                        {
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                {
                    // the flush interval is over: send what there is
                }
            }

            if (batch.Count > 0)
            {
                await SendAsync(batch);
                Done(batch.Count);
                batch.Clear();
            }
        }
    }

    /// <summary>
    /// Posts one batch until the API answers for it or the bounds are spent; retries keep the batch (and so the event
    /// ids) as it was. Every event ends sent, rejected or failed.
    /// </summary>
    private async Task SendAsync(List<EventDto> batch)
    {
        var tries = 0;
        var started = time.GetUtcNow();
        var outcome = await SendBoundedAsync(async ct =>
        {
            Interlocked.Increment(ref tries);
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/events") { Content = JsonContent.Create(new { events = batch }, options: Json) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(ct));
            return await http.SendAsync(request, ct);
        }, stopping.Token);

        string GaveUp(string why) => $"not delivered after {tries} {(tries == 1 ? "try" : "tries")} in {(time.GetUtcNow() - started).TotalSeconds:0.#} s: {why}";
        using var response = outcome.Result;
        switch (outcome.Exception)
        {
            case OperationCanceledException when stopping.IsCancellationRequested:
                throw outcome.Exception; // disposing gave up waiting: the events were never acknowledged
            case HttpRequestException { StatusCode: { } status } when !Transient(status):
                Reject(batch, "Authorization", $"the API refused the client's key ({(int)status})"); // the token request
                return;
            case TimeoutRejectedException e:
                Fail(batch, GaveUp($"no answer within {e.Timeout.TotalSeconds:0.###} s"));
                return;
            case { } e:
                Fail(batch, GaveUp(e.Message));
                return;
        }

        if (response!.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.BadRequest)
        {
            var refused = await RefusedAsync(response, batch);
            foreach (var r in refused)
            {
                Rejected?.Invoke(r);
            }

            Interlocked.Add(ref sent, batch.Count - refused.Count);
        }
        else if (Transient(response.StatusCode))
        {
            var wait = RetryAfter(response) is { } after ? $", asked to wait {after.TotalSeconds:0.#} s more" : "";
            Fail(batch, GaveUp($"the API answered {(int)response.StatusCode}{wait}"));
        }
        else
        {
            // 401 after a new token, 403, 413, 415: this batch can never be taken.
            Reject(batch, response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? "Authorization" : "",
                $"the API answered {(int)response.StatusCode}: {await ProblemDetailAsync(response)}");
        }
    }

    private static async Task<List<Rejection>> RefusedAsync(HttpResponseMessage response, List<EventDto> batch)
    {
        EventsAnswer? answer = null;
        try
        {
            answer = await response.Content.ReadFromJsonAsync<EventsAnswer>(Json);
        }
        catch (JsonException)
        {
            // a problem+json without a per-event list: the whole batch is refused below
        }

        var refused = (answer?.Rejected ?? [])
            .Select(r => new Rejection(r.Index >= 0 && r.Index < batch.Count ? batch[r.Index].EventId : "", r.Field ?? "", r.Reason ?? ""))
            .ToList();
        if (response.StatusCode == HttpStatusCode.BadRequest && refused.Count == 0)
        {
            var detail = answer?.Detail ?? "the API refused the batch (400)";
            refused = [.. batch.Select(e => new Rejection(e.EventId, answer?.Field ?? "", detail))];
        }

        return refused;
    }

    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response)
    {
        try
        {
            return (await response.Content.ReadFromJsonAsync<EventsAnswer>(Json))?.Detail ?? response.ReasonPhrase ?? "";
        }
        catch (JsonException)
        {
            return response.ReasonPhrase ?? "";
        }
    }

    private void Reject(List<EventDto> batch, string field, string reason)
    {
        foreach (var e in batch)
        {
            Rejected?.Invoke(new Rejection(e.EventId, field, reason));
        }
    }

    private void Fail(List<EventDto> batch, string reason)
    {
        foreach (var e in batch)
        {
            Failed?.Invoke(new DeliveryFailure(e.EventId, reason));
        }
    }

    /// <summary>
    /// The experiment's definition, cached for the shorter of <see cref="PricingOptimizerClientOptions.ExperimentCacheTime"/>
    /// and the API's max-age; fetched within the same bounds as the events.
    /// </summary>
    private async Task<(ExperimentDto, VariantAssigner)> ExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        lock (experiments)
        {
            if (experiments.TryGetValue(experimentId, out var cached) && cached.Until > time.GetUtcNow())
            {
                return (cached.Experiment, cached.Assigner);
            }
        }

        var path = "v1/experiments/" + Uri.EscapeDataString(experimentId);
        var outcome = await SendBoundedAsync(async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(ct));
            return await http.SendAsync(request, ct);
        }, cancellationToken);
        if (outcome.Exception is { } failed)
        {
            throw failed as HttpRequestException ?? (failed is OperationCanceledException && cancellationToken.IsCancellationRequested
                ? failed
                : new HttpRequestException($"GET /{path}: {failed.Message}", failed));
        }

        using var response = outcome.Result!;
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET /{path} answered {(int)response.StatusCode}: {await ProblemDetailAsync(response)}", null, response.StatusCode);
        }

        var experiment = await response.Content.ReadFromJsonAsync<ExperimentDto>(Json, cancellationToken)
                         ?? throw new HttpRequestException($"GET /{path} answered no experiment");
        var assigner = new VariantAssigner(experimentId, [.. experiment.Variants.Select(v => v.Weight)]);
        var keep = response.Headers.CacheControl?.MaxAge is { } maxAge && maxAge < options.ExperimentCacheTime ? maxAge : options.ExperimentCacheTime;
        lock (experiments)
        {
            experiments[experimentId] = (experiment, assigner, time.GetUtcNow() + keep);
        }

        return (experiment, assigner);
    }

    /// <exception cref="HttpRequestException">The token request failed; its status says whether it may pass later.</exception>
    private async Task<string> TokenAsync(CancellationToken cancellationToken)
    {
        await tokenLock.WaitAsync(cancellationToken);
        try
        {
            if (token is not null && time.GetUtcNow() < tokenUntil)
            {
                return token;
            }

            using var response = await http.PostAsJsonAsync("v1/auth/token", new { api_key = options.ApiKey }, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"POST /v1/auth/token answered {(int)response.StatusCode}: {await ProblemDetailAsync(response)}", null,
                    response.StatusCode);
            }

            var answer = await response.Content.ReadFromJsonAsync<TokenAnswer>(Json, cancellationToken) ?? throw new HttpRequestException("no token in the answer");
            token = answer.AccessToken;
            tokenUntil = time.GetUtcNow().AddSeconds(Math.Max(30, answer.ExpiresIn - 60));
            return token;
        }
        finally
        {
            tokenLock.Release();
        }
    }

    private sealed record EventDto(string EventId, string Type, string ExperimentId, string VariantId, string UserId, decimal Price, decimal? Revenue,
        string Currency, string OccurredAt);

    private sealed record VariantDto(string VariantId, decimal Price, double Weight, bool Control);

    private sealed record ExperimentDto(string ExperimentId, string Currency, string Status, List<VariantDto> Variants);

    private sealed record TokenAnswer(string AccessToken, int ExpiresIn);

    private sealed record RejectedDto(int Index, string? Field, string? Reason);

    /// <summary>The events answer, or a problem+json (detail, field).</summary>
    private sealed record EventsAnswer(int Accepted, List<RejectedDto>? Rejected, string? Detail, string? Field);
}
