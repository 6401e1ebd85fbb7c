using System.Net;
using System.Net.Http.Headers;
using System.Text;
using PricingOptimizer.Client;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Client;

/// <summary>
/// The SDK's bounds against an API that fails on purpose: how many tries, how long, how far apart, and what is
/// reported. Waits run on a manual clock, so "3 s apart" is measured in the SDK's own time, exactly.
/// </summary>
public sealed class ClientRetryTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// What a run did: when the first batch was tried (from the start), how often each batch was tried (the SDK may
    /// split the events into several), what was reported, and how long it took on the SDK's clock.
    /// </summary>
    private sealed record Run(List<TimeSpan> Tries, List<int> TriesPerBatch, List<Rejection> Rejected, List<DeliveryFailure> Failed, long Sent, long Retries,
        TimeSpan Took, int TokenRequests);

    /// <summary>
    /// Queues <paramref name="events"/> conversions, flushes, and drives the manual clock until every event is
    /// settled: by default it fires the earliest timer whenever one is set beside the total-time timer, which is
    /// right when every try is answered at once; <paramref name="drive"/> replaces that.
    /// </summary>
    private static async Task<Run> SendAsync(Func<int, CancellationToken, Task<HttpResponseMessage>> answerEvents,
        Action<PricingOptimizerClientOptions>? configure = null,
        int events = 5, Func<int, HttpResponseMessage>? answerToken = null, Func<TimersAwaited, ScriptedApi, Task, Task>? drive = null)
    {
        var time = new TimersAwaited(Start);
        var api = new ScriptedApi(time, answerEvents, answerToken);
        var options = new PricingOptimizerClientOptions
        {
            ApiKey = "po_test", Time = time, FlushInterval = TimeSpan.FromMinutes(5), AttemptTimeout = null, RetryDelay = TimeSpan.FromMilliseconds(20),
        };
        configure?.Invoke(options);
        var rejected = new List<Rejection>();
        var failed = new List<DeliveryFailure>();
        await using var sdk = new PricingOptimizerClient(options, new HttpClient(api) { BaseAddress = new Uri("http://api.test/") });
        sdk.Rejected += r => { lock (rejected) { rejected.Add(r); } };
        sdk.Failed += f => { lock (failed) { failed.Add(f); } };
        for (var i = 0; i < events; i++)
        {
            await sdk.TrackConversionAsync("checkout", $"u{i}", eventId: $"order-{i}");
        }

        var flush = sdk.FlushAsync();
        await (drive ?? DriveAsync)(time, api, flush);
        await flush;
        var first = api.EventTries[0].Body;
        return new Run([.. api.EventTries.Where(t => t.Body == first).Select(t => t.At - Start)], [.. api.EventTries.CountBy(t => t.Body).Select(c => c.Value)],
            rejected, failed, sdk.Sent, sdk.Retries, time.GetUtcNow() - Start, api.TokenRequests);
    }

    /// <summary>The pipeline's total-time timer is set while a batch is out; a second one is the wait before the next try.</summary>
    private static async Task DriveAsync(TimersAwaited time, ScriptedApi api, Task done)
    {
        while (await time.AdvanceToNextAsync(2, done))
        {
        }
    }

    private static HttpResponseMessage Status(HttpStatusCode status, TimeSpan? retryAfter = null)
    {
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent($$"""{"title":"failed","status":{{(int)status}},"detail":"scripted {{(int)status}}"}""", Encoding.UTF8,
                "application/problem+json"),
        };
        if (retryAfter is { } after)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(after);
        }

        return response;
    }

    [Fact]
    public async Task Retry_After_is_honoured_and_the_tries_are_bounded_then_every_event_is_reported_failed()
    {
        var run = await SendAsync((_, _) => Task.FromResult(Status(HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(3))),
            o => o.MaxAttempts = 4);

        // Four tries, each exactly the 3 s the API asked for after the one before (the 20 ms backoff is not used).
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(9)], run.Tries);
        Assert.Equal(3, run.Retries);
        Assert.Equal(0, run.Sent);
        Assert.Empty(run.Rejected);
        Assert.Equal(["order-0", "order-1", "order-2", "order-3", "order-4"], run.Failed.Select(f => f.EventId).Order());
        Assert.All(run.Failed, f => Assert.Contains("4 tries", f.Reason, StringComparison.Ordinal));
        Assert.All(run.Failed, f => Assert.Contains("503", f.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_hanging_api_is_given_up_on_when_the_total_time_is_spent()
    {
        var run = await SendAsync(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        }, o =>
        {
            o.MaxAttempts = 10;
            o.AttemptTimeout = TimeSpan.FromSeconds(10);
            o.MaxSendTime = TimeSpan.FromSeconds(25);
            o.RetryDelay = TimeSpan.FromSeconds(1);
            o.MaxRetryDelay = TimeSpan.FromSeconds(1);
        }, drive: async (time, api, done) =>
        {
            // Each try's timeout is set before the request leaves: fire it only once the API holds the request.
            for (var tried = 1; await api.WaitForTriesAsync(tried, done); tried++)
            {
                await time.AdvanceToNextAsync(2, done); // the try's timeout, or the total
                await time.AdvanceToNextAsync(2, done); // the wait before the next try, or the total
            }
        });

        // Tries at 0, 10 s + a wait of at most 1 s, 20 s + two such waits; the third hangs until the 25 s total ends it.
        Assert.Equal(3, run.Tries.Count);
        Assert.InRange(run.Tries[1], TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(11));
        Assert.InRange(run.Tries[2] - run.Tries[1], TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(11));
        Assert.Equal(TimeSpan.FromSeconds(25), run.Took);
        Assert.Equal(5, run.Failed.Count);
        Assert.All(run.Failed, f => Assert.Contains("no answer within 25 s", f.Reason, StringComparison.Ordinal));
        Assert.Equal(0, run.Sent);
    }

    [Fact]
    public async Task Without_Retry_After_the_waits_grow_exponentially_with_jitter_and_stay_under_the_cap()
    {
        var firstWaits = new List<TimeSpan>();
        var lastWaits = new List<TimeSpan>();
        for (var client = 0; client < 12; client++)
        {
            var run = await SendAsync((_, _) => Task.FromResult(Status(HttpStatusCode.BadGateway)), o =>
            {
                o.MaxAttempts = 6;
                o.RetryDelay = TimeSpan.FromSeconds(1);
                o.MaxRetryDelay = TimeSpan.FromSeconds(20);
                o.MaxSendTime = TimeSpan.FromMinutes(10);
            }, events: 1);
            Assert.Equal(6, run.Tries.Count);
            var waits = run.Tries.Zip(run.Tries.Skip(1), (a, b) => b - a).ToList();
            Assert.All(waits, w => Assert.InRange(w, TimeSpan.Zero, TimeSpan.FromSeconds(20)));
            firstWaits.Add(waits[0]);
            lastWaits.Add(waits[^1]);
            Assert.Single(run.Failed);
        }

        // Jitter: twelve clients failing the same way do not come back in step.
        Assert.True(firstWaits.Distinct().Count() >= 10, string.Join(", ", firstWaits));
        // Exponential: the fifth wait is, on average, several times the first.
        Assert.True(lastWaits.Average(w => w.TotalSeconds) > 4 * firstWaits.Average(w => w.TotalSeconds),
            $"first {firstWaits.Average(w => w.TotalSeconds):0.00} s, fifth {lastWaits.Average(w => w.TotalSeconds):0.00} s");
    }

    [Fact]
    public async Task A_Retry_After_beyond_the_time_left_ends_the_tries_at_once()
    {
        var run = await SendAsync((_, _) => Task.FromResult(Status(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(120))),
            o => o.MaxSendTime = TimeSpan.FromSeconds(60));

        Assert.Equal([TimeSpan.Zero], run.Tries);
        Assert.Equal(TimeSpan.Zero, run.Took);
        Assert.Equal(5, run.Failed.Count);
        Assert.All(run.Failed, f => Assert.Contains("429, asked to wait 120 s more", f.Reason, StringComparison.Ordinal));
    }

    public static TheoryData<int> TransientStatuses => new() { 408, 429, 500, 502, 503, 504 };

    [Theory]
    [MemberData(nameof(TransientStatuses))]
    public async Task Transient_answers_are_tried_again_and_succeed_when_the_api_recovers(int status)
    {
        var run = await SendAsync((attempt, _) => Task.FromResult(attempt < 3
            ? Status((HttpStatusCode)status)
            : new HttpResponseMessage(HttpStatusCode.Accepted) { Content = new StringContent("""{"accepted":5,"rejected":[]}""", Encoding.UTF8,
                "application/json") }));

        Assert.Equal(4, run.Tries.Count);
        Assert.All(run.TriesPerBatch, n => Assert.Equal(4, n));
        Assert.Equal(5, run.Sent);
        Assert.Empty(run.Failed);
        Assert.Empty(run.Rejected);
    }

    [Fact]
    public async Task Network_errors_are_tried_again()
    {
        var run = await SendAsync((attempt, _) => attempt < 2
            ? throw new HttpRequestException("connection reset")
            : Task.FromResult(new HttpResponseMessage(HttpStatusCode.Accepted) { Content = new StringContent("""{"accepted":5}""", Encoding.UTF8,
                "application/json") }));

        Assert.Equal(3, run.Tries.Count);
        Assert.Equal(5, run.Sent);
    }

    [Theory]
    [InlineData(403, "Authorization")]
    [InlineData(404, "")]
    [InlineData(413, "")]
    [InlineData(415, "")]
    [InlineData(422, "")]
    public async Task Refusals_are_final_one_try_and_reported_through_Rejected(int status, string field)
    {
        var run = await SendAsync((_, _) => Task.FromResult(Status((HttpStatusCode)status)));

        Assert.All(run.TriesPerBatch, n => Assert.Equal(1, n));
        Assert.Equal(0, run.Retries);
        Assert.Empty(run.Failed);
        Assert.Equal(5, run.Rejected.Count);
        Assert.All(run.Rejected, r => Assert.Equal(field, r.Field));
        Assert.All(run.Rejected, r => Assert.Contains($"{status}: scripted {status}", r.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_400_without_a_per_event_list_rejects_the_batch_with_the_problem_field()
    {
        var run = await SendAsync((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadRequest)
        {
            Content = new StringContent("""{"status":400,"detail":"events must be an array","field":"events"}""", Encoding.UTF8, "application/problem+json"),
        }));

        Assert.All(run.TriesPerBatch, n => Assert.Equal(1, n));
        Assert.Equal(5, run.Rejected.Count);
        Assert.All(run.Rejected, r => Assert.Equal(("events", "events must be an array"), (r.Field, r.Reason)));
    }

    [Fact]
    public async Task A_401_renews_the_token_once_then_is_final()
    {
        var run = await SendAsync((_, _) => Task.FromResult(Status(HttpStatusCode.Unauthorized)));

        Assert.All(run.TriesPerBatch, n => Assert.Equal(2, n));
        Assert.Equal(1 + run.TriesPerBatch.Count, run.TokenRequests); // the first token, and one renewal per batch
        Assert.Equal(5, run.Rejected.Count);
        Assert.All(run.Rejected, r => Assert.Equal("Authorization", r.Field));
    }

    [Fact]
    public async Task A_refused_api_key_is_reported_once_per_event_without_retrying()
    {
        var run = await SendAsync((_, _) => Task.FromResult(Status(HttpStatusCode.Unauthorized)),
            answerToken: n => n == 0 ? TokenAnswer() : Status(HttpStatusCode.Unauthorized), events: 3);

        // The first token fetched the experiment; then the key is revoked: the token is refused, the renewal too.
        Assert.Empty(run.Failed);
        Assert.Equal(3, run.Rejected.Count);
        Assert.All(run.Rejected, r => Assert.Equal("Authorization", r.Field));
        Assert.All(run.TriesPerBatch, n => Assert.Equal(1, n));
    }

    private static HttpResponseMessage TokenAnswer() =>
        new(HttpStatusCode.OK) { Content = new StringContent("""{"access_token":"t","expires_in":3600}""", Encoding.UTF8, "application/json") };

    /// <summary>A stand-in API: a token, one active experiment, and event posts answered by the test's script.</summary>
    public sealed class ScriptedApi(TimersAwaited time, Func<int, CancellationToken, Task<HttpResponseMessage>> answerEvents, Func<int,
        HttpResponseMessage>? answerToken)
        : HttpMessageHandler
    {
        private int tokenRequests;

        private TaskCompletionSource tried = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<(DateTimeOffset At, string Body)> EventTries { get; } = [];

        /// <summary>Waits until the API has been sent <paramref name="count"/> event posts; false when <paramref name="done"/> ends first.</summary>
        public async Task<bool> WaitForTriesAsync(int count, Task done)
        {
            while (true)
            {
                Task wait;
                lock (EventTries)
                {
                    if (EventTries.Count >= count)
                    {
                        return true;
                    }

                    wait = tried.Task;
                }

                if (await Task.WhenAny(wait, done) == done)
                {
                    return false;
                }
            }
        }

        public int TokenRequests => tokenRequests;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            switch (request.RequestUri!.AbsolutePath)
            {
                case "/v1/auth/token":
                    var n = Interlocked.Increment(ref tokenRequests) - 1;
                    return answerToken?.Invoke(n) ?? TokenAnswer();
                case "/v1/experiments/checkout":
                    return new HttpResponseMessage(HttpStatusCode.OK)
                    {
                        Content = new StringContent("""{"experiment_id":"checkout","currency":"EUR","status":"active","variants":[{"variant_id":"a","price":9.99,"weight":1,"control":true},{"variant_id":"b","price":12.49,"weight":1}]}""",
                            Encoding.UTF8, "application/json"),
                    };
                case "/v1/events":
                    var body = await request.Content!.ReadAsStringAsync(cancellationToken);
                    int attempt;
                    lock (EventTries)
                    {
                        attempt = EventTries.Count;
                        EventTries.Add((time.GetUtcNow(), body));
                        var old = tried;
                        tried = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        old.TrySetResult();
                    }

                    return await answerEvents(attempt, cancellationToken);
                default:
                    return new HttpResponseMessage(HttpStatusCode.NotFound);
            }
        }
    }
}
