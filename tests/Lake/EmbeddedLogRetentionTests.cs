using Microsoft.Extensions.Time.Testing;
using PricingOptimizer.EventLog.Embedded;
using PricingOptimizer.Events;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Lake;

public sealed class EmbeddedLogRetentionTests : IDisposable
{
    private readonly TempDirectory temp = new();

    [Fact]
    public async Task Old_events_go_only_once_every_consumer_group_has_committed_them()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        await using var log = new SqliteEventLog(Path.Combine(temp.Path, "eventlog.db"), TimeSpan.FromDays(7), clock);
        var events = TestEvents.Mixed(10, clock.GetUtcNow()).Select(e => new TenantEvent("t", clock.GetUtcNow(), e)).ToList();
        await log.AppendAsync(events, CancellationToken.None);

        using var lander = log.OpenConsumer("lander");
        using var dispatcher = log.OpenConsumer("dispatcher");
        var landerBatch = await lander.ReadAsync(1000, TimeSpan.FromMilliseconds(100), CancellationToken.None);
        await lander.CommitAsync(landerBatch, CancellationToken.None);
        var firstHalf = await dispatcher.ReadAsync(events.Count / 2, TimeSpan.FromMilliseconds(100), CancellationToken.None);
        await dispatcher.CommitAsync(firstHalf, CancellationToken.None);

        clock.Advance(TimeSpan.FromDays(6));
        Assert.Equal(0, await log.PruneAsync(force: true, CancellationToken.None));

        clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(firstHalf.Count, await log.PruneAsync(force: true, CancellationToken.None));

        var rest = await dispatcher.ReadAsync(1000, TimeSpan.FromMilliseconds(100), CancellationToken.None);
        Assert.Equal(events.Skip(firstHalf.Count).Select(e => e.Event.EventId), rest.Records.Select(r => r.Item.Event.EventId));
        Assert.Equal(log.LastPosition(), rest.Records[^1].Position);
    }

    public void Dispose() => temp.Dispose();
}
