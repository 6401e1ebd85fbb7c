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

    private async Task<(string TenantId, string ApiKey, HttpClient Client)> TenantAsync()
    {
        var tenant = await api.CreateTenantAsync(Admin, "Shop", "enterprise");
        var body = """{"experiment_id":"checkout","name":"checkout","currency":"EUR","variants":[{"variant_id":"a","price":9.99,"weight":2,"control":true},{"variant_id":"b","price":12.49,"weight":1},{"variant_id":"c","price":7.5,"weight":1}]}""";
        Assert.Equal(HttpStatusCode.Created, (await tenant.Client.PostAsync("/v1/experiments", IngestApiFactory.Json(body))).StatusCode);
        (await tenant.Client.PostAsync("/v1/experiments/checkout/start", null)).EnsureSuccessStatusCode();
        return tenant;
    }

    private PricingOptimizerClient Sdk(string apiKey, params DelegatingHandler[] handlers) =>
        new(new PricingOptimizerClientOptions { ApiKey = apiKey, FlushInterval = TimeSpan.FromMilliseconds(100), RetryDelay = TimeSpan.FromMilliseconds(20) },
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
                var local = await sdk.AssignAsync("checkout", user);
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
                await sdk.AssignAsync("checkout", $"u{i}");
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
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => fresh.AssignAsync("checkout", "u2"));
        Assert.Contains("paused", e.Message, StringComparison.Ordinal);
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
            new PricingOptimizerClientOptions { ApiKey = apiKey, Time = time, ExperimentCacheTime = TimeSpan.FromHours(1) }, api.CreateDefaultClient());
        Assert.Equal("checkout", (await sdk.AssignAsync("checkout", "u1")).ExperimentId);

        (await client.PostAsync("/v1/experiments/checkout/pause", null)).EnsureSuccessStatusCode();
        // Within the bound the cached definition may still be used (the server's own caches do the same) ...
        time.Advance(ExperimentDefinitions.CacheTime - TimeSpan.FromMilliseconds(1));
        await sdk.AssignAsync("checkout", "u2");
        // ... and not a moment after it.
        time.Advance(TimeSpan.FromMilliseconds(1));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => sdk.AssignAsync("checkout", "u3"));
        Assert.Contains("paused", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_experiment_is_a_final_error_with_the_status()
    {
        var (_, apiKey, _) = await TenantAsync();
        await using var sdk = Sdk(apiKey);
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => sdk.AssignAsync("nope", "u1"));
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains("no experiment 'nope'", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, sdk.Retries);
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
