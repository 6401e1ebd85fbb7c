using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
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

    /// <summary>How long an event may wait for a batch to fill.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a cached experiment definition is used before it is fetched again.</summary>
    public TimeSpan ExperimentCacheTime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>First retry delay (doubled per attempt up to <see cref="MaxRetryDelay"/>) unless the API sends Retry-After.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long disposing waits to send what is queued.</summary>
    public TimeSpan DisposeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The variant a user sees.</summary>
public sealed record Assignment(string ExperimentId, string UserId, string VariantId, decimal Price, string Currency);

/// <summary>An event the API refused for good (400), with its reason.</summary>
public sealed record Rejection(string EventId, string Field, string Reason);

/// <summary>
/// The SDK for customer apps. <see cref="AssignAsync"/> computes the variant locally — the server's own hash over a
/// cached experiment definition, no round trip — and records the assign; <see cref="TrackConversionAsync"/> records a
/// purchase. Events are queued and sent in the background in batches; a failed send (network, timeout, 429, 5xx) is
/// retried with the same event ids, so the API counts each event once; <see cref="FlushAsync"/> and disposing send
/// what is queued.
/// </summary>
public sealed class PricingOptimizerClient : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    private readonly PricingOptimizerClientOptions options;
    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly Channel<EventDto> queue = Channel.CreateUnbounded<EventDto>();
    private readonly Dictionary<string, (ExperimentDto Experiment, VariantAssigner Assigner, DateTimeOffset Until)> experiments = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim tokenLock = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private readonly Task sender;
    private readonly object pendingLock = new();
    private long pending;
    private TaskCompletionSource idle = NewIdle(completed: true);
    private string? token;
    private DateTimeOffset tokenUntil;
    private long sent;
    private long retries;

    public PricingOptimizerClient(PricingOptimizerClientOptions options, HttpClient? http = null)
    {
        this.options = options;
        if (http is null)
        {
            this.http = new HttpClient { BaseAddress = options.BaseAddress ?? throw new ArgumentException("set BaseAddress", nameof(options)) };
            ownsHttp = true;
        }
        else
        {
            this.http = http;
        }

        if (string.IsNullOrEmpty(options.ApiKey))
        {
            throw new ArgumentException("set ApiKey", nameof(options));
        }

        sender = Task.Run(SendLoopAsync);
    }

    /// <summary>Events the API refused for good (for example a price with more than four decimals).</summary>
    public event Action<Rejection>? Rejected;

    /// <summary>Events the API has accepted so far.</summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Sends that failed and were tried again.</summary>
    public long Retries => Interlocked.Read(ref retries);

    /// <summary>The user's variant, computed locally; the assign is queued (one assign event per user and experiment).</summary>
    /// <exception cref="InvalidOperationException">The experiment is not active.</exception>
    /// <exception cref="HttpRequestException">The experiment could not be fetched (unknown id, no access).</exception>
    public async Task<Assignment> AssignAsync(string experimentId, string userId, CancellationToken cancellationToken = default)
    {
        var (experiment, assigner) = await ExperimentAsync(experimentId, cancellationToken);
        if (experiment.Status != "active")
        {
            throw new InvalidOperationException($"experiment '{experimentId}' is {experiment.Status}, not active: nothing to assign");
        }

        var variant = experiment.Variants[assigner.Assign(userId)];
        Enqueue(new EventDto(VariantAssigner.AssignEventId(experimentId, userId), "assign", experimentId, variant.VariantId, userId, variant.Price, null,
            experiment.Currency, Now()));
        return new Assignment(experimentId, userId, variant.VariantId, variant.Price, experiment.Currency);
    }

    /// <summary>
    /// Queues a purchase by <paramref name="userId"/>, attributed to the variant the user is assigned. Give the
    /// order's id as <paramref name="eventId"/> so a resend is not a second purchase; a new id is made otherwise.
    /// </summary>
    public async Task<string> TrackConversionAsync(string experimentId, string userId, string? eventId = null, decimal? revenue = null,
        DateTimeOffset? occurredAt = null, CancellationToken cancellationToken = default)
    {
        var (experiment, assigner) = await ExperimentAsync(experimentId, cancellationToken);
        var variant = experiment.Variants[assigner.Assign(userId)];
        var id = eventId ?? "c-" + Guid.NewGuid().ToString("N");
        Enqueue(new EventDto(id, "convert", experimentId, variant.VariantId, userId, variant.Price, revenue, experiment.Currency,
            Rfc3339(occurredAt ?? DateTimeOffset.UtcNow)));
        return id;
    }

    /// <summary>Waits until every event queued so far has been accepted or refused.</summary>
    /// <exception cref="InvalidOperationException">The background sender stopped on an unexpected error (the inner exception).</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Task wait;
        lock (pendingLock)
        {
            wait = idle.Task;
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

    private static string Now() => Rfc3339(DateTimeOffset.UtcNow);

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
                    while (batch.Count < options.BatchSize && await queue.Reader.WaitToReadAsync(window.Token))
                    {
                        while (batch.Count < options.BatchSize && queue.Reader.TryRead(out var e))
                        {
                            batch.Add(e);
                        }

                        if (FlushRequested())
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

    /// <summary>Someone waits in <see cref="FlushAsync"/> and nothing more is queued: no reason to wait for the interval.</summary>
    private bool FlushRequested() => queue.Reader.Count == 0;

    /// <summary>Posts one batch until the API answers for it; retries keep the batch (and so the event ids) as it was.</summary>
    private async Task SendAsync(List<EventDto> batch)
    {
        var delay = options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "v1/events") { Content = JsonContent.Create(new { events = batch }, options: Json) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(stopping.Token));
                using var response = await http.SendAsync(request, stopping.Token);
                if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.BadRequest)
                {
                    var answer = await response.Content.ReadFromJsonAsync<EventsAnswer>(Json, stopping.Token);
                    var refused = answer?.Rejected ?? [];
                    if (response.StatusCode == HttpStatusCode.BadRequest && refused.Count == 0)
                    {
                        refused = [.. batch.Select((_, i) => new RejectedDto(i, "", "the API refused the batch (400)"))];
                    }

                    foreach (var r in refused)
                    {
                        Rejected?.Invoke(new Rejection(r.Index >= 0 && r.Index < batch.Count ? batch[r.Index].EventId : "", r.Field ?? "", r.Reason ?? ""));
                    }

                    Interlocked.Add(ref sent, batch.Count - refused.Count);
                    return;
                }

                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    tokenUntil = DateTimeOffset.MinValue; // renew and try again
                }
                else if (!(response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)response.StatusCode >= 500))
                {
                    // 413, 415: this batch can never be taken; report every event.
                    foreach (var e in batch)
                    {
                        Rejected?.Invoke(new Rejection(e.EventId, "", $"the API answered {(int)response.StatusCode}"));
                    }

                    return;
                }

                retryAfter = response.Headers.RetryAfter?.Delta;
            }
            catch (HttpRequestException)
            {
                // network: retry
            }
            catch (TaskCanceledException) when (!stopping.IsCancellationRequested)
            {
                // timeout: retry
            }

            Interlocked.Increment(ref retries);
            await Task.Delay(retryAfter ?? delay, stopping.Token);
            delay = TimeSpan.FromTicks(Math.Min(options.MaxRetryDelay.Ticks, delay.Ticks * 2));
        }
    }

    private async Task<(ExperimentDto, VariantAssigner)> ExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        lock (experiments)
        {
            if (experiments.TryGetValue(experimentId, out var cached) && cached.Until > DateTimeOffset.UtcNow)
            {
                return (cached.Experiment, cached.Assigner);
            }
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/experiments/" + Uri.EscapeDataString(experimentId));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(cancellationToken));
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET /v1/experiments/{experimentId} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}",
                null, response.StatusCode);
        }

        var experiment = await response.Content.ReadFromJsonAsync<ExperimentDto>(Json, cancellationToken)
                         ?? throw new HttpRequestException($"GET /v1/experiments/{experimentId} answered no experiment");
        var assigner = new VariantAssigner(experimentId, [.. experiment.Variants.Select(v => v.Weight)]);
        lock (experiments)
        {
            experiments[experimentId] = (experiment, assigner, DateTimeOffset.UtcNow + options.ExperimentCacheTime);
        }

        return (experiment, assigner);
    }

    private async Task<string> TokenAsync(CancellationToken cancellationToken)
    {
        await tokenLock.WaitAsync(cancellationToken);
        try
        {
            if (token is not null && DateTimeOffset.UtcNow < tokenUntil)
            {
                return token;
            }

            using var response = await http.PostAsJsonAsync("v1/auth/token", new { api_key = options.ApiKey }, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"POST /v1/auth/token answered {(int)response.StatusCode}: check the API key", null, response.StatusCode);
            }

            var answer = await response.Content.ReadFromJsonAsync<TokenAnswer>(Json, cancellationToken) ?? throw new HttpRequestException("no token in the answer");
            token = answer.AccessToken;
            tokenUntil = DateTimeOffset.UtcNow.AddSeconds(Math.Max(30, answer.ExpiresIn - 60));
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

    private sealed record EventsAnswer(int Accepted, List<RejectedDto>? Rejected);
}
