using PricingOptimizer.Events;

namespace PricingOptimizer.Lake;

/// <summary>An event as the lake holds it, with its partition columns.</summary>
public sealed record StoredEvent(string TenantId, DateOnly EventDate, PricingEvent Event, DateTimeOffset IngestedAt);

/// <summary>What the lake holds for one tenant (each event_id once).</summary>
public sealed record TenantEventCounts(
    string TenantId, long Events, long Assigns, long Converts, long Experiments, DateOnly FirstDate, DateOnly LastDate);

/// <summary>A log position found more than once in the lake.</summary>
public sealed record DuplicatePosition(string TenantId, string Source, long Position, long Copies, long Files);
