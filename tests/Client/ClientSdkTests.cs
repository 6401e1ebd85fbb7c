using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PricingOptimizer.Client;
using PricingOptimizer.Experiments;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Client;

/// <summary>PricingOptimizer.Client against the real ingest API in-process.</summary>
public sealed class ClientSdkTests : IDisposable
{
    private const string Admin = "sdk-admin";
    private readonly IngestApiFactory api = new(new Dictionary<string, string?> { ["Auth:AdminKey"] = Admin });

    /// <summary>
    /// The in-process API on a busy test machine may take longer than a checkout's 500 ms to answer its first request;
    /// tests of what the API answers wait for it (the timeout itself is tested on a fake clock).
    /// </summary>
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(60);

    private async Task<(string TenantId, string ApiKey, HttpClient Client)> TenantAsync()
    {
        var tenant = await api.CreateTenantAsync(Admin, "Shop", "enterprise");
        var body = """{"experiment_id":"checkout","name":"checkout","currency":"EUR","variants":[{"variant_id":"a","price":9.99,"weight":2,"control":true},{"variant_id":"b","price":12.49,"weight":1},{"variant_id":"c","price":7.5,"weight":1}]}""";
        Assert.Equal(HttpStatusCode.Created, (await tenant.Client.PostAsync("/v1/experiments", IngestApiFactory.Json(body))).StatusCode);
        (await tenant.Client.PostAsync("/v1/experiments/checkout/start", null)).EnsureSuccessStatusCode();
        return tenant;
    }

    private PricingOptimizerClient Sdk(string apiKey, params DelegatingHandler[] handlers) =>
        new(new PricingOptimizerClientOptions { ApiKey = apiKey, FlushInterval = TimeSpan.FromMilliseconds(100), RetryDelay = TimeSpan.FromMilliseconds(20),
                EvaluationTimeout = Patient },
            api.CreateDefaultClient(handlers));

    [Fact]
    public async Task Local_assignment_matches_the_server_and_the_assign_is_recorded_once()
    {
        var (tenantId, apiKey, client) = await TenantAsync();
        await using (var sdk = Sdk(apiKey))
        {
            for (var i = 0; i < 300; i++)
            {
                var user = $"user-{i}";
                var local = await sdk.AssignAsync("checkout", user, 9.99m);
                using var server = JsonDocument.Parse(await (await client.PostAsJsonAsync("/v1/assign",
                    new { experiment_id = "checkout", user_id = user })).Content.ReadAsStringAsync());
                Assert.Equal(server.RootElement.GetProperty("variant_id").GetString(), local.VariantId);
                Assert.Equal(server.RootElement.GetProperty("price").GetDecimal(), local.Price);
                Assert.Equal("EUR", local.Currency);
            }

            await sdk.FlushAsync();
            Assert.Equal(300, sdk.Sent);
        }

        // The SDK's assigns and the server's share event ids: the lake holds one assign per user.
        Assert.Equal(300, await api.LandUntilAsync(tenantId, 300));
    }

    [Fact]
    public async Task Conversions_are_batched_and_sent_when_the_client_is_disposed()
    {
        var (tenantId, apiKey, _) = await TenantAsync();
        await using (var sdk = Sdk(apiKey))
        {
            for (var i = 0; i < 40; i++)
            {
                await sdk.AssignAsync("checkout", $"u{i}", 9.99m);
                await sdk.TrackConversionAsync("checkout", $"u{i}", eventId: $"order-{i}", revenue: 19.98m);
            }
        } // no flush: disposing sends what is queued

        Assert.Equal(80, await api.LandUntilAsync(tenantId, 80));
        var events = await api.Services.GetRequiredService<PricingOptimizer.Lake.LakeQueries>().ReadEventsAsync(tenantId, "checkout", CancellationToken.None);
        Assert.Equal(40, events.Count(e => e.Event.Type == PricingOptimizer.Events.EventType.Convert && e.Event.Revenue == 19.98m));
    }

    [Fact]
    public async Task Failed_sends_are_retried_with_the_same_event_ids_so_each_event_counts_once()
    {
        var (tenantId, apiKey, _) = await TenantAsync();
        var flaky = new FlakyEvents(failures: 3);
        await using (var sdk = Sdk(apiKey, flaky))
        {
            for (var i = 0; i < 25; i++)
            {
                await sdk.TrackConversionAsync("checkout", $"u{i}", eventId: $"order-{i}");
            }

            await sdk.FlushAsync();
            Assert.True(sdk.Retries >= 3, $"{sdk.Retries} retries");
        }

        Assert.True(flaky.Bodies.Count >= 4);
        Assert.Equal(25, await api.LandUntilAsync(tenantId, 25));
        // The batch that finally went through was one of the failed ones, resent as it was.
        Assert.Contains(flaky.Bodies[0], flaky.Bodies.Skip(1));
    }

    [Fact]
    public async Task Events_the_api_refuses_are_reported_and_inactive_experiments_are_not_assigned()
    {
        var (_, apiKey, client) = await TenantAsync();
        var rejections = new List<Rejection>();
        await using (var sdk = Sdk(apiKey))
        {
            sdk.Rejected += r => rejections.Add(r);
            await sdk.TrackConversionAsync("checkout", "u1", eventId: "bad-order", revenue: 1.23456m);
            await sdk.FlushAsync();
        }

        var rejection = Assert.Single(rejections);
        Assert.Equal("bad-order", rejection.EventId);
        Assert.Equal("revenue", rejection.Field);

        (await client.PostAsync("/v1/experiments/checkout/pause", null)).EnsureSuccessStatusCode();
        await using var fresh = Sdk(apiKey);
        var paused = await fresh.AssignAsync("checkout", "u2", 15m);
        // Paused: the control's price (not the caller's default), outside the test.
        Assert.Equal(("a", 9.99m, "EUR", FallbackReasons.NotActive), (paused.VariantId, paused.Price, paused.Currency, paused.FallbackReason));
        Assert.False(paused.InExperiment);
        await fresh.FlushAsync();
        Assert.Equal(0, fresh.Sent);
    }

    [Fact]
    public async Task A_paused_experiment_stops_being_assigned_within_the_servers_cache_bound_even_if_the_client_would_cache_longer()
    {
        var (_, apiKey, client) = await TenantAsync();
        using (var get = await client.GetAsync("/v1/experiments/checkout"))
        {
            Assert.Equal(ExperimentDefinitions.CacheTime, get.Headers.CacheControl?.MaxAge);
        }

        var time = new TimersAwaited(DateTimeOffset.UtcNow);
        await using var sdk = new PricingOptimizerClient(
            new PricingOptimizerClientOptions { ApiKey = apiKey, Time = time, ExperimentCacheTime = TimeSpan.FromHours(1), EvaluationTimeout = Patient }, api.CreateDefaultClient());
        Assert.True((await sdk.AssignAsync("checkout", "u1", 15m)).InExperiment);

        (await client.PostAsync("/v1/experiments/checkout/pause", null)).EnsureSuccessStatusCode();
        // Within the bound the cached definition may still be used (the server's own caches do the same) ...
        time.Advance(ExperimentDefinitions.CacheTime - TimeSpan.FromMilliseconds(1));
        Assert.True((await sdk.AssignAsync("checkout", "u2", 15m)).InExperiment);
        // ... and not a moment after it.
        time.Advance(TimeSpan.FromMilliseconds(1));
        var after = await sdk.AssignAsync("checkout", "u3", 15m);
        Assert.Equal((FallbackReasons.NotActive, 9.99m), (after.FallbackReason, after.Price));
    }

    [Fact]
    public async Task An_unknown_experiment_answers_the_default_price_at_once_and_is_counted_and_logged()
    {
        var (_, apiKey, _) = await TenantAsync();
        var logs = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var counting = new CountingRequests();
        await using var sdk = new PricingOptimizerClient(new PricingOptimizerClientOptions
        {
            ApiKey = apiKey,
            Logger = new CapturingLoggerProvider(logs).CreateLogger("sdk"),
            EvaluationTimeout = Patient,
        }, api.CreateDefaultClient(counting));
        var first = await sdk.AssignAsync("nope", "u1", 19.99m);
        Assert.Equal(("", 19.99m, "", FallbackReasons.UnknownExperiment), (first.VariantId, first.Price, first.Currency, first.FallbackReason));
        Assert.Equal(0, sdk.Retries); // a 404 is final
        Assert.Contains(logs, l => l.Contains("nope", StringComparison.Ordinal) && l.Contains("unknown_experiment", StringComparison.Ordinal)
            && l.Contains("no experiment 'nope'", StringComparison.Ordinal));

        // Within the cache time the same question is not asked again.
        var asked = counting.Experiments;
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(FallbackReasons.UnknownExperiment, (await sdk.AssignAsync("nope", $"u{i}", 19.99m)).FallbackReason);
        }

        Assert.Equal(asked, counting.Experiments);
        Assert.Equal(51, sdk.Fallbacks[FallbackReasons.UnknownExperiment]);
        Assert.Single(logs, l => l.Contains("fell back", StringComparison.Ordinal)); // counted every time, logged once per cache time
        // A conversion for it is not lost silently: it is reported as not delivered, and nothing throws.
        var failures = new List<DeliveryFailure>();
        sdk.Failed += failures.Add;
        Assert.Equal("order-1", await sdk.TrackConversionAsync("nope", "u1", "order-1"));
        Assert.Equal("order-1", Assert.Single(failures).EventId);
    }

    [Fact]
    public async Task Empty_ids_answer_the_default_without_asking_the_api()
    {
        var (_, apiKey, _) = await TenantAsync();
        var counting = new CountingRequests();
        await using var sdk = new PricingOptimizerClient(new PricingOptimizerClientOptions { ApiKey = apiKey, EvaluationTimeout = Patient }, api.CreateDefaultClient(counting));
        Assert.Equal(FallbackReasons.InvalidArgument, (await sdk.AssignAsync("", "u1", 5m)).FallbackReason);
        Assert.Equal(FallbackReasons.InvalidArgument, (await sdk.AssignAsync("checkout", null!, 5m)).FallbackReason);
        Assert.Equal(0, counting.Experiments);
    }

    [Fact]
    public async Task An_api_that_goes_down_answers_the_last_known_control_and_one_that_never_answered_the_default()
    {
        var (tenantId, apiKey, _) = await TenantAsync();
        var outage = new Outage();
        var time = new TimersAwaited(DateTimeOffset.UtcNow);
        await using var sdk = new PricingOptimizerClient(new PricingOptimizerClientOptions
        {
            ApiKey = apiKey,
            Time = time,
            RetryDelay = TimeSpan.Zero,
            MaxRetryDelay = TimeSpan.Zero,
            MaxAttempts = 2,
        }, api.CreateDefaultClient(outage));
        var before = await sdk.AssignAsync("checkout", "u1", 15m);
        Assert.True(before.InExperiment);

        outage.Down = true; // connection refused from now on
        time.Advance(TimeSpan.FromMinutes(1)); // the copy is no longer fresh
        var during = await sdk.AssignAsync("checkout", "u2", 15m);
        Assert.Equal(("a", 9.99m, "EUR", FallbackReasons.Unreachable), (during.VariantId, during.Price, during.Currency, during.FallbackReason));
        var never = await sdk.AssignAsync("other", "u2", 15m);
        Assert.Equal(("", 15m, FallbackReasons.Unreachable), (never.VariantId, never.Price, never.FallbackReason));
        // A purchase during the outage is still attributed, from the last-known definition, and sent once the API is back.
        await sdk.TrackConversionAsync("checkout", "u1", "order-1");

        outage.Down = false;
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await sdk.AssignAsync("checkout", "u3", 15m)).InExperiment);
        await sdk.FlushAsync();
        Assert.Equal(2, sdk.Fallbacks[FallbackReasons.Unreachable]);
        // u1's and u3's assigns and u1's purchase; the fallbacks (u2) recorded nothing.
        Assert.Equal(3, await api.LandUntilAsync(tenantId, 3));
        var landed = await api.Services.GetRequiredService<PricingOptimizer.Lake.LakeQueries>().ReadEventsAsync(tenantId, "checkout", CancellationToken.None);
        Assert.DoesNotContain(landed, e => e.Event.UserId == "u2");
        Assert.Contains(landed, e => e.Event.EventId == "order-1");
    }

    [Fact]
    public async Task An_api_that_hangs_is_given_up_on_after_the_evaluation_timeout_and_not_waited_for_again()
    {
        var (_, apiKey, _) = await TenantAsync();
        var hang = new Outage { Hang = true };
        var time = new TimersAwaited(DateTimeOffset.UtcNow);
        var logs = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var sdk = new PricingOptimizerClient(new PricingOptimizerClientOptions
        {
            ApiKey = apiKey,
            Time = time,
            EvaluationTimeout = TimeSpan.FromMilliseconds(300),
            DisposeTimeout = TimeSpan.Zero,
            Logger = new CapturingLoggerProvider(logs).CreateLogger("sdk"),
        }, api.CreateDefaultClient(hang));
        var pending = sdk.AssignAsync("checkout", "u1", 15m);
        // Three timers: the request's total and per-try timeouts (minutes, seconds) and the evaluation's 300 ms, the earliest.
        Assert.True(await time.AdvanceToNextAsync(3, pending));
        var answer = await pending;
        Assert.Equal((FallbackReasons.Unreachable, 15m), (answer.FallbackReason, answer.Price));
        Assert.Contains(logs, l => l.Contains("no answer within 300 ms", StringComparison.Ordinal));

        // The next checkout does not wait: the failure is remembered for the cache time, without the clock moving.
        var next = sdk.AssignAsync("checkout", "u2", 15m);
        Assert.True(next.IsCompleted);
        Assert.Equal(FallbackReasons.Unreachable, (await next).FallbackReason);
        hang.Release();
    }

    /// <summary>Counts experiment-definition requests.</summary>
    private sealed class CountingRequests : DelegatingHandler
    {
        private int experiments;

        public int Experiments => Volatile.Read(ref experiments);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.StartsWith("/v1/experiments/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref experiments);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>While <see cref="Down"/>, every request fails as a refused connection does; with <see cref="Hang"/>, none is answered until released.</summary>
    private sealed class Outage : DelegatingHandler
    {
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Down { get; set; }

        public bool Hang { get; init; }

        public void Release() => released.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Hang)
            {
                await released.Task.WaitAsync(cancellationToken);
            }

            return Down
                ? throw new HttpRequestException("Connection refused (127.0.0.1:5080)", new System.Net.Sockets.SocketException(111))
                : await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Fails the first <paramref name="failures"/> event posts (503, then a dropped connection, alternately).</summary>
    private sealed class FlakyEvents(int failures) : DelegatingHandler
    {
        private int left = failures;

        public List<string> Bodies { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath != "/v1/events")
            {
                return await base.SendAsync(request, cancellationToken);
            }

            Bodies.Add(await request.Content!.ReadAsStringAsync(cancellationToken));
            if (Interlocked.Decrement(ref left) >= 0)
            {
                return left % 2 == 0
                    ? throw new HttpRequestException("connection reset")
                    : new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Headers = { RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromMilliseconds(50)) } };
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }

    public void Dispose() => api.Dispose();
}
