using PricingOptimizer.EventLog;
using PricingOptimizer.Events;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Events;

public sealed class EventCodecTests
{
    [Fact]
    public void Log_records_decode_to_exactly_what_was_encoded()
    {
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        foreach (var e in TestEvents.Mixed(30, now))
        {
            var item = new TenantEvent("tenant-a", now.AddTicks(7), e);
            var back = EventCodec.Decode(EventCodec.Encode(item));
            Assert.Equal(item.TenantId, back.TenantId);
            Assert.Equal(item.Event with { Properties = null }, back.Event with { Properties = null });
            Assert.Equal(item.Event.Properties?.OrderBy(p => p.Key), back.Event.Properties?.OrderBy(p => p.Key));
        }
    }

    [Fact]
    public void The_partition_key_keeps_one_users_events_together()
    {
        var now = DateTimeOffset.UtcNow;
        var assign = new TenantEvent("t", now, TestEvents.Assign(5, now));
        var convert = new TenantEvent("t", now, TestEvents.Convert(5, now));
        Assert.Equal("t/exp-1/user-5", EventCodec.PartitionKey(assign));
        Assert.Equal(EventCodec.PartitionKey(assign), EventCodec.PartitionKey(convert));
    }
}
