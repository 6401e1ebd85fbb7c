using Microsoft.Extensions.Logging.Abstractions;
using PricingOptimizer.EventLog;
using PricingOptimizer.EventLog.Embedded;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>A lake in a temporary folder that events are landed into through the embedded log and the real lander, batch by batch.</summary>
public sealed class LandedLake : IAsyncDisposable
{
    private readonly TempDirectory temp = new();
    private readonly SqliteEventLog log;
    private readonly Lander lander;
    private readonly IEventLogConsumer consumer;

    public LandedLake(string tenantId = "t")
    {
        TenantId = tenantId;
        log = new SqliteEventLog(Path.Combine(temp.Path, "eventlog.db"));
        Layout = new LakeLayout(Path.Combine(temp.Path, "lake"));
        lander = new Lander(log, Layout, new LanderOptions { BatchSize = 10_000, FlushIntervalMs = 10 }, NullLogger<Lander>.Instance);
        Queries = new LakeQueries(Layout, spillRoot: Path.Combine(temp.Path, "spill"));
        consumer = log.OpenConsumer("g");
    }

    public string TenantId { get; }

    public LakeLayout Layout { get; }

    public LakeQueries Queries { get; }

    /// <summary>Appends the events to the log and lands them as one new file.</summary>
    public async Task LandAsync(IEnumerable<PricingEvent> events, DateTimeOffset ingestedAt)
    {
        await log.AppendAsync([.. events.Select(e => new TenantEvent(TenantId, ingestedAt, e))], CancellationToken.None);
        await lander.LandBatchAsync(consumer, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        consumer.Dispose();
        Queries.Dispose();
        await log.DisposeAsync();
        temp.Dispose();
    }
}
