using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Polly.Timeout;

namespace PricingOptimizer.Client;

/// <summary>
/// The SDK's outbox: events are queued and sent in the background in batches of at most
/// <see cref="PricingOptimizerClientOptions.BatchSize"/>, after at most <see cref="PricingOptimizerClientOptions.FlushInterval"/>.
/// A batch is retried as it was (the same event ids, so the API counts each once) within the connection's bounds;
/// every event ends accepted, rejected (<see cref="Rejected"/>) or failed (<see cref="Failed"/>).
/// </summary>
internal sealed class EventSender
{
    private readonly ApiConnection api;
    private readonly PricingOptimizerClientOptions options;
    private readonly TimeProvider time;
    private readonly Channel<EventDto> queue = Channel.CreateUnbounded<EventDto>();
    private readonly CancellationTokenSource stopping = new();
    private readonly Task sender;
    private readonly object pendingLock = new();
    private long pending;
    private TaskCompletionSource idle = NewIdle(completed: true);
    private TaskCompletionSource flushing = NewIdle(completed: false);
    private long sent;

    public EventSender(ApiConnection api, PricingOptimizerClientOptions options)
    {
        this.api = api;
        this.options = options;
        time = options.Time;
        sender = Task.Run(SendLoopAsync);
    }

    public event Action<Rejection>? Rejected;

    public event Action<DeliveryFailure>? Failed;

    /// <summary>Events the API has accepted so far.</summary>
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Waits until every event queued so far has been accepted, refused or given up on.</summary>
    /// <exception cref="InvalidOperationException">The background sender stopped on an unexpected error (the inner exception).</exception>
    public async Task FlushAsync(CancellationToken cancellationToken)
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
    public async ValueTask StopAsync()
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
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            source.SetResult();
        }

        return source;
    }

    public void Enqueue(EventDto e)
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
        var outcome = await api.SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, "v1/events") { Content = JsonContent.Create(new { events = batch }, options: ApiConnection.Json) },
            stopping.Token, () => Interlocked.Increment(ref tries));

        string GaveUp(string why)
            => $"not delivered after {tries} {(tries == 1 ? "try" : "tries")} in {(time.GetUtcNow() - started).TotalSeconds:0.#} s: {why}";
        using var response = outcome.Result;
        switch (outcome.Exception)
        {
            case OperationCanceledException when stopping.IsCancellationRequested:
                throw outcome.Exception; // disposing gave up waiting: the events were never acknowledged
            case HttpRequestException { StatusCode: { } status } when !ApiConnection.Transient(status):
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
        else if (ApiConnection.Transient(response.StatusCode))
        {
            var wait = api.RetryAfter(response) is { } after ? $", asked to wait {after.TotalSeconds:0.#} s more" : "";
            Fail(batch, GaveUp($"the API answered {(int)response.StatusCode}{wait}"));
        }
        else
        {
            // 401 after a new token, 403, 413, 415: this batch can never be taken.
            Reject(batch, response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? "Authorization" : "",
                $"the API answered {(int)response.StatusCode}: {await ApiConnection.ProblemDetailAsync(response)}");
        }
    }

    private static async Task<List<Rejection>> RefusedAsync(HttpResponseMessage response, List<EventDto> batch)
    {
        EventsAnswer? answer = null;
        try
        {
            answer = await response.Content.ReadFromJsonAsync<EventsAnswer>(ApiConnection.Json);
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
            ReportFailure(new DeliveryFailure(e.EventId, reason));
        }
    }

    /// <summary>Logs an event that will not be delivered and tells the <see cref="Failed"/> handlers; a handler that throws does not stop the SDK.</summary>
    public void ReportFailure(DeliveryFailure failure)
    {
        if (options.Logger is { } logger)
        {
            ClientLog.ConversionLost(logger, failure.EventId, failure.Reason);
        }

        try
        {
            Failed?.Invoke(failure);
        }
        catch (Exception)
        {
            // The caller's handler failed; the SDK goes on (its failure is the caller's to log).
        }
    }

    private sealed record RejectedDto(int Index, string? Field, string? Reason);

    /// <summary>The events answer, or a problem+json (detail, field).</summary>
    private sealed record EventsAnswer(int Accepted, List<RejectedDto>? Rejected, string? Detail, string? Field);
}

/// <summary>An event as <c>POST /v1/events</c> takes it.</summary>
internal sealed record EventDto(string EventId, string Type, string ExperimentId, string VariantId, string UserId, decimal Price, decimal? Revenue,
    string Currency, string OccurredAt);
