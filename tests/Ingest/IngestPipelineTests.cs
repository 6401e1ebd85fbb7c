using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Ingest;

/// <summary>HTTP → event log → lander → Parquet → DuckDB, the same suite against each event log.</summary>
public abstract class IngestPipelineTests : IDisposable
{
    private readonly Lazy<IngestApiFactory> factory;

    protected IngestPipelineTests() => factory = new Lazy<IngestApiFactory>(() => CreateFactory());

    protected IngestApiFactory Api => factory.Value;

    protected abstract IngestApiFactory CreateFactory(IDictionary<string, string?>? settings = null);

    [Fact]
    public async Task Events_sent_over_http_land_in_parquet_with_every_field_intact()
    {
        var now = DateTimeOffset.UtcNow;
        var sentA = TestEvents.Mixed(400, now);
        var sentB = TestEvents.Mixed(150, now, "exp-b");
        using var a = Api.ClientFor("tenant-a");
        using var b = Api.ClientFor("tenant-b");
        foreach (var batch in sentA.Chunk(300))
        {
            var response = await a.PostAsync("/v1/events", IngestApiFactory.Json(batch));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(batch.Length, body.RootElement.GetProperty("accepted").GetInt32());
            Assert.Equal(0, body.RootElement.GetProperty("rejected").GetArrayLength());
        }

        Assert.Equal(HttpStatusCode.Accepted, (await b.PostAsync("/v1/events", IngestApiFactory.Json(sentB))).StatusCode);

        Assert.Equal(sentA.Count, await Api.LandUntilAsync("tenant-a", sentA.Count));
        Assert.Equal(sentB.Count, await Api.LandUntilAsync("tenant-b", sentB.Count));

        var queries = Api.Services.GetRequiredService<LakeQueries>();
        var storedA = (await queries.ReadEventsAsync("tenant-a", null, CancellationToken.None)).ToDictionary(s => s.Event.EventId);
        Assert.Equal(sentA.Count, storedA.Count);
        foreach (var sent in sentA)
        {
            var stored = storedA[sent.EventId];
            Assert.Equal("tenant-a", stored.TenantId);
            Assert.Equal(DateOnly.FromDateTime(sent.OccurredAt.UtcDateTime), stored.EventDate);
            AssertSameEvent(sent, stored.Event);
        }

        var storedB = await queries.ReadEventsAsync("tenant-b", null, CancellationToken.None);
        Assert.Equal(sentB.Select(e => e.EventId).Order(), storedB.Select(s => s.Event.EventId).Order());
        Assert.All(storedB, s => Assert.Equal("exp-b", s.Event.ExperimentId));
    }

    internal static void AssertSameEvent(PricingEvent sent, PricingEvent stored)
    {
        Assert.Equal(sent.Type, stored.Type);
        Assert.Equal(sent.ExperimentId, stored.ExperimentId);
        Assert.Equal(sent.VariantId, stored.VariantId);
        Assert.Equal(sent.UserId, stored.UserId);
        Assert.Equal(sent.Price, stored.Price);
        Assert.Equal(sent.Revenue, stored.Revenue);
        Assert.Equal(sent.Currency, stored.Currency);
        Assert.Equal(sent.OccurredAt.UtcDateTime, stored.OccurredAt.UtcDateTime);
        Assert.Equal(TimeSpan.Zero, stored.OccurredAt.Offset);
        Assert.Equal(sent.Properties?.OrderBy(p => p.Key).ToList(), stored.Properties?.OrderBy(p => p.Key).ToList());
    }

    [Fact]
    public async Task The_same_event_id_sent_twice_counts_once()
    {
        var now = DateTimeOffset.UtcNow;
        var events = TestEvents.Mixed(50, now);
        using var client = Api.ClientFor("retrying");
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events.Take(5).ToList()))).StatusCode);

        Assert.Equal(events.Count, await Api.LandUntilAsync("retrying", events.Count));
        await Task.Delay(300);
        Assert.Equal(events.Count, await Api.LandUntilAsync("retrying", events.Count));
    }

    [Fact]
    public async Task The_tenant_comes_from_the_token_never_from_the_body()
    {
        var now = DateTimeOffset.UtcNow;
        var e = TestEvents.Assign(1, now);
        var body = JsonSerializer.Serialize(new
        {
            events = new[]
            {
                new Dictionary<string, object?>
                {
                    ["tenant_id"] = "victim", ["event_id"] = e.EventId, ["type"] = "assign", ["experiment_id"] = e.ExperimentId,
                    ["variant_id"] = e.VariantId, ["user_id"] = e.UserId, ["price"] = e.Price, ["currency"] = "USD",
                    ["occurred_at"] = e.OccurredAt.ToString("O"),
                },
            },
        });
        using var client = Api.ClientFor("attacker");
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(body))).StatusCode);
        Assert.Equal(1, await Api.LandUntilAsync("attacker", 1));
        Assert.False(Directory.Exists(Path.Combine(Api.Services.GetRequiredService<LakeLayout>().EventsRoot, "tenant_id=victim")));
    }

    public void Dispose()
    {
        if (factory.IsValueCreated)
        {
            factory.Value.Dispose();
        }
    }
}

public sealed class EmbeddedIngestPipelineTests : IngestPipelineTests
{
    protected override IngestApiFactory CreateFactory(IDictionary<string, string?>? settings = null) => new(settings);

    [Fact]
    public async Task In_embedded_mode_the_api_lands_its_own_events()
    {
        using var api = CreateFactory(new Dictionary<string, string?> { ["Lander:HostInApi"] = "true" });
        var events = TestEvents.Mixed(30, DateTimeOffset.UtcNow);
        using var client = api.ClientFor("self-landing");
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);

        var queries = api.Services.GetRequiredService<LakeQueries>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long landed = 0;
        while (landed < events.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            landed = (await queries.CountByTenantAsync(CancellationToken.None)).FirstOrDefault()?.Events ?? 0;
        }

        Assert.Equal(events.Count, landed);
    }
}

public sealed class KafkaIngestPipelineTests(KafkaMockFixture kafka) : IngestPipelineTests, IClassFixture<KafkaMockFixture>
{
    protected override IngestApiFactory CreateFactory(IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["Kafka:Topic"] = kafka.NewTopic(),
            ["Kafka:SessionTimeoutMs"] = "6000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return new IngestApiFactory(all);
    }
}
