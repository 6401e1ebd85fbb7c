using Microsoft.Extensions.Logging.Abstractions;
using PricingOptimizer.EventLog;
using PricingOptimizer.EventLog.Embedded;
using PricingOptimizer.EventLog.Kafka;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Lake;

/// <summary>The lander's crash safety, against each event log.</summary>
public abstract class LanderCrashTests : IDisposable
{
    private const string Group = "test-lander";
    private readonly TempDirectory temp = new();

    protected abstract IEventLog CreateLog(string dataDirectory);

    protected LakeLayout Lake => new(Path.Combine(temp.Path, "lake"));

    private static List<TenantEvent> Backlog(DateTimeOffset now) =>
    [
        .. TestEvents.Mixed(900, now, "exp-a").Select(e => new TenantEvent("tenant-a", now, e)),
        .. TestEvents.Mixed(600, now, "exp-b").Select(e => new TenantEvent("tenant-b", now, e)),
    ];

    [Fact]
    public async Task Replay_after_a_crash_between_files_and_commit_counts_every_event_exactly_once()
    {
        var now = DateTimeOffset.UtcNow;
        var backlog = Backlog(now);
        await using var log = CreateLog(temp.Path);
        foreach (var chunk in backlog.Chunk(250))
        {
            await log.AppendAsync(chunk, CancellationToken.None);
        }

        var lander = new Lander(log, Lake, new LanderOptions { BatchSize = 700, FlushIntervalMs = 300, GroupId = Group }, NullLogger<Lander>.Instance);
        var landedBeforeCrash = 0;
        using (var first = log.OpenConsumer(Group))
        {
            landedBeforeCrash += await LandAtLeastOneBatchAsync(lander, first);
            var crashing = new CrashOnCommit(first);
            await Assert.ThrowsAsync<IOException>(() => LandAtLeastOneBatchAsync(lander, crashing));
            Assert.True(crashing.FilesWereWrittenBeforeCommit(Lake));
        }

        var filesAfterCrash = ParquetFiles();
        using (var second = log.OpenConsumer(Group))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            var landed = landedBeforeCrash;
            while (landed < backlog.Count && DateTime.UtcNow < deadline)
            {
                landed += await lander.LandBatchAsync(second, CancellationToken.None);
            }
        }

        using var queries = new LakeQueries(Lake);
        var counts = await queries.CountByTenantAsync(CancellationToken.None);
        Assert.Equal(backlog.Count(e => e.TenantId == "tenant-a"), counts.Single(c => c.TenantId == "tenant-a").Events);
        Assert.Equal(backlog.Count(e => e.TenantId == "tenant-b"), counts.Single(c => c.TenantId == "tenant-b").Events);
        Assert.Empty(await queries.FindDuplicatePositionsAsync(CancellationToken.None));
        Assert.Subset(ParquetFiles().ToHashSet(), filesAfterCrash.ToHashSet());
        Assert.DoesNotContain(Directory.EnumerateFiles(Lake.EventsRoot, "*", SearchOption.AllDirectories), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Files_follow_the_lake_layout_by_tenant_and_utc_date()
    {
        var now = new DateTimeOffset(2026, 11, 25, 0, 30, 0, TimeSpan.Zero);
        await using var log = CreateLog(temp.Path);
        var late = TestEvents.Assign(1, now) with { OccurredAt = new DateTimeOffset(2026, 11, 25, 0, 10, 0, TimeSpan.FromHours(2)) };
        await log.AppendAsync([new TenantEvent("tenant-x", now, late)], CancellationToken.None);
        var lander = new Lander(log, Lake, new LanderOptions { BatchSize = 10, FlushIntervalMs = 200, GroupId = Group }, NullLogger<Lander>.Instance);
        using var consumer = log.OpenConsumer(Group);
        await LandAtLeastOneBatchAsync(lander, consumer);

        var file = Assert.Single(ParquetFiles());
        var relative = Path.GetRelativePath(Lake.EventsRoot, file).Replace('\\', '/');
        Assert.Matches(@"^tenant_id=tenant-x/event_date=2026-11-24/(log|p\d+)-\d{20}\.parquet$", relative);
    }

    private static async Task<int> LandAtLeastOneBatchAsync(Lander lander, IEventLogConsumer consumer)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var n = await lander.LandBatchAsync(consumer, CancellationToken.None);
            if (n > 0)
            {
                return n;
            }
        }

        throw new TimeoutException("the log handed out nothing in 30 s");
    }

    [Fact]
    public async Task Lag_counts_the_events_the_group_has_not_committed_and_dates_the_oldest()
    {
        await using var log = CreateLog(temp.Path);
        Assert.Equal(new ConsumerLag(0, null), await log.LagAsync(Group, CancellationToken.None));

        var now = DateTimeOffset.UtcNow;
        var backlog = Backlog(now);
        var from = DateTimeOffset.UtcNow;
        foreach (var chunk in backlog.Chunk(250))
        {
            await log.AppendAsync(chunk, CancellationToken.None);
        }

        var lag = await log.LagAsync(Group, CancellationToken.None);
        Assert.Equal(backlog.Count, lag.Pending);
        // The embedded log keeps whole seconds.
        Assert.InRange(lag.OldestAppendedAt!.Value, from.AddSeconds(-1), DateTimeOffset.UtcNow);

        var lander = new Lander(log, Lake, new LanderOptions { BatchSize = 1000, FlushIntervalMs = 300, GroupId = Group }, NullLogger<Lander>.Instance);
        using var consumer = log.OpenConsumer(Group);
        var landed = 0;
        for (var tries = 0; landed < backlog.Count && tries < 100; tries++)
        {
            var batch = await lander.LandBatchAsync(consumer, CancellationToken.None);
            landed += batch;
            if (batch > 0)
            {
                Assert.Equal(backlog.Count - landed, (await log.LagAsync(Group, CancellationToken.None)).Pending);
            }
        }

        Assert.Equal(backlog.Count, landed);
        Assert.Equal(new ConsumerLag(0, null), await log.LagAsync(Group, CancellationToken.None));
        Assert.Equal(backlog.Count, (await log.LagAsync("another-group", CancellationToken.None)).Pending);
    }

    private List<string> ParquetFiles() =>
        Directory.Exists(Lake.EventsRoot) ? Directory.EnumerateFiles(Lake.EventsRoot, "*.parquet", SearchOption.AllDirectories).Order().ToList() : [];

    public void Dispose() => temp.Dispose();

    /// <summary>The process "dies" at the commit: files are written, the position is not.</summary>
    private sealed class CrashOnCommit(IEventLogConsumer inner) : IEventLogConsumer
    {
        private LogBatch? uncommitted;

        public Task<LogBatch> ReadAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken) =>
            inner.ReadAsync(maxEvents, maxWait, cancellationToken).ContinueWith(t => uncommitted = t.Result, TaskScheduler.Default);

        public Task CommitAsync(LogBatch batch, CancellationToken cancellationToken) => throw new IOException("simulated crash before commit");

        public bool FilesWereWrittenBeforeCommit(LakeLayout lake)
        {
            var first = uncommitted!.Records[0];
            var path = lake.FilePath(first.Item.TenantId, DateOnly.FromDateTime(first.Item.Event.OccurredAt.UtcDateTime), first.Source, first.Position);
            return File.Exists(path);
        }

        public void Dispose()
        {
        }
    }
}

public sealed class EmbeddedLanderCrashTests : LanderCrashTests
{
    protected override IEventLog CreateLog(string dataDirectory) => new SqliteEventLog(Path.Combine(dataDirectory, "eventlog.db"));
}

public sealed class KafkaLanderCrashTests(KafkaMockFixture kafka) : LanderCrashTests, IClassFixture<KafkaMockFixture>
{
    protected override IEventLog CreateLog(string dataDirectory) =>
        new KafkaEventLog(new KafkaOptions { BootstrapServers = kafka.BootstrapServers, Topic = kafka.NewTopic(), SessionTimeoutMs = 6000 },
            NullLogger<KafkaEventLog>.Instance);
}
