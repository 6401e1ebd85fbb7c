using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Ingest;

/// <summary>An acknowledged event is a kept event, even when Kafka goes away mid-stream.</summary>
public sealed class KafkaOutageTests : IDisposable
{
    private readonly KafkaMockFixture kafka = new();

    [Fact]
    public async Task When_the_broker_stops_mid_stream_the_api_answers_503_and_loses_no_acknowledged_event()
    {
        using var api = new IngestApiFactory(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["Kafka:Topic"] = kafka.NewTopic(partitions: 2),
            ["Kafka:MessageTimeoutMs"] = "2500",
            ["Kafka:SessionTimeoutMs"] = "6000",
        });
        using var client = api.ClientFor("outage");
        var now = DateTimeOffset.UtcNow;
        var acknowledged = new List<PricingEvent>();
        var statuses = new List<HttpStatusCode>();
        for (var b = 0; b < 14; b++)
        {
            if (b == 5)
            {
                kafka.Cluster.SetAllDown();
                Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/readyz")).StatusCode);
            }

            if (b == 8)
            {
                kafka.Cluster.SetAllUp();
            }

            var batch = Enumerable.Range(b * 40, 40).Select(i => TestEvents.Assign(i, now)).ToList();
            var response = await client.PostAsync("/v1/events", IngestApiFactory.Json(batch));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                acknowledged.AddRange(batch);
            }
            else
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.NotNull(response.Headers.RetryAfter?.Delta);
            }
        }

        Assert.All(statuses.Take(5), s => Assert.Equal(HttpStatusCode.Accepted, s));
        Assert.Contains(HttpStatusCode.ServiceUnavailable, statuses.Skip(5).Take(3));
        Assert.Equal(HttpStatusCode.Accepted, statuses[^1]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        await api.LandUntilAsync("outage", acknowledged.Count);
        var stored = (await api.Services.GetRequiredService<LakeQueries>().ReadEventsAsync("outage", null, CancellationToken.None))
            .Select(s => s.Event.EventId).ToHashSet();
        Assert.All(acknowledged, e => Assert.Contains(e.EventId, stored));
    }

    public void Dispose() => kafka.Dispose();
}
