using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using PricingOptimizer.EventLog;
using PricingOptimizer.Lake;
using PricingOptimizer.Telemetry;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Ingest;

/// <summary>
/// <c>GET /metrics</c> as an operator's Prometheus scrapes it: the figures move with what the API did. Alone, because
/// OpenTelemetry's meter provider listens to every meter of the name in the process, and the other tests' API hosts
/// would answer for theirs (one process is one host in production).
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed partial class MetricsTests : IDisposable
{
    private const string AdminKey = "metrics-test-admin-key";
    private readonly IngestApiFactory api = new(new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey });

    public void Dispose() => api.Dispose();

    /// <summary>The value of the series <paramref name="name"/> whose labels contain <paramref name="label"/> (summed
    /// over matches); null when absent.</summary>
    private static double? Value(string scrape, string name, string? label = null)
    {
        double? total = null;
        foreach (Match m in SeriesLine().Matches(scrape))
        {
            if (m.Groups["name"].Value == name && (label is null || m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal)))
            {
                total = (total ?? 0) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{[^}]*\})? (?<value>[-+0-9.eE]+|NaN)", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();

    private async Task<string> ScrapeAsync()
    {
        using var client = api.CreateClient();
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task A_file_a_read_cannot_use_is_counted_as_quarantined()
    {
        var lake = api.Services.GetRequiredService<LakeLayout>();
        var records = Enumerable.Range(0,
            20).Select(i => new LogRecord("q", i,
                new PricingOptimizer.Events.TenantEvent("damaged", DateTimeOffset.UtcNow, TestEvents.Assign(i, DateTimeOffset.UtcNow)))).ToList();
        var path = lake.FilePath("damaged", DateOnly.FromDateTime(DateTime.UtcNow), "q", 0);
        await ParquetEventWriter.WriteAsync(path, records, CancellationToken.None);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..40]);
        var good = Enumerable.Range(20, 20).Select(i => new LogRecord("q", i,
            new PricingOptimizer.Events.TenantEvent("damaged", DateTimeOffset.UtcNow, TestEvents.Assign(i, DateTimeOffset.UtcNow)))).ToList();
        await ParquetEventWriter.WriteAsync(lake.FilePath("damaged", DateOnly.FromDateTime(DateTime.UtcNow), "q", 20), good, CancellationToken.None);
        var before = Value(await ScrapeAsync(), "po_lake_quarantined_files_total") ?? 0;

        using var client = api.ClientFor("damaged");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/experiments/exp-1/readout")).StatusCode);

        Assert.Equal(before + 1, Value(await ScrapeAsync(), "po_lake_quarantined_files_total"));
        Assert.Single(LakeQuarantine.List(lake, "damaged"));
    }

    [Fact]
    public async Task Metrics_count_ingest_rejections_latency_backlog_rate_limits_and_compactions()
    {
        using var client = api.ClientFor("shop");
        var now = DateTimeOffset.UtcNow;
        var batch = Enumerable.Range(0, 5).Select(i => TestEvents.Assign(i, now))
            .Append(TestEvents.Assign(90, now) with { Price = -1m }).Append(TestEvents.Assign(91, now) with { Price = -2m }).ToList();
        var response = await client.PostAsync("/v1/events", IngestApiFactory.Json(batch));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        await api.Services.GetRequiredService<BacklogMonitor>().RefreshAsync(CancellationToken.None);
        var scrape = await ScrapeAsync();
        Assert.True(Value(scrape, "po_events_accepted_total") >= 5, scrape);
        Assert.True(Value(scrape, "po_events_rejected_total", "field=\"price\"") >= 2, scrape);
        Assert.True(Value(scrape, "po_event_log_append_duration_seconds_count") >= 1, scrape);
        // This API's own log: the lander is off, so all five wait, the oldest for about no time yet.
        Assert.Equal(5, Value(scrape, "po_lander_lag_events"));
        Assert.InRange(Value(scrape, "po_lander_lag_oldest_age_seconds")!.Value, 0, 60);
        Assert.Equal(5, Value(scrape, "po_dispatcher_lag_events"));
        Assert.Equal(0, Value(scrape, "po_billing_dead_letters"));

        // Land them (as the lander would), a second batch, and compact the partition's two files.
        var log = api.Services.GetRequiredService<IEventLog>();
        var lander = api.Services.GetRequiredService<Lander>();
        using (var consumer = log.OpenConsumer("po-lander"))
        {
            Assert.Equal(5, await lander.LandBatchAsync(consumer, CancellationToken.None));
            await client.PostAsync("/v1/events", IngestApiFactory.Json([TestEvents.Assign(7, now)]));
            Assert.Equal(1, await lander.LandBatchAsync(consumer, CancellationToken.None));
        }

        var compactor = new LakeCompactor(api.Services.GetRequiredService<LakeLayout>(), new CompactionOptions { MinFiles = 2, MinFileAgeSeconds = 0 },
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<LakeCompactor>.Instance)
        {
            Metrics = api.Services.GetRequiredService<PoMetrics>(),
        };
        Assert.Contains(await compactor.CompactAsync("shop"), r => r.Merges == 1);
        await api.Services.GetRequiredService<BacklogMonitor>().RefreshAsync(CancellationToken.None);
        scrape = await ScrapeAsync();
        Assert.Equal(0, Value(scrape, "po_lander_lag_events"));
        Assert.Equal(0, Value(scrape, "po_lander_lag_oldest_age_seconds"));
        Assert.Equal(6, Value(scrape, "po_dispatcher_lag_events"));
        Assert.True(Value(scrape, "po_lake_compactions_total") >= 1, scrape);
        Assert.True(Value(scrape, "po_lake_compacted_files_total") >= 2, scrape);

        // A free tenant's 61st request in a minute is refused and counted.
        var (_, _, free) = await api.CreateTenantAsync(AdminKey, "Free shop", "free");
        using (free)
        {
            var refused = 0;
            for (var i = 0; i < 62; i++)
            {
                refused += (await free.GetAsync("/v1/experiments")).StatusCode == HttpStatusCode.TooManyRequests ? 1 : 0;
            }

            Assert.True(refused >= 1);
        }

        scrape = await ScrapeAsync();
        Assert.True(Value(scrape, "po_requests_rate_limited_total") >= 1, scrape);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "metrics, alone";
}
