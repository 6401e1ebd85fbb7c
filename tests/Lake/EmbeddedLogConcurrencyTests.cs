using PricingOptimizer.EventLog.Embedded;
using PricingOptimizer.Events;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Lake;

public sealed class EmbeddedLogConcurrencyTests : IDisposable
{
    private readonly TempDirectory temp = new();

    [Fact]
    public async Task Concurrent_appends_are_each_kept_once_in_one_gapless_order()
    {
        await using var log = new SqliteEventLog(Path.Combine(temp.Path, "eventlog.db"));
        var now = DateTimeOffset.UtcNow;
        var batches = Enumerable.Range(0, 64)
            .Select(b => Enumerable.Range(b * 7, 7).Select(i => new TenantEvent("t", now, TestEvents.Assign(i, now))).ToList())
            .ToList();
        await Task.WhenAll(batches.Select(batch => Task.Run(() => log.AppendAsync(batch, CancellationToken.None))));

        using var consumer = log.OpenConsumer("check");
        var read = await consumer.ReadAsync(10_000, TimeSpan.FromMilliseconds(200), CancellationToken.None);
        Assert.Equal(64 * 7, read.Count);
        Assert.Equal(Enumerable.Range(1, 64 * 7).Select(i => (long)i), read.Records.Select(r => r.Position));
        Assert.Equal(batches.SelectMany(b => b).Select(e => e.Event.EventId).Order(), read.Records.Select(r => r.Item.Event.EventId).Order());

        // Each batch stays contiguous: appends are atomic.
        foreach (var batch in batches)
        {
            var positions = batch.Select(e => read.Records.Single(r => r.Item.Event.EventId == e.Event.EventId).Position).ToList();
            Assert.Equal(Enumerable.Range((int)positions[0], batch.Count).Select(i => (long)i), positions);
        }
    }

    public void Dispose() => temp.Dispose();
}
